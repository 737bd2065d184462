/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ifmirror-nm: the NetworkManager front end of ifmirror. It links the core
 * (ifm_core) and calls it in-process; it never runs ifmirror, tc, ip or a
 * shell.
 *
 *   profile    a mirror in a connection profile: native (NM's own tc
 *              setting) or dispatcher (user data, applied by `dispatch`)
 *   collector  NM profiles for a failover collector bridge
 *   dispatch   the executor behind the NetworkManager dispatcher script
 */
#ifndef IFMIRROR_NM_H
#define IFMIRROR_NM_H

#include <stdbool.h>

#include "ifmirror.h"

/* ---- the user data keys (NMSettingUser) ---- */
#define NMM_KEY_TO "ifmirror.to"                 /* "DEST [DEST]..." */
#define NMM_KEY_DIRECTION "ifmirror.direction"   /* both | ingress | egress */
#define NMM_KEY_MATCH "ifmirror.match"           /* tcpdump expression */
#define NMM_KEY_SAMPLE "ifmirror.sample"         /* one frame in N */
#define NMM_KEY_MODE "ifmirror.mode"             /* dispatcher (default) | native */
#define NMM_KEY_NATIVE "ifmirror.native"         /* what native mode added to tc:
						    setting | qdisc | filters */
#define NMM_KEY_COLLECTOR "ifmirror.collector"   /* bridge profile: "PORT [PORT]..." */
#define NMM_KEY_SINK "ifmirror.sink"             /* its always-up port's name */
#define NMM_KEY_SINKKIND "ifmirror.sinkkind"     /* profile: an NM dummy profile;
						    ifmirror: the dispatcher makes it */

#define NMM_MAX_DEST 16
#define NMM_MAX_PORTS 16

enum nmm_mode { NMM_MODE_AUTO, NMM_MODE_DISPATCHER, NMM_MODE_NATIVE };

/* What a profile's user data says. Strings point into buf/owned copies. */
struct nmm_config {
	bool any;                       /* some ifmirror.* key is present */
	char *to[NMM_MAX_DEST];
	int nto;
	enum ifm_dir dir;               /* 0: not given (both) */
	char *match;                    /* NULL: every frame */
	unsigned int sample;            /* 0 or 1: every frame */
	enum nmm_mode mode;             /* DISPATCHER unless "native" */
	char native_added[16];          /* "", "setting", "qdisc", "filters" */
	char *ports[NMM_MAX_PORTS];
	int nports;
	char sink[IFM_IFNAMSIZ];
	char sinkkind[16];
	char *to_buf, *ports_buf;
};

/* lookup(key, arg): the value of a user data key, or NULL */
typedef const char *(*nmm_lookup_fn)(const char *key, void *arg);

/*
 * Reads the ifmirror.* keys. iface (may be NULL) is the interface the profile
 * belongs to: a destination equal to it is an error. Errors are printed as
 * "ifmirror-nm: WHAT: key 'value': reason" and make the function return -1,
 * the config then holds what was valid.
 */
int nmm_config_read(struct nmm_config *c, nmm_lookup_fn lookup, void *arg, const char *what,
		    const char *iface);
void nmm_config_free(struct nmm_config *c);
/* splits "a b,c" into names; checks each; -1 with an error printed */
int nmm_split_names(const char *what, const char *key, const char *value, char **buf,
		    char **out, int max, int *n, const char *iface);
const char *nmm_mode_name(enum nmm_mode m);

/* NM's dispatcher encoding of a user key: CONNECTION_USER_IFMIRROR__TO */
void nmm_env_name(const char *key, char *buf, size_t len);

/* ---- the sessions a connection's dispatcher run applied (/run/ifmirror/nm) ---- */
struct nmm_record {
	char iface[IFM_IFNAMSIZ];
	char dest[NMM_MAX_DEST][IFM_IFNAMSIZ];
	int ndest;
	char bridge_sink[IFM_IFNAMSIZ];  /* a sink the dispatcher created for a collector */
};
bool nmm_record_read(const char *uuid, struct nmm_record *r);
int nmm_record_write(const char *uuid, const struct nmm_record *r);
void nmm_record_delete(const char *uuid);

/* ---- probe.c: what this kernel has, asked in a scratch network namespace ---- */
struct nmm_kernel {
	bool probed;      /* false: could not ask (not root?) */
	bool clsact, matchall, dummy;
	char why[160];    /* why it could not probe */
};
void nmm_probe_kernel(struct nmm_kernel *k);

/* ---- trust.c: root takes ifmirror data only from profiles root controls ---- */
/* The file a profile is stored in, opened (O_NOFOLLOW) when it is a regular
 * file owned by root and not group/other-writable, in a directory likewise:
 * the descriptor, or -1 with the reason in why ("its file X is ...") */
int nmm_profile_file_open(const char *path, char *why, size_t len);

/* ---- commands ---- */
int nmm_cmd_profile(int argc, char *argv[]);
int nmm_cmd_collector(int argc, char *argv[]);
int nmm_cmd_dispatch(int argc, char *argv[]);

#endif
