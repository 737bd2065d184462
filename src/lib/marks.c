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
#include <sys/ioctl.h>
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

static void owned_forget(void);
static void making_forget(void);
static void subs_close(void);

void ifm_run_dir_use(int fd)
{
	owned_forget(); /* read again from the directory now in use */
	making_forget();
	subs_close();
	if (run_fd >= 0)
		close(run_fd);
	run_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
}

/*
 * The subdirectories, each opened and checked once and kept (until another
 * run directory is put to use): a command touches owned/ several times.
 */
static struct {
	char name[16];
	int fd;
} subs[8];
static int nsubs;

static void subs_close(void)
{
	while (nsubs > 0)
		close(subs[--nsubs].fd);
}

/* a descriptor of SUB (NULL: the run directory) that stays this module's */
static int run_sub_borrow(const char *sub, bool create)
{
	char what[600];
	int fd;

	if (run_fd < 0) {
		fd = ifm_run_dir_open(create);
		if (fd < 0)
			return fd;
		run_fd = fd;
	}
	if (!sub)
		return run_fd;
	for (int i = 0; i < nsubs; i++)
		if (!strcmp(subs[i].name, sub))
			return subs[i].fd;
	snprintf(what, sizeof(what), "%s/%s", ifm_run_dir(), sub);
	fd = open_dir_at(run_fd, sub, what, create);
	if (fd < 0 || nsubs == (int)(sizeof(subs) / sizeof(subs[0])) ||
	    strlen(sub) >= sizeof(subs[0].name))
		return fd; /* not kept: the caller's to close (never here) */
	snprintf(subs[nsubs].name, sizeof(subs[nsubs].name), "%s", sub);
	subs[nsubs].fd = fd;
	return subs[nsubs++].fd;
}

