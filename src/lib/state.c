// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the kernel cannot remember for us.
 *
 * The lock: ifupdown and NetworkManager run hooks in parallel; every command
 * that changes tc state holds an exclusive flock for its whole run.
 *
 * Deferred sessions and --match expressions, under the run directory
 * (marks.c owns the markers of owned qdiscs there).
 */
#include "marks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ifm_lock(void)
{
	char path[512];
	int fd, r;

	r = ensure_dir(ifm_run_dir());
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/lock", ifm_run_dir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

void ifm_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/*
 * Deferred sessions: `up --defer` while SOURCE or DEST does not exist yet
 * (ifupdown brings stanzas up in any order). `refresh` completes them when
 * the device appears. One file per session: "<netns>:<source>:<dest>"
 * (':' cannot occur in an interface name), holding the direction.
 */
static void pending_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/pending", ifm_run_dir());
}

int ifm_pending_add_spec(const struct ifm_session_spec *sp)
{
	char path[512];
	FILE *f;
	int r;

	r = ensure_dir(ifm_run_dir());
	pending_dir(path, sizeof(path));
	if (r == 0)
		r = ensure_dir(path);
	if (r < 0)
		return r;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%lu:%s:%s", ifm_netns_id(),
		 sp->source, sp->dest);
	if (sp->match && strlen(sp->match) > IFM_MATCH_MAX)
		return -ENAMETOOLONG; /* never recorded cut */
	f = fopen(path, "we");
	if (!f)
		return -errno;
	/*
	 * direction and sample one a line, then the expression whole to the end
	 * of the file (it may hold newlines: pcap takes them as white space),
	 * and one newline that the reader drops
	 */
	fprintf(f, "%s\n%u\n%s\n", ifm_dir_name(sp->dir), sp->sample ? sp->sample : 1,
		sp->match ? sp->match : "");
	return fclose(f) == 0 ? 0 : -EIO;
}

int ifm_pending_add(const char *source, const char *dest, enum ifm_dir dir)
{
	struct ifm_session_spec sp = { .source = source, .dest = dest, .dir = dir, .sample = 1 };

	return ifm_pending_add_spec(&sp);
}

int ifm_pending_each(int (*fn)(const struct ifm_session_spec *s, void *arg), void *arg)
{
	char dirpath[512], prefix[32], path[1024];
	struct dirent *de;
	DIR *d;
	int r = 0;

	pending_dir(dirpath, sizeof(dirpath));
	snprintf(prefix, sizeof(prefix), "%lu:", ifm_netns_id());
	d = opendir(dirpath);
	if (!d)
		return 0;
	while (r == 0 && (de = readdir(d))) {
		char source[IFM_IFNAMSIZ], dest[IFM_IFNAMSIZ], word[16] = "", num[16] = "";
		char expr[IFM_MATCH_MAX + 3];
		struct ifm_session_spec sp = { 0 };
		const char *rest, *colon;
		unsigned long sample;
		size_t n;
		FILE *f;

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		rest = de->d_name + strlen(prefix);
		colon = strchr(rest, ':');
		if (!colon || (size_t)(colon - rest) >= sizeof(source) ||
		    strlen(colon + 1) >= sizeof(dest))
			continue;
		snprintf(source, sizeof(source), "%.*s", (int)(colon - rest), rest);
		snprintf(dest, sizeof(dest), "%s", colon + 1);
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(word, sizeof(word), f) || !fgets(num, sizeof(num), f))
			word[0] = '\0';
		n = fread(expr, 1, sizeof(expr) - 1, f);
		fclose(f);
		expr[n] = '\0';
		word[strcspn(word, "\n")] = '\0';
		num[strcspn(num, "\n")] = '\0';
		if (n && expr[n - 1] == '\n')
			expr[--n] = '\0';
		/* a record that is not whole is skipped, never run cut */
		if (n > IFM_MATCH_MAX || strlen(expr) != n ||
		    !ifm_spec_number(num, 1, IFM_SAMPLE_MAX, &sample))
			continue;
		sp.sample = (unsigned int)sample;
		sp.source = source;
		sp.dest = dest;
		sp.dir = ifm_dir_parse(word);
		sp.match = expr[0] ? expr : NULL;
		if (sp.dir)
			r = fn(&sp, arg);
	}
	closedir(d);
	return r;
}

struct pending_match {
	const char *source, *dest;
};

static int pending_del_one(const struct ifm_session_spec *sp, void *arg)
{
	struct pending_match *m = arg;
	char path[512];

	if (strcmp(sp->source, m->source) || (m->dest && strcmp(sp->dest, m->dest)))
		return 0;
	pending_dir(path, sizeof(path));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%lu:%s:%s", ifm_netns_id(),
		 sp->source, sp->dest);
	unlink(path);
	return 0;
}

void ifm_pending_del(const char *source, const char *dest)
{
	struct pending_match m = { source, dest };

	ifm_pending_each(pending_del_one, &m);
}

/*
 * A classic BPF program cannot be turned back into the tcpdump expression it
 * came from, so `up` notes the expression under the program's hash; status
 * finds it by hashing the program the kernel reports.
 */
int ifm_match_remember(const struct ifm_match *m)
{
	char path[512];
	FILE *f;
	int r;

	if (!m->expr)
		return 0;
	r = ensure_dir(ifm_run_dir());
	snprintf(path, sizeof(path), "%s/match", ifm_run_dir());
	if (r == 0)
		r = ensure_dir(path);
	if (r < 0)
		return r;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%016llx",
		 (unsigned long long)m->hash);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fputs(m->expr, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

bool ifm_match_recall(uint64_t hash, char *buf, size_t len)
{
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/match/%016llx", ifm_run_dir(), (unsigned long long)hash);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0;
}

int ifm_begin_read(struct ifm_nl *nl)
{
	int r = ifm_nl_open(nl);

	if (r < 0)
		ifm_err("cannot open rtnetlink socket: %s", strerror(-r));
	return r;
}

int ifm_begin(struct ifm_nl *nl)
{
	int r = ifm_begin_read(nl), lock;

	if (r < 0)
		return r;
	lock = ifm_lock();
	if (lock < 0) {
		ifm_err("cannot take the lock in %s: %s", ifm_run_dir(), strerror(-lock));
		ifm_nl_close(nl);
	}
	return lock;
}

void ifm_end(struct ifm_nl *nl, int lock)
{
	ifm_unlock(lock);
	ifm_nl_close(nl);
}
