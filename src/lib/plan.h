/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A whole mirror plan (what /etc/ifmirror.conf says), and the operations
 * that make the kernel match it (apply) or remove all ifmirror made (flush).
 */
#ifndef IFMIRROR_PLAN_H
#define IFMIRROR_PLAN_H

#include "ifmirror.h"

#define IFM_CONF_MAX_SOURCES 4096

struct ifm_conf_session {
	char name[64];
	int line, source_line, to_line, match_line;
	char **sources;          /* nsources names */
	int nsources;
	char **pats;             /* npats patterns and exclusions (spec.h), in order */
	int npats;
	char to[IFM_IFNAMSIZ];
	enum ifm_dir dir;
	char *match;
	unsigned int sample;
	bool shared;             /* shared = yes: one filter set on shared blocks */
	int shared_line;
};

struct ifm_conf_collector {
	char name[IFM_IFNAMSIZ];
	int line;
	char *ports[IFM_MAX_PORTS];
	int nports;
	char sink[IFM_IFNAMSIZ];
	unsigned int snaplen;
	unsigned long long rate;     /* copy budget, bits per second; 0: none */
	unsigned int burst;          /* 0: derived from the rate */
	int burst_line;
};

#define IFM_TUNNEL_MAX_IDS 64

/* one (source, direction) with an id of its own: its own tunnel device */
struct ifm_conf_tunnel_id {
	char source[IFM_IFNAMSIZ];
	enum ifm_dir dir;
	unsigned long id;
};

struct ifm_conf_tunnel {
	char name[IFM_IFNAMSIZ];
	int line, id_line, ids_line;
	char type[16];
	char remote[64], local[64];
	char dev[IFM_IFNAMSIZ];
	char id_key[16];         /* the type's id key ("vni", "key", ...) or "" */
	unsigned long id;
	unsigned int dstport, snaplen;
	struct ifm_conf_tunnel_id ids[IFM_TUNNEL_MAX_IDS];   /* "ids =" */
	int nids;
	char of[IFM_IFNAMSIZ];   /* made by apply for one of of's ids; "": written in the file */
	unsigned long long rate;     /* copy budget, bits per second; 0: none */
	unsigned int burst;          /* 0: derived from the rate */
	int burst_line;
	unsigned int version, hwid;  /* erspan's; version 0: 1 */
	enum ifm_dir erspan_dir;     /* a per-id device of version 2 whose ids are all egress */
	bool has_hwid;
	int version_line, hwid_line;
};

struct ifm_config {
	char path[512];
	struct ifm_conf_session *sessions;
	struct ifm_conf_collector *collectors;
	struct ifm_conf_tunnel *tunnels;
	int nsessions, ncollectors, ntunnels;
	int cap_sessions, cap_collectors, cap_tunnels;
};

struct ifm_apply_result {
	int sessions, added, changed, removed;
	int loops;               /* devices of patterns skipped: they would loop */
};
/* -EINVAL: the plan does not fit this host; -ELOOP: it would loop; -EIO: some
 * sessions failed (each error reported) */
int ifm_apply(struct ifm_nl *nl, struct ifm_config *c, bool dry, struct ifm_apply_result *res);
/* tunnel_ids.c: the device NAME-ID of a tunnel's id; -ENAMETOOLONG when
 * it would not fit in 15 bytes (never cut) */
int ifm_tunnel_id_name(const char *tunnel, unsigned long id, char *buf, size_t len);
/* the file's tunnel named name, or NULL */
const struct ifm_conf_tunnel *ifm_conf_tunnel_named(const struct ifm_config *c, const char *name);
/* the device a source's copies in one direction (not both) go to, when the
 * tunnel to gives that (source, direction) an id of its own; else NULL */
const char *ifm_tunnel_id_dest(const struct ifm_config *c, const char *to, const char *source,
			       enum ifm_dir dir, char *buf, size_t len);
/* append a tunnel (of = its tunnel) for each id of each tunnel of the file */
int ifm_tunnel_ids_expand(struct ifm_config *c);
/* remove the per-id devices of the file's tunnels that the file no longer gives */
int ifm_tunnel_ids_prune(struct ifm_nl *nl, const struct ifm_config *c, bool dry, int *removed);
/* The same engine for the sessions of some sources only (only[n], ifindexes,
 * sorted), which `watch` runs for the devices an event named: the links are
 * the ones given (links[nlinks]: what watch knows from the events, no dump),
 * the qdiscs read whole, filters only on those sources and their
 * destinations; tunnels and collectors are not touched. -EAGAIN, with
 * nothing changed: it cannot be decided from there (a destination still to
 * be made, or a loop check that passed a device whose filters were not
 * read): run ifm_apply. */
int ifm_apply_scoped(struct ifm_nl *nl, struct ifm_config *c, const struct ifm_link *links,
		     size_t nlinks, const int *only, size_t n, struct ifm_apply_result *res);
int ifm_flush(struct ifm_nl *nl, int *sessions, int *devices);

#endif