int ifm_run_subdir(const char *sub, char *path, size_t len)
{
	int fd = run_sub_borrow(sub, true);

	if (fd < 0)
		return fd;
	if (snprintf(path, len, "%s%s%s", ifm_run_dir(), sub ? "/" : "", sub ? sub : "") >=
	    (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int ifm_run_open(const char *sub, const char *name, int flags)
{
	bool create = flags & O_CREAT;
	struct stat st;
	int dfd = run_sub_borrow(sub, create), fd;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* a plain file with one name: no device, fifo, or hard link planted here */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return -EINVAL;
	}
	/* reads and writes block as usual from here */
	if (flags & (O_WRONLY | O_RDWR))
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
	int dfd = run_sub_borrow(sub, false);

	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int ifm_run_rename(const char *sub, const char *from, const char *to)
{
	int dfd = run_sub_borrow(sub, false);

	if (dfd < 0)
		return dfd;
	if (renameat(dfd, from, dfd, to) < 0)
		return -errno;
	return 0;
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
	int dfd = run_sub_borrow(sub, false), fd;
	DIR *d;

	if (dfd < 0)
		return NULL;
	/* a descriptor of its own, read from the start (a dup shares the offset) */
	fd = sub ? openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/* The names in SUB, each passed to fn, read with getdents64 on the kept
 * descriptor: no directory stream to set up. */
static void run_list(const char *sub, void (*fn)(const char *name, void *arg), void *arg)
{
	char buf[8192] __attribute__((aligned(8)));
	int dfd = run_sub_borrow(sub, false);
	ssize_t n;

	if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0)
		return;
	while ((n = getdents64(dfd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);

			off += de->d_reclen;
			if (de->d_type == DT_REG || de->d_type == DT_UNKNOWN)
				fn(de->d_name, arg);
		}
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
 * RUN_DIR/owned/NETNS holds one line per qdisc ifmirror created in that
 * namespace: "IFINDEX KIND NAME SYSFS-INODE". The file is replaced whole
 * (written aside, then renamed over it), so a reader sees the old list or
 * the new one, never half. A record is written before the qdisc is created,
 * so that a kill between the two leaves a record that the next command acts
 * on, and removed after the qdisc is deleted. A record counts only for the
 * same device (namespace, index, name, sysfs inode), and only while no
 * filter of somebody else's hangs on the qdisc (ifm_hooks_tidy), so a stale
 * record for a re-used ifindex does not make ifmirror delete a qdisc
 * somebody else created.
 *
 * Earlier versions kept one file per qdisc, RUN_DIR/owned/NETNS.IFINDEX.KIND
 * holding "NAME SYSFS-INODE": those are read as records too, and removed
 * once the list that holds them has been written (an upgrade on a running
 * host loses none).
 *
 * The list is read once and kept while the run directory stays the one in
 * use (ifm_run_dir_use, at every lock, starts afresh); ifm_owned_hold
 * gathers changes for one write (apply's and flush's batches).
 */
struct owned_rec {
	int ifindex;             /* 0: removed (skipped when written) */
	char kind[8];
	char dev[48];            /* "NAME INODE" */
};

static struct {
	struct owned_rec *r;
	size_t n, cap, live;
	size_t *slot;            /* hash of (ifindex, kind): index + 1 into r, 0 free */
	size_t nslot;
	char (*old)[64];         /* old-format files read, removed after the next write */
	size_t nold;
	bool loaded, dirty;
	int held;
} own;

static void owned_forget(void)
{
	free(own.r);
	free(own.slot);
	free(own.old);
	memset(&own, 0, sizeof(own));
}

static size_t owned_hash(int ifindex, const char *kind)
{
	return ((size_t)(unsigned)ifindex * 2654435761u + (kind[0] == 'i')) & (own.nslot - 1);
}

static struct owned_rec *owned_find(int ifindex, const char *kind)
{
	for (size_t h = own.nslot ? owned_hash(ifindex, kind) : 0; own.nslot && own.slot[h];
	     h = (h + 1) & (own.nslot - 1)) {
		struct owned_rec *r = &own.r[own.slot[h] - 1];

		if (r->ifindex == ifindex && !strcmp(r->kind, kind))
			return r;
	}
	return NULL;
}

static void owned_index(size_t i)
{
	size_t h = owned_hash(own.r[i].ifindex, own.r[i].kind);

	while (own.slot[h])
		h = (h + 1) & (own.nslot - 1);
	own.slot[h] = i + 1;
}

static int owned_add(int ifindex, const char *kind, const char *dev)
{
	if (own.n == own.cap) {
		size_t cap = own.cap ? own.cap * 2 : 64;
		struct owned_rec *r = realloc(own.r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		own.r = r;
		own.cap = cap;
	}
	if (2 * (own.n + 1) > own.nslot) {
		/* grown: every record indexed again (removed ones drop out) */
		size_t nslot = own.nslot ? own.nslot * 2 : 128, *slot = calloc(nslot, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		free(own.slot);
		own.slot = slot;
		own.nslot = nslot;
		for (size_t i = 0; i < own.n; i++)
			if (own.r[i].ifindex)
				owned_index(i);
	}
	own.r[own.n].ifindex = ifindex;
	snprintf(own.r[own.n].kind, sizeof(own.r[own.n].kind), "%s", kind);
	snprintf(own.r[own.n].dev, sizeof(own.r[own.n].dev), "%s", dev);
	owned_index(own.n++);
	own.live++;
	return 0;
}

/* removed in place: its slot stays, and never matches again */
static void owned_drop(struct owned_rec *r)
{
	r->ifindex = 0;
	own.live--;
}

/* one line "IFINDEX KIND NAME INODE" */
static void owned_parse_line(char *line)
{
	char kind[8], name[IF_NAMESIZE + 1], dev[48];
	unsigned long long ino;
	int ifindex;

	if (sscanf(line, "%d %7s %16s %llu", &ifindex, kind, name, &ino) != 4 || ifindex <= 0 ||
	    (strcmp(kind, "clsact") && strcmp(kind, "ingress")) || ifm_ifname_problem(name))
		return;
	snprintf(dev, sizeof(dev), "%s %llu", name, ino);
	if (!owned_find(ifindex, kind))
		owned_add(ifindex, kind, dev);
}

/* the old format: a file per qdisc, NETNS.IFINDEX.KIND holding "NAME INODE" */
static void owned_old_one(const char *name, void *arg)
{
	const char *prefix = arg;
	char kind[8], buf[64], *end;
	long ifindex;
	FILE *f;
	size_t n;

	if (strncmp(name, prefix, strlen(prefix)) || strlen(name) >= 64)
		return;
	ifindex = strtol(name + strlen(prefix), &end, 10);
	if (ifindex <= 0 || ifindex > INT32_MAX || *end != '.' ||
	    (strcmp(end + 1, "clsact") && strcmp(end + 1, "ingress")))
		return;
	snprintf(kind, sizeof(kind), "%s", end + 1);
	if (!(f = ifm_run_fopen("owned", name, false)))
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!owned_find((int)ifindex, kind) && owned_add((int)ifindex, kind, buf) < 0)
		return;
	if (!(own.nold % 16)) {
		char (*o)[64] = realloc(own.old, (own.nold + 16) * sizeof(*o));

		if (!o)
			return;
		own.old = o;
	}
	snprintf(own.old[own.nold++], 64, "%.63s", name);
}

static void owned_load_old(void)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%lu.", ifm_netns_id());
	run_list("owned", owned_old_one, prefix);
}

static void owned_load(void)
{
	char name[32], *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (own.loaded)
		return;
	own.loaded = true;
	snprintf(name, sizeof(name), "%lu", ifm_netns_id());
	if ((f = ifm_run_fopen("owned", name, false))) {
		while (getline(&line, &cap, f) > 0)
			owned_parse_line(line);
		free(line);
		fclose(f);
	}
	owned_load_old();
}

/* the caller's devices of the moment (marks.h) */
static bool (*own_listed)(int ifindex, void *arg);
static void *own_listed_arg;

void ifm_owned_listed(bool (*listed)(int ifindex, void *arg), void *arg)
{
	own_listed = listed;
	own_listed_arg = arg;
}

/*
 * Before each write: records of devices that are gone are dropped (their
 * qdiscs went with them), and the removed ones leave the array. A process
 * that lives long (watch, through taps made and deleted all day) would
 * otherwise keep and rewrite every record it ever made.
 */
static void owned_compact(void)
{
	/* the caller's list first: a watch following a burst of 1000 taps
	 * wrote the list of 1000 at each run, and asked the kernel about each
	 * record each time (an ioctl: a tenth of its CPU time, perf); one
	 * socket for the questions left (if_indextoname opens and closes one
	 * each time) */
	int sk = -2;
	size_t j = 0;

	for (size_t i = 0; i < own.n; i++) {
		struct ifreq q = { .ifr_ifindex = own.r[i].ifindex };
		bool gone;

		if (!own.r[i].ifindex)
			continue;
		if (own_listed && own_listed(own.r[i].ifindex, own_listed_arg)) {
			gone = false;
		} else {
			if (sk == -2)
				sk = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			gone = sk >= 0 ? ioctl(sk, SIOCGIFNAME, &q) < 0 && errno == ENODEV
				       : !if_indextoname((unsigned)own.r[i].ifindex, q.ifr_name) &&
					 errno == ENXIO;
		}
		if (gone) {
			own.r[i].ifindex = 0;
			own.live--;
		}
		if (own.r[i].ifindex)
			own.r[j++] = own.r[i];
	}
	own.n = j;
	if (sk >= 0)
		close(sk);
	if (own.nslot) {
		memset(own.slot, 0, own.nslot * sizeof(*own.slot));
		for (size_t i = 0; i < own.n; i++)
			owned_index(i);
	}
}

/* the list, written aside and renamed into place; an empty one goes */
static int owned_write(void)
{
	char name[32], tmp[40];
	FILE *f;
	int r = 0;

	owned_compact();
	snprintf(name, sizeof(name), "%lu", ifm_netns_id());
	if (!own.live) {
		r = ifm_run_unlink("owned", name);
	} else {
		snprintf(tmp, sizeof(tmp), ".%s.new", name);
		ifm_run_unlink("owned", tmp); /* a leftover of a kill: never written through */
		if (!(f = ifm_run_fopen("owned", tmp, true)))
			return -errno;
		for (size_t i = 0; i < own.n; i++)
			if (own.r[i].ifindex)
				fprintf(f, "%d %s %s\n", own.r[i].ifindex, own.r[i].kind,
					own.r[i].dev);
		r = fflush(f) == 0 ? 0 : -EIO;
		if (fclose(f) != 0 && r == 0)
			r = -EIO;
		if (r == 0)
			r = ifm_run_rename("owned", tmp, name);
		if (r < 0) {
			ifm_run_unlink("owned", tmp);
			return r;
		}
	}
	if (r < 0)
		return r;
	/* the old files' records are in the list now (or gone from it) */
	for (size_t i = 0; i < own.nold; i++)
		ifm_run_unlink("owned", own.old[i]);
	own.nold = 0;
	own.dirty = false;
	return 0;
}

/*
 * The device as the record names it: its name, and the inode of its sysfs
 * directory, which the kernel numbers afresh for every device it makes (0
 * where /sys shows another namespace's devices: checked once a process, on
 * the first device asked about that /sys shows, by its ifindex). A device
 * deleted and made again under the same index and name is another device.
 */
static int sysfs_fd = -2;           /* -2: not opened yet; -1: not this namespace's */

static bool device_id(int ifindex, const char *name, char *buf, size_t len)
{
	char dev[IF_NAMESIZE], path[64], idx[16] = "";
	unsigned long long ino = 0;
	struct stat st;

	if (!name) {
		if (!if_indextoname((unsigned)ifindex, dev))
			return false;
		name = dev;
	}
	if (sysfs_fd == -2) {
		int fd = open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC), f;
		ssize_t n = -1;

		snprintf(path, sizeof(path), "%s/ifindex", name);
		if (fd >= 0 && (f = openat(fd, path, O_RDONLY | O_CLOEXEC)) >= 0) {
			n = read(f, idx, sizeof(idx) - 1);
			close(f);
		}
		if (n > 0 && atoi(idx) == ifindex) {
			sysfs_fd = fd;
		} else {
			if (fd >= 0)
				close(fd);
			/* no such name there is no answer: the device may be gone
			 * already (deleted in a burst a watch follows); decided on
			 * the next one, this record without an inode */
			if (n > 0 || fd < 0)
				sysfs_fd = -1;
		}
	}
	if (sysfs_fd >= 0 && fstatat(sysfs_fd, name, &st, 0) == 0)
		ino = (unsigned long long)st.st_ino;
	snprintf(buf, len, "%s %llu", name, ino);
	return true;
}

void ifm_owned_hold(bool on)
{
	own.held += on ? 1 : -1;
}

int ifm_owned_sync(void)
{
	return own.dirty && own.held <= 0 ? owned_write() : 0;
}

int ifm_owned_set_dev(int ifindex, const char *name, const char *kind, bool owned)
{
	struct owned_rec *rec;
	char dev[48];
	int r;

	owned_load();
	rec = owned_find(ifindex, kind);
	if (!owned) {
		if (!rec)
			return 0;
		owned_drop(rec);
	} else {
		if (!device_id(ifindex, name, dev, sizeof(dev)))
			return -errno;
		if (rec && !strcmp(rec->dev, dev))
			return 0;
		if (rec)
			snprintf(rec->dev, sizeof(rec->dev), "%s", dev);
		else if ((r = owned_add(ifindex, kind, dev)) < 0)
			return r;
	}
	own.dirty = true;
	return ifm_owned_sync();
}

int ifm_owned_set(int ifindex, const char *kind, bool owned)
{
	return ifm_owned_set_dev(ifindex, NULL, kind, owned);
}

bool ifm_owned_dev(int ifindex, const char *name, const char *kind)
{
	struct owned_rec *rec;
	char dev[48];

	owned_load();
	rec = owned_find(ifindex, kind);
	return rec && device_id(ifindex, name, dev, sizeof(dev)) && !strcmp(rec->dev, dev);
}

bool ifm_owned(int ifindex, const char *kind)
{
	return ifm_owned_dev(ifindex, NULL, kind);
}

/* ---- links being made ---- */

/*
 * The kernel takes an alias only on a link that exists, so a bridge, sink or
 * tunnel exists for a moment without its mark. RUN_DIR/making/NETNS.NAME,
 * holding the link's kind, is written before the link is created and removed
 * once its alias is set: a link of that name and kind without an alias is
 * one ifmirror was making when it was killed.
 */
/* the names under making/ of this namespace, read once (as the owned list) */
static struct {
	char (*name)[IFM_IFNAMSIZ];
	size_t n;
	bool loaded;
} mk;

static void making_forget(void)
{
	free(mk.name);
	memset(&mk, 0, sizeof(mk));
}

static void making_one(const char *name, void *arg)
{
	const char *prefix = arg, *n = name + strlen(prefix);

	if (strncmp(name, prefix, strlen(prefix)) || strlen(n) >= IFM_IFNAMSIZ)
		return;
	if (!(mk.n % 16)) {
		char (*o)[IFM_IFNAMSIZ] = realloc(mk.name, (mk.n + 16) * sizeof(*o));

		if (!o)
			return;
		mk.name = o;
	}
	snprintf(mk.name[mk.n++], IFM_IFNAMSIZ, "%.15s", n);
}

static void making_load(void)
{
	char prefix[32];

	if (mk.loaded)
		return;
	mk.loaded = true;
	snprintf(prefix, sizeof(prefix), "%lu.", ifm_netns_id());
	run_list("making", making_one, prefix);
}

int ifm_making_set(const char *name, const char *kind, bool on)
{
	char rec[64];

	making_forget(); /* read again when next asked */
	snprintf(rec, sizeof(rec), "%lu.%s", ifm_netns_id(), name);
	return on ? record_write("making", rec, kind) : ifm_run_unlink("making", rec);
}

bool ifm_half_made(const char *name, const char *kind, const char *alias)
{
	char rec[64];
	bool listed = false;

	if (alias[0] || !kind[0])
		return false;
	making_load();
	for (size_t i = 0; i < mk.n && !listed; i++)
		listed = !strcmp(mk.name[i], name);
	snprintf(rec, sizeof(rec), "%lu.%s", ifm_netns_id(), name);
	return listed && record_is("making", rec, kind);
}
