// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ownership marks: how ifmirror tells what it made from everybody else's,
 * written and read here only (see marks.h for the list).
 *
 * Owned qdiscs: a clsact or ingress qdisc carries no mark of who made it, so
 * ifmirror notes the ones it created under /run (gone at reboot, like the
 * qdiscs). A marker counts only while ifmirror filters hang on that qdisc
 * (see ifm_hooks_tidy), so a stale marker for a re-used ifindex never makes
 * ifmirror delete a qdisc somebody else created.
 */
#include "marks.h"

#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <sys/socket.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COOKIE_MAGIC "ifmr"
#define COOKIE_VERSION 1
#define SNAPLEN_PREFIX "ifmirror-snaplen:"

const char *ifm_run_dir(void)
{
	const char *d = getenv("IFMIRROR_RUN_DIR");

	return d && *d ? d : "/run/ifmirror";
}

/*
 * The run directory holds what decides what ifmirror deletes, so it must be
 * ours: a real directory (never a symlink), owned by root or by whoever runs
 * ifmirror, writable by nobody else. Everything under it is opened relative
 * to one checked descriptor, with O_NOFOLLOW, and must be a plain file.
 */
static int dir_checked(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		ifm_err("%s: not a directory; refusing to use it", what);
		return -ENOTDIR;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		ifm_err("%s: owned by uid %u, not root; refusing to use it", what,
			(unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ifm_err("%s: writable by group or others (mode %04o); refusing to use it", what,
			(unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* dirfd/name as a checked directory, made if create and missing */
static int open_dir_at(int dirfd, const char *name, const char *what, bool create)
{
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP || r == -ENOTDIR)
			ifm_err("%s: a symlink or not a directory; refusing to use it", what);
		return r;
	}
	if ((r = dir_checked(fd, what)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int ifm_run_dir_open(bool create)
{
	return open_dir_at(AT_FDCWD, ifm_run_dir(), ifm_run_dir(), create);
}

/* the run directory this process uses: the one it locked, else the first opened */
static int run_fd = -1;

void ifm_run_dir_use(int fd)
{
	if (run_fd >= 0)
		close(run_fd);
	run_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
}

static int run_sub(const char *sub, bool create)
{
	char what[600];

	if (run_fd < 0) {
		int fd = ifm_run_dir_open(create);

		if (fd < 0)
			return fd;
		run_fd = fd;
	}
	if (!sub)
		return fcntl(run_fd, F_DUPFD_CLOEXEC, 3);
	snprintf(what, sizeof(what), "%s/%s", ifm_run_dir(), sub);
	return open_dir_at(run_fd, sub, what, create);
}

int ifm_run_subdir(const char *sub, char *path, size_t len)
{
	int fd = run_sub(sub, true);

	if (fd < 0)
		return fd;
	close(fd);
	if (snprintf(path, len, "%s%s%s", ifm_run_dir(), sub ? "/" : "", sub ? sub : "") >=
	    (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int ifm_run_open(const char *sub, const char *name, int flags)
{
	bool create = flags & O_CREAT;
	struct stat st;
	int dfd = run_sub(sub, create), fd, r;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	r = fd < 0 ? -errno : 0;
	close(dfd);
	if (fd < 0)
		return r;
	/* a plain file with one name: no device, fifo, or hard link planted here */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return -EINVAL;
	}
	/* reads and writes block as usual from here */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

FILE *ifm_run_fopen(const char *sub, const char *name, bool write)
{
	int fd = ifm_run_open(sub, name, write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, write ? "w" : "r");
	if (!f)
		close(fd);
	return f;
}

int ifm_run_unlink(const char *sub, const char *name)
{
	int dfd = run_sub(sub, false), r = 0;

	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		r = -errno;
	close(dfd);
	return r;
}

int ifm_run_rename(const char *sub, const char *from, const char *to)
{
	int dfd = run_sub(sub, false), r = 0;

	if (dfd < 0)
		return dfd;
	if (renameat(dfd, from, dfd, to) < 0)
		r = -errno;
	close(dfd);
	return r;
}

bool ifm_run_exists(const char *sub, const char *name)
{
	int fd = ifm_run_open(sub, name, O_RDONLY);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

DIR *ifm_run_opendir(const char *sub)
{
	int fd = run_sub(sub, false);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/* ---- the action cookie ---- */

void ifm_cookie_make(struct ifm_cookie *c, enum ifm_dir dir, const struct ifm_link *dest)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->magic, COOKIE_MAGIC, sizeof(c->magic));
	c->version = COOKIE_VERSION;
	c->dir = (uint8_t)dir;
	c->dest_ifindex = (uint32_t)dest->ifindex;
	c->dest_hash = ifm_name_hash(dest->name);
}

bool ifm_cookie_is_ours(const struct ifm_cookie *c)
{
	return !memcmp(c->magic, COOKIE_MAGIC, sizeof(c->magic)) && c->version == COOKIE_VERSION;
}

/* ---- collector bridge and sink ---- */

static bool has_word(const char *alias, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(alias, word, n) && (alias[n] == ' ' || alias[n] == '\0');
}

bool ifm_collector_mark_parse(const char *alias, struct ifm_collector_mark *m)
{
	char buf[IFM_ALIAS_MAX], *save = NULL;

	memset(m, 0, sizeof(*m));
	if (!has_word(alias, IFM_MARK_COLLECTOR))
		return false;
	snprintf(buf, sizeof(buf), "%s", alias + strlen(IFM_MARK_COLLECTOR));
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		/* a name that is not whole (an alias cut short elsewhere) is
		 * skipped, never cut to a prefix that may name another device */
		if (!strncmp(w, "sink=", 5)) {
			if (!ifm_ifname_problem(w + 5))
				snprintf(m->sink, sizeof(m->sink), "%s", w + 5);
		} else if (!strncmp(w, "ports=", 6)) {
			char *s2 = NULL;

			for (char *p = strtok_r(w + 6, ",", &s2); p && m->nports < IFM_MAX_PORTS;
			     p = strtok_r(NULL, ",", &s2))
				if (!ifm_ifname_problem(p))
					snprintf(m->ports[m->nports++], IFM_IFNAMSIZ, "%s", p);
		}
	}
	return true;
}

int ifm_collector_mark_format(const char *sink, const char *const *ports, int nports,
			      char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s sink=%s", IFM_MARK_COLLECTOR, sink);

	if (ports && n < len)
		n += (size_t)snprintf(buf + n, len - n, " ports=");
	for (int i = 0; ports && i < nports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", ports[i]);
	return n < len && n < IFM_ALIAS_MAX ? 0 : -ENAMETOOLONG;
}

bool ifm_is_collector(const struct ifm_link *l)
{
	return l->is_bridge && has_word(l->alias, IFM_MARK_COLLECTOR);
}

bool ifm_collector_has_port(const struct ifm_link *br, const char *port)
{
	struct ifm_collector_mark m;

	if (!br->is_bridge || !ifm_collector_mark_parse(br->alias, &m))
		return false;
	for (int i = 0; i < m.nports; i++)
		if (!strcmp(m.ports[i], port))
			return true;
	return false;
}

bool ifm_collector_sink_is(const struct ifm_link *br, const char *name)
{
	struct ifm_collector_mark m;

	return ifm_is_collector(br) && ifm_collector_mark_parse(br->alias, &m) &&
	       !strcmp(m.sink, name);
}

void ifm_sink_default_name(const char *bridge, char out[IFM_IFNAMSIZ])
{
	snprintf(out, IFM_IFNAMSIZ, "%.10s-sink", bridge);
}

void ifm_sink_mark(const char *bridge, char *buf, size_t len)
{
	snprintf(buf, len, "%s of %s", IFM_MARK_SINK, bridge);
}

bool ifm_is_sink(const struct ifm_link *l)
{
	return !strncmp(l->alias, IFM_MARK_SINK, strlen(IFM_MARK_SINK));
}

bool ifm_is_sink_of(const struct ifm_link *l, const char *bridge)
{
	char want[64];

	ifm_sink_mark(bridge, want, sizeof(want));
	return !strcmp(l->alias, want);
}

/* ---- tunnel ---- */

bool ifm_tunnel_mark_is(const char *alias)
{
	return has_word(alias, IFM_MARK_TUNNEL);
}

/* ---- snaplen filter ---- */

void ifm_snaplen_mark(unsigned int snaplen, char *buf, size_t len)
{
	snprintf(buf, len, SNAPLEN_PREFIX "%u", snaplen);
}

unsigned int ifm_snaplen_mark_parse(const char *name)
{
	if (strncmp(name, SNAPLEN_PREFIX, strlen(SNAPLEN_PREFIX)))
		return 0;
	return (unsigned int)strtoul(name + strlen(SNAPLEN_PREFIX), NULL, 10);
}

/* ---- the network namespace ---- */

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/*
 * Network namespaces have their own ifindex space: records are keyed by the
 * namespace. Its cookie (Linux 5.14) is never reused while the machine is up;
 * a namespace's inode number is, so older kernels key by the inode.
 */
unsigned long ifm_netns_id(void)
{
	static unsigned long id;
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	struct stat st;
	int fd;

	if (id)
		return id;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0 &&
	    len == sizeof(cookie) && cookie)
		id = (unsigned long)cookie;
	else if (stat("/proc/self/ns/net", &st) == 0)
		id = (unsigned long)st.st_ino;
	if (fd >= 0)
		close(fd);
	return id;
}

/* ---- records: written before the thing they describe is made ---- */

static int record_write(const char *sub, const char *name, const char *text)
{
	FILE *f = ifm_run_fopen(sub, name, true);
	int r;

	if (!f)
		return -errno;
	fputs(text, f);
	r = fflush(f) == 0 ? 0 : -EIO;
	return fclose(f) == 0 ? r : -EIO;
}

static bool record_is(const char *sub, const char *name, const char *text)
{
	char buf[64] = "";
	FILE *f = ifm_run_fopen(sub, name, false);
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return !strcmp(buf, text);
}

/* ---- qdiscs ifmirror created ---- */

/*
 * RUN_DIR/owned/NETNS.IFINDEX.KIND holds the device's name and sysfs inode. It is written
 * before the qdisc is created, so that a kill between the two leaves a
 * record that the next command acts on, and removed after the qdisc is
 * deleted. A record counts only for the same device (namespace, index, name,
 * sysfs inode), and only while no filter of somebody else's hangs on the qdisc
 * (ifm_hooks_tidy), so a stale record for a re-used ifindex does not make
 * ifmirror delete a qdisc somebody else created.
 */
static void owned_name(char *buf, size_t len, int ifindex, const char *kind)
{
	snprintf(buf, len, "%lu.%d.%s", ifm_netns_id(), ifindex, kind);
}

/*
 * The device as the record names it: its name, and the inode of its sysfs
 * directory, which the kernel numbers afresh for every device it makes (0
 * where /sys shows another namespace's devices). A device deleted and made
 * again under the same index and name is another device.
 */
static bool device_id(int ifindex, char *buf, size_t len)
{
	char dev[IF_NAMESIZE], path[64], idx[16] = "";
	unsigned long long ino = 0;
	struct stat st;
	FILE *f;

	if (!if_indextoname((unsigned)ifindex, dev))
		return false;
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", dev);
	if ((f = fopen(path, "re"))) {
		if (fgets(idx, sizeof(idx), f) && atoi(idx) == ifindex) {
			snprintf(path, sizeof(path), "/sys/class/net/%s", dev);
			if (stat(path, &st) == 0)
				ino = (unsigned long long)st.st_ino;
		}
		fclose(f);
	}
	snprintf(buf, len, "%s %llu", dev, ino);
	return true;
}

int ifm_owned_set(int ifindex, const char *kind, bool owned)
{
	char name[128], dev[64];

	owned_name(name, sizeof(name), ifindex, kind);
	if (!owned)
		return ifm_run_unlink("owned", name);
	if (!device_id(ifindex, dev, sizeof(dev)))
		return -errno;
	return record_write("owned", name, dev);
}

bool ifm_owned(int ifindex, const char *kind)
{
	char name[128], dev[64];

	owned_name(name, sizeof(name), ifindex, kind);
	return device_id(ifindex, dev, sizeof(dev)) && record_is("owned", name, dev);
}

/* ---- links being made ---- */

/*
 * The kernel takes an alias only on a link that exists, so a bridge, sink or
 * tunnel exists for a moment without its mark. RUN_DIR/making/NETNS.NAME,
 * holding the link's kind, is written before the link is created and removed
 * once its alias is set: a link of that name and kind without an alias is
 * one ifmirror was making when it was killed.
 */
int ifm_making_set(const char *name, const char *kind, bool on)
{
	char rec[64];

	snprintf(rec, sizeof(rec), "%lu.%s", ifm_netns_id(), name);
	return on ? record_write("making", rec, kind) : ifm_run_unlink("making", rec);
}

bool ifm_half_made(const char *name, const char *kind, const char *alias)
{
	char rec[64];

	snprintf(rec, sizeof(rec), "%lu.%s", ifm_netns_id(), name);
	return !alias[0] && kind[0] && record_is("making", rec, kind);
}
