// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the kernel cannot remember for us.
 *
 * The lock: ifupdown and NetworkManager run hooks in parallel; every command
 * that changes tc state holds it for its whole run.
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
#include <stddef.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The lock is a flock on the run directory itself, taken through a checked
 * descriptor, then confirmed: the path must still name the directory locked,
 * else (removed, renamed, replaced by a symlink while we waited) it is taken
 * again on what the path names now. A directory removed while its holder
 * runs would let a second command lock a new one, so the holder also binds
 * an abstract unix socket named after the run directory, per network
 * namespace -- the kernel's tc state is per namespace, and the kernel drops
 * the name when the holder dies, kill -9 included. A second command in the
 * same namespace waits for that name whatever happened to the directory.
 */
static int name_fd = -1;

static int lock_name(bool wait)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t h = 1469598103934665603ULL;
	socklen_t len;
	int fd;

	for (const char *p = ifm_run_dir(); *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  (size_t)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
					   "ifmirror-lock:%016llx", (unsigned long long)h));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		if (errno != EADDRINUSE || !wait) {
			int r = errno == EADDRINUSE ? -EWOULDBLOCK : -errno;

			close(fd);
			return r;
		}
		usleep(20000);
	}
	return fd;
}

static int lock(bool wait)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat held, now;
		int fd = ifm_run_dir_open(true), r;

		if (fd < 0)
			return fd;
		while (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
			if (errno != EINTR) {
				r = -errno;
				close(fd);
				return r;
			}
		}
		if (fstat(fd, &held) == 0 && lstat(ifm_run_dir(), &now) == 0 &&
		    held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
			if ((r = lock_name(wait)) < 0) {
				flock(fd, LOCK_UN);
				close(fd);
				return r;
			}
			name_fd = r;
			ifm_run_dir_use(fd);
			return fd;
		}
		close(fd); /* replaced while we waited: lock what is there now */
	}
	return -EAGAIN;
}

int ifm_lock(void)
{
	return lock(true);
}

int ifm_lock_try(void)
{
	return lock(false);
}

void ifm_unlock(int fd)
{
	/* the run directory's descriptor kept for use shares the lock: a
	 * process that goes on (watch) must let it go explicitly */
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
	if (name_fd >= 0)
		close(name_fd);
	name_fd = -1;
}

/*
 * One watch per namespace and run directory: two would each remove the
 * other's sessions (each takes the sessions of `apply` for its own file's).
 * RUN_DIR/watch.NETNS carries a POSIX record lock (fcntl) for the watch's
 * whole life: the kernel drops it when the process ends, kill -9 included,
 * so there is never a stale PID file to judge, and F_GETLK names the
 * process that holds it. The holder never opens the file again (a close of
 * any descriptor of it would drop the lock), and removes it when it ends;
 * so a lock taken counts only while the path still names the file locked
 * (else it is taken again on what is there now).
 */
static void watch_lock_name(char *name, size_t len)
{
	snprintf(name, len, "watch.%lu", ifm_netns_id());
}

static bool watch_lock_current(int fd, const char *name)
{
	char path[4200];
	struct stat held, now;

	snprintf(path, sizeof(path), "%s/%s", ifm_run_dir(), name);
	return fstat(fd, &held) == 0 && lstat(path, &now) == 0 && held.st_dev == now.st_dev &&
	       held.st_ino == now.st_ino;
}

int ifm_watch_lock(pid_t *holder)
{
	char name[40];

	*holder = 0;
	watch_lock_name(name, sizeof(name));
	for (int tries = 0; tries < 100; tries++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = ifm_run_open(NULL, name, O_RDWR | O_CREAT), r;

		if (fd < 0)
			return fd;
		while ((r = fcntl(fd, F_SETLK, &fl)) < 0 && errno == EINTR)
			;
		if (r < 0) {
			r = errno == EACCES || errno == EAGAIN ? -EWOULDBLOCK : -errno;
			fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
			if (r == -EWOULDBLOCK && fcntl(fd, F_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK)
				*holder = fl.l_pid;
			close(fd);
			return r;
		}
		if (watch_lock_current(fd, name))
			return fd;
		close(fd); /* removed by the watch that ended: lock what is there now */
	}
	return -EAGAIN;
}

void ifm_watch_unlock(int fd)
{
	char name[40];

	if (fd < 0)
		return;
	watch_lock_name(name, sizeof(name));
	if (watch_lock_current(fd, name))
		ifm_run_unlink(NULL, name);
	close(fd);
}

/*
 * Deferred sessions: `up --defer` while SOURCE or DEST does not exist yet
 * (ifupdown brings stanzas up in any order). `refresh` completes them when
 * the device appears. One file per session: "<netns>:<source>:<dest>"
 * (':' cannot occur in an interface name), holding the direction.
 */
int ifm_pending_add_spec(const struct ifm_session_spec *sp)
{
	char name[128];
	FILE *f;

	if (sp->match && strlen(sp->match) > IFM_MATCH_MAX)
		return -ENAMETOOLONG; /* never recorded cut */
	snprintf(name, sizeof(name), "%lu:%s:%s", ifm_netns_id(), sp->source, sp->dest);
	f = ifm_run_fopen("pending", name, true);
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
	char prefix[32];
	struct dirent *de;
	DIR *d;
	int r = 0;

	snprintf(prefix, sizeof(prefix), "%lu:", ifm_netns_id());
	d = ifm_run_opendir("pending");
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
		f = ifm_run_fopen("pending", de->d_name, false);
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
	char name[128];

	if (strcmp(sp->source, m->source) || (m->dest && strcmp(sp->dest, m->dest)))
		return 0;
	snprintf(name, sizeof(name), "%lu:%s:%s", ifm_netns_id(), sp->source, sp->dest);
	ifm_run_unlink("pending", name);
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
	char name[32];
	FILE *f;

	if (!m->expr)
		return 0;
	snprintf(name, sizeof(name), "%016llx", (unsigned long long)m->hash);
	f = ifm_run_fopen("match", name, true);
	if (!f)
		return -errno;
	fputs(m->expr, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

bool ifm_match_recall(uint64_t hash, char *buf, size_t len)
{
	char name[32];
	size_t n;
	FILE *f;

	snprintf(name, sizeof(name), "%016llx", (unsigned long long)hash);
	f = ifm_run_fopen("match", name, false);
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
