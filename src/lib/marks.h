/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every mark by which ifmirror knows what it made, in one place, so that
 * both programs read and write them alike:
 *   the action cookie          (mirror filters; mirred.c carries it)
 *   "ifmirror-collector ..."   the alias of a collector bridge: its sink, its ports
 *   "ifmirror-sink of BR"      the alias of a collector's always-up sink
 *   "ifmirror-tunnel ..."      the alias of a tunnel: its spec (tunnel.c writes the rest)
 *   "ifmirror-snaplen:N"       the name of the snaplen eBPF filter
 *   "ifmirror-budget"          the name of a copy budget's bucket holder (bucket.c)
 *   "ifmirror-bucket"          the name of a session's filter that draws from it
 *   RUN_DIR/owned/NETNS        the clsact and ingress qdiscs ifmirror created there
 */
#ifndef IFMIRROR_MARKS_H
#define IFMIRROR_MARKS_H

#include "ifmirror.h"

#include <dirent.h>
#include <stdio.h>

/* RUN_DIR: $IFMIRROR_RUN_DIR, else /run/ifmirror */
const char *ifm_run_dir(void);
/* this network namespace (its cookie, else its inode): ifindexes are per namespace */
unsigned long ifm_netns_id(void);
int ifm_run_subdir(const char *sub, char *path, size_t len);  /* made if missing */
/*
 * The run directory, checked: a directory, not a symlink, owned by root (or
 * the caller), not writable by group or others. ifm_run_dir_open: a new
 * descriptor of it (-errno, said why); ifm_run_dir_use: the one everything
 * below goes through from now (the locked one).
 */
int ifm_run_dir_open(bool create);
void ifm_run_dir_use(int fd);
/* SUB/NAME under the run directory (SUB NULL: the directory itself), no
 * symlink followed, a plain file only; made with O_CREAT in flags */
int ifm_run_open(const char *sub, const char *name, int flags);
FILE *ifm_run_fopen(const char *sub, const char *name, bool write);
int ifm_run_unlink(const char *sub, const char *name);
/* SUB/FROM to SUB/TO in one step (a link at TO is replaced, not followed) */
int ifm_run_rename(const char *sub, const char *from, const char *to);
bool ifm_run_exists(const char *sub, const char *name);
DIR *ifm_run_opendir(const char *sub);

/* ---- the action cookie ---- */
void ifm_cookie_make(struct ifm_cookie *c, enum ifm_dir dir, const struct ifm_link *dest);
bool ifm_cookie_is_ours(const struct ifm_cookie *c);

/* ---- collector bridge and sink ---- */
#define IFM_MARK_COLLECTOR "ifmirror-collector"
#define IFM_MARK_SINK "ifmirror-sink"
struct ifm_collector_mark {
	char sink[IFM_IFNAMSIZ];
	char ports[IFM_MAX_PORTS][IFM_IFNAMSIZ];
	int nports;
};
/* false: not a collector's alias */
bool ifm_collector_mark_parse(const char *alias, struct ifm_collector_mark *m);
/* "ifmirror-collector sink=S[ ports=A,B]" (ports: NULL for none yet);
 * -ENAMETOOLONG when it does not fit an alias */
int ifm_collector_mark_format(const char *sink, const char *const *ports, int nports,
			      char *buf, size_t len);
bool ifm_is_collector(const struct ifm_link *l);
/* br is an ifmirror collector whose alias names port */
bool ifm_collector_has_port(const struct ifm_link *br, const char *port);
/* the sink named in a collector's alias is name */
bool ifm_collector_sink_is(const struct ifm_link *br, const char *name);
/* the default sink of a bridge: the first 10 characters of its name + "-sink" */
void ifm_sink_default_name(const char *bridge, char out[IFM_IFNAMSIZ]);
void ifm_sink_mark(const char *bridge, char *buf, size_t len);
bool ifm_is_sink(const struct ifm_link *l);
bool ifm_is_sink_of(const struct ifm_link *l, const char *bridge);

/* ---- tunnel ---- */
#define IFM_MARK_TUNNEL "ifmirror-tunnel"
bool ifm_tunnel_mark_is(const char *alias);

/* ---- snaplen filter ---- */
void ifm_snaplen_mark(unsigned int snaplen, char *buf, size_t len);
/* the N of "ifmirror-snaplen:N", 0 when the name is not one */
unsigned int ifm_snaplen_mark_parse(const char *name);

/* ---- a copy budget's eBPF bucket (bucket.c) ---- */
#define IFM_MARK_BUDGET_HOLDER "ifmirror-budget"
#define IFM_MARK_BUDGET_BUCKET "ifmirror-bucket"

/* ---- qdiscs ifmirror created ---- */
/* written before the qdisc is created (write-ahead), removed after it goes;
 * _dev: the device's name given (NULL: asked of the kernel) */
int ifm_owned_set(int ifindex, const char *qdisc_kind, bool owned);
int ifm_owned_set_dev(int ifindex, const char *name, const char *qdisc_kind, bool owned);
bool ifm_owned(int ifindex, const char *qdisc_kind);
bool ifm_owned_dev(int ifindex, const char *name, const char *qdisc_kind);
/* while held, changes are kept for one write: ifm_owned_sync once released
 * (or before the requests they describe go out: hold, set, release, sync) */
void ifm_owned_hold(bool on);
int ifm_owned_sync(void);
/* the devices the caller read a moment ago (apply: its view), NULL: none.
 * Each write drops the records of devices that are gone; a listed device
 * is taken as there without asking the kernel (a stale yes keeps a record
 * one write longer: harmless, its name and inode no longer match) */
void ifm_owned_listed(bool (*listed)(int ifindex, void *arg), void *arg);

/* ---- links being made (bridge, sink, tunnel before their alias) ---- */
int ifm_making_set(const char *name, const char *kind, bool on);
/* a link without an alias, of a name and kind ifmirror was making */
bool ifm_half_made(const char *name, const char *kind, const char *alias);

#endif
