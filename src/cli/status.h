/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `ifmirror status` shows, read once (status_data.c) and then written
 * as text (status.c), JSON (status_json.c) or the Prometheus text format
 * (status_prom.c): sessions, collectors and tunnels.
 */
#ifndef IFMIRROR_STATUS_H
#define IFMIRROR_STATUS_H

#include "cli.h"
#include "view.h"

#include <stdint.h>
#include <stdio.h>

/* one mirror action of ifmirror (a session in one direction) */
struct st_session {
	const struct ifm_link *src;
	const struct ifm_link *dest;   /* NULL: gone (deleted) */
	unsigned int dest_ifindex;     /* the destination's, or the one it had */
	enum ifm_dir dir;
	uint64_t packets, bytes;       /* what the mirror action took, drops included */
	uint64_t dropped;              /* the action's overlimits: down, no carrier or gone */
	uint64_t budget_drops;         /* of dropped, those the copy budget took: the
	                                * destination has a budget and is up, so its
	                                * shaper is what refused them */
	struct ifm_budget_state budget;   /* the destination's, how NULL: none */
	char hook[16], classifier[16];
	unsigned int pref, sample;
	char *match;                   /* the --match expression's text, NULL: none */
	unsigned int snaplen;          /* the destination's, 0: none */
	unsigned int frame;            /* the largest frame it sends: source MTU, header, tag */
	uint32_t block;                /* on this shared tc block: the counters are the
	                                * block's, of all its devices together; 0: its own */
};

/* a port or the sink of a collector */
struct st_port {
	/* a copy: the collector's mark it came from moves when the list of
	 * collectors grows */
	char name[IFM_IFNAMSIZ];
	const struct ifm_link *l;      /* NULL: missing */
	bool attached;                 /* a port of the bridge now */
};

struct st_collector {
	const struct ifm_link *br;
	struct ifm_collector_mark mark;
	struct st_port sink;
	struct st_port ports[IFM_MAX_PORTS];
	int nports;
	struct ifm_budget_state budget;   /* how NULL: none */
};

struct st_tunnel {
	struct ifm_tunnel_info ti;
	const struct ifm_link *l;
	unsigned int frame;            /* the largest frame sent into it */
	const char *frame_from;        /* "sessions" or "mtu" (none mirrors into it) */
	int headroom_err;              /* 0, or why no headroom: -errno of ifm_tunnel_headroom */
	struct ifm_headroom h;
	long headroom;                 /* h.snaplen - frame: bytes to spare, < 0: cut or lost */
};

struct st_status {
	struct ifm_view v;             /* the links (v.links), qdiscs and filters */
	struct ifm_link *links;        /* = v.links */
	size_t nlinks;
	const struct ifm_link **by_index;   /* [ifindex], maxdev + 1 of them */
	int maxdev;
	struct ifm_dev_tc one;         /* `status SOURCE`: its filters alone */
	bool one_scanned;
	struct st_session *s;
	size_t ns;
	struct st_collector *c;
	size_t nc;
	struct st_tunnel *t;
	size_t nt;
};

/* reads it all; only: SOURCE of `status SOURCE` (its sessions; the
 * collector or tunnel of that name), or NULL. 0 or -errno, reported. */
int st_read(struct ifm_nl *nl, const char *only, struct st_status *st);
void st_free(struct st_status *st);
/* "up", "down", "no-carrier", or "gone" for a NULL link */
const char *st_state(const struct ifm_link *l);

void st_print_json(const struct st_status *st);
/* the Prometheus text exposition format, version 0.0.4 */
void st_print_prometheus(const struct st_status *st, FILE *out);
/* writes text into DIR/ifmirror.prom atomically: 0 or -1, reported */
int st_write_textfile(const char *dir, const char *text, size_t len);

#endif
