/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifmirror-nm profile: between the command (profile.c) and native mode (native.c). */
#ifndef IFMIRROR_NM_PROFILE_H
#define IFMIRROR_NM_PROFILE_H

#include "client.h"

#define PARENT_INGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)   /* ffff:fff2 */
#define PARENT_EGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)     /* ffff:fff3 */

struct opts {
	const char *conn;
	char *to[NMM_MAX_DEST];
	int nto;
	char *to_bufs[NMM_MAX_DEST];
	enum ifm_dir dir;             /* 0: keep the profile's, else both */
	enum nmm_mode mode;
	enum nmm_output out;
	const char *keyfile;
	const char *match;            /* --match: only the dispatcher can carry it */
	unsigned int sample;          /* --sample: likewise */
	bool remove, quiet;
};

enum obstacle {
	OK_NATIVE,
	HOST,        /* this kernel or this NM cannot carry it: activation would fail */
	EXPRESS,     /* NM's tc setting cannot say it */
	RISK,        /* it would work now, but could fail an activation later or delete tc */
	MISSING,     /* DEST does not exist now: activation would fail now */
};

struct ctx {
	struct opts *o;
	NMClient *client;
	NMRemoteConnection *rc;
	char *name;                /* the connection's id */
	char *iface;               /* its interface, may be NULL */
	struct nmm_config cur;     /* its ifmirror.* data now */
	NMConnection *bare;        /* the profile without ifmirror's part */
	char *dests[NMM_MAX_DEST]; /* the sessions wanted */
	int ndest;
	enum ifm_dir dir;
};

bool nmm_listed(char *const *names, int n, const char *name);

/* ---- the tc setting native mode writes ---- */
void nmm_strip_native(NMConnection *conn, char *const *dests, int ndest, const char *added);
const char *nmm_tc_conflict(NMConnection *conn, char *buf, size_t len);
int nmm_add_native(NMConnection *conn, const char *dest, enum ifm_dir dir, char *added,
		   size_t addedlen);
char *nmm_tc_list(NMConnection *conn, bool qdiscs);
bool nmm_tc_equal(NMConnection *a, NMConnection *b);

/* ---- the choice of mode ---- */
enum obstacle nmm_native_obstacle(struct ctx *c, char *why, size_t len);

#endif
