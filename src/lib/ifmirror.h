/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal interfaces of the ifmirror helper. Functions return 0 or a
 * negative errno; the commands turn that into one "ifmirror: ..." line.
 */
#ifndef IFMIRROR_H
#define IFMIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"
#include "spec.h"

struct nl_sock;
struct nl_msg;
struct nlattr;
struct nlmsghdr;

/* ---- nl.c: one rtnetlink socket, acks with the kernel's own reason ---- */
struct ifm_nl {
	struct nl_sock *sk;
	int err;            /* errno of the last failed request, positive */
	char extack[200];   /* the kernel's extended ack message, if any */
	unsigned long changes;  /* requests that changed kernel state */
	int rcvbuf;             /* the socket's receive buffer, bytes */
	unsigned char *rx;      /* where answers are read, IFM_NL_RX_N datagrams at once */
};

int ifm_nl_open(struct ifm_nl *nl);
/* The largest message either way: the kernel's dumps carry at most 32 KiB
 * (less its overhead) in one message, whatever the reader offers. */
#define IFM_NL_MSG_MAX 32768
/* A request of type/flags with room for payload bytes after the header
 * (at least a page); NULL if it cannot be had. */
struct nl_msg *ifm_nl_msg(int type, int flags, size_t payload);
void ifm_nl_close(struct ifm_nl *nl);
/* Sends msg (consumed) and waits for the ack: 0 or -errno (-ENOMEM for a
 * NULL msg: a request that could not be built). */
int ifm_nl_talk(struct ifm_nl *nl, struct nl_msg *msg);
/* Sends a dump request (consumed), calls cb for every answer: 0 or -errno;
 * -EINTR when the kernel marked the dump inconsistent (NLM_F_DUMP_INTR):
 * what cb got is not to be trusted, read it again. */
int ifm_nl_dump(struct ifm_nl *nl, struct nl_msg *msg,
		int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg);
/* The same for a request the caller built in place (header and fixed part);
 * its flags, seq and pid are set here. */
struct nlmsghdr;
int ifm_nl_dump_raw(struct ifm_nl *nl, struct nlmsghdr *req,
		    int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg);
/* How often a dump the kernel marked inconsistent is read in all; the last
 * is taken as it is (ip does the same, once). */
#define IFM_DUMP_TRIES 4
/* Sends a get request (consumed), calls cb for the answer: 0 or -errno. */
int ifm_nl_get(struct ifm_nl *nl, struct nl_msg *msg,
	       int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg);
/* strerror(-err), plus the kernel's message when it sent one. */
const char *ifm_nl_reason(const struct ifm_nl *nl, int err);

/* Many requests in flight; results[i] is 0 or -errno for the i-th added. */
struct nl_cb;
struct ifm_batch {
	struct ifm_nl *nl;
	uint32_t first_seq;
	unsigned int n, cap, acked, window, sent;
	int *results;
	bool broken;             /* acks were lost: nothing more is sent */
	unsigned char *out;      /* requests not sent yet, back to back: one sendmsg */
	size_t outlen, outcap;
};
int ifm_batch_init(struct ifm_batch *b, struct ifm_nl *nl);
int ifm_batch_add(struct ifm_batch *b, struct nl_msg *msg);   /* consumes msg; NULL: -ENOMEM */
int ifm_batch_finish(struct ifm_batch *b);                    /* waits for all */
void ifm_batch_free(struct ifm_batch *b);

/* ---- link.c ---- */
#define IFM_IFNAMSIZ 16
#define IFM_ALIAS_MAX 256     /* IFALIASZ: the kernel takes up to 255 bytes */
#define IFM_MAX_PORTS 16      /* ports of a collector */
struct ifm_link {
	int ifindex;
	char name[IFM_IFNAMSIZ];
	unsigned int flags;  /* IFF_* */
	int master;          /* ifindex of the bridge/bond it is a port of, 0 */
	int link;            /* IFLA_LINK in this namespace (a veth's peer, a VLAN's lower), 0 */
	unsigned int mtu;
	unsigned char operstate;     /* IF_OPER_* (RFC 2863), IFLA_OPERSTATE */
	bool is_bridge;
	char kind[16];       /* rtnl link kind: "bridge", "veth", "" ... */
	char alias[IFM_ALIAS_MAX];  /* IFLA_IFALIAS: ifmirror marks its devices there */
};

int ifm_link_get(struct ifm_nl *nl, const char *name, struct ifm_link *out);
int ifm_link_by_index(struct ifm_nl *nl, int ifindex, struct ifm_link *out);
/* All links of this network namespace; *out is malloc'ed. */
int ifm_link_list(struct ifm_nl *nl, struct ifm_link **out, size_t *n);
/* "up", "down" (administratively) or "no-carrier". */
const char *ifm_link_state(const struct ifm_link *l);
/* the RFC 2863 operational state as the kernel names it: "up", "down",
 * "lowerlayerdown", "dormant", "unknown", ... */
const char *ifm_link_operstate(const struct ifm_link *l);
/* has carrier (IFF_LOWER_UP): what mirred needs, besides IFF_UP */
bool ifm_link_carrier(const struct ifm_link *l);

/* ---- link.c: requests (the collector bridge, its sink and ports) ---- */
/* kind "bridge" (no STP, no snooping) or a sink kind ("dummy", "ifb") */
int ifm_link_create(struct ifm_nl *nl, const char *name, const char *kind, const char *alias);
/* an RTM_*LINK request for ifindex (0: by name, or a new link) */
struct nl_msg *ifm_link_msg(int type, int flags, int ifindex);
int ifm_link_delete(struct ifm_nl *nl, int ifindex);
int ifm_link_set_alias(struct ifm_nl *nl, int ifindex, const char *alias);
/* up, no ARP, no IPv6: the host adds nothing of its own to the link */
int ifm_link_quiet_up(struct ifm_nl *nl, const struct ifm_link *l);
/* port of bridge, no learning, flooding everything */
int ifm_port_attach(struct ifm_nl *nl, const struct ifm_link *port, int bridge);
int ifm_port_release(struct ifm_nl *nl, const struct ifm_link *port);

/* ---- state.c: the lock, and which qdiscs ifmirror created ---- */
int ifm_lock(void);             /* fd or -errno */
/* the same without waiting: -EWOULDBLOCK while another process holds it */
int ifm_lock_try(void);
void ifm_unlock(int fd);
/* `watch`'s own lock, one per namespace and run directory, held until the
 * process ends: its fd, or -EWOULDBLOCK with *holder the PID that holds it
 * (0: not known in this PID namespace), or -errno */
int ifm_watch_lock(pid_t *holder);
/* the lock let go, its file removed */
void ifm_watch_unlock(int fd);
/* What every changing command starts with: the socket and the lock (its
 * fd), or -errno, reported, with nothing left open. */
int ifm_begin(struct ifm_nl *nl);
/* the socket alone, for commands that only read: 0 or -errno, reported */
int ifm_begin_read(struct ifm_nl *nl);
void ifm_end(struct ifm_nl *nl, int lock);
/* deferred sessions (up --defer), completed by refresh */
struct ifm_session_spec;
int ifm_pending_add_spec(const struct ifm_session_spec *s);
int ifm_pending_add(const char *source, const char *dest, enum ifm_dir dir);
void ifm_pending_del(const char *source, const char *dest);  /* dest NULL: all */
int ifm_pending_each(int (*fn)(const struct ifm_session_spec *s, void *arg), void *arg);
/* nl.c: IFMIRROR_AVOID=clsact,matchall,...: kinds treated as absent (tests);
 * requests that would create one fail in nl.c as the kernel would fail them. */
bool ifm_avoid(const char *kind);

/* ---- hook.c: where filters hang (clsact, ingress, prio) ---- */
#define IFM_PRIO_MAJOR 0x1f1fU  /* the handle marks a prio root as ifmirror's */

struct ifm_qdiscs {
	char ingress_kind[16];   /* "clsact", "ingress" or "" */
	char root_kind[16];      /* "" when the dump showed no root qdisc */
	uint32_t root_handle;    /* 0: the kernel's default qdisc */
	/* the shared tc blocks a clsact (or ingress) qdisc hangs its hooks on,
	 * TCA_INGRESS_BLOCK/TCA_EGRESS_BLOCK; 0: a block of its own */
	uint32_t ingress_block, egress_block;
};

/*
 * Shared blocks: a config section with `shared = yes` hangs its filters once
 * on one block per direction, and each source joins by a clsact created with
 * ingress_block/egress_block (a block is named at creation only). Indexes in
 * [IFM_BLOCK_MIN, IFM_BLOCK_MAX] are ifmirror's: 0x1f1c0000, then the
 * section name's hash (15 bits) and the direction (egress: the low bit).
 */
#define IFM_BLOCK_MIN 0x1f1c0002U
#define IFM_BLOCK_MAX 0x1f1cffffU
uint32_t ifm_block_index(const char *section, enum ifm_dir dir);
bool ifm_block_ours(uint32_t block);
/* the shared block the hook of dir hangs on, 0: none (a block of its own) */
uint32_t ifm_hook_block(const struct ifm_qdiscs *q, enum ifm_dir dir);
/* a clsact whose hooks hang on these blocks (0: a block of its own), as a
 * message for batches */
struct nl_msg *ifm_clsact_shared_msg(int ifindex, uint32_t ingress_block, uint32_t egress_block);

struct ifm_hook_ops {
	const char *kind;
	/* the filter parent for a direction, 0 when this hook cannot carry it */
	uint32_t (*parent)(enum ifm_dir dir);
	int (*create)(struct ifm_nl *nl, int ifindex);
	int (*destroy)(struct ifm_nl *nl, int ifindex);
};

extern const struct ifm_hook_ops ifm_hook_clsact, ifm_hook_ingress, ifm_hook_prio;

int ifm_qdiscs_scan(struct ifm_nl *nl, int ifindex, struct ifm_qdiscs *q);
/* every device's qdiscs from one dump, by ifindex */
struct ifm_qdisc_map {
	struct ifm_qdiscs *q;
	int max;
};
int ifm_qdiscs_scan_all(struct ifm_nl *nl, struct ifm_qdisc_map *m);
const struct ifm_qdiscs *ifm_qdisc_map_get(const struct ifm_qdisc_map *m, int ifindex);
void ifm_qdisc_map_free(struct ifm_qdisc_map *m);
/* a qdisc message: TCA_KIND when kind is not NULL; NULL when out of memory */
struct nl_msg *ifm_qdisc_msg(int type, int flags, int ifindex, uint32_t parent,
			     uint32_t handle, const char *kind);
/* add (or delete) a clsact qdisc, as a message for batches */
struct nl_msg *ifm_clsact_msg(bool add, int ifindex);
/* The hook that holds filters of dir on this device now, or NULL. */
const struct ifm_hook_ops *ifm_hook_present(const struct ifm_qdiscs *q, enum ifm_dir dir);

/* ---- mirred.c: the mirror action and its ownership cookie ---- */
#define IFM_COOKIE_FROM_CONFIG 0x1   /* made by `apply`: it may remove it again */

struct ifm_cookie {          /* TCA_ACT_COOKIE, 16 bytes, the kernel keeps it */
	char magic[4];
	uint8_t version;
	uint8_t dir;             /* IFM_DIR_INGRESS or IFM_DIR_EGRESS */
	uint16_t flags;          /* IFM_COOKIE_* */
	uint32_t dest_ifindex;   /* at creation */
	uint32_t dest_hash;      /* ifm_name_hash(dest) at creation */
} __attribute__((packed));

struct ifm_action {
	bool is_mirred;
	bool is_police;          /* act_police: a copy budget's bucket (budget.c) */
	bool ours;               /* carries an ifmirror cookie */
	struct ifm_cookie cookie;
	int ifindex;             /* mirred target; 0 when it was deleted */
	int eaction;
	int control;             /* tc_mirred.action: what comes after the copy */
	uint32_t index;          /* the action's index (mirred, police) */
	uint64_t packets, bytes, drops, overlimits;
	/* police: its rate (bytes per second), burst (bytes, from its time),
	 * the filters bound to it */
	uint64_t police_bps;
	uint32_t police_burst, police_bindcnt;
};

/*
 * A copy budget by act_police: one action per budgeted destination, at
 * index IFM_POLICE_INDEX(dest's ifindex), shared by every filter that
 * mirrors there (all sessions into it draw from one bucket). It comes
 * before the mirred: conform goes on to the copy (TC_ACT_PIPE), exceed
 * skips it and classification goes on as after a copy (TC_ACT_UNSPEC); the
 * source's frame is never dropped by it.
 */
#define IFM_POLICE_INDEX(ifindex) ((IFM_BUDGET_MAJOR << 16) | ((uint32_t)(ifindex) & 0xffffU))
struct ifm_police {
	uint32_t index;
	uint64_t bps;            /* bytes per second */
	uint32_t burst;          /* bytes */
	uint32_t mtu;            /* the largest frame that may conform */
	struct ifm_cookie cookie;
};
/*
 * How the filters of a session draw from its destination's copy budget:
 * the police joined by index (has_police), or the bucket program as their
 * classifier (bucket_fd >= 0, bucket.c), or neither (no budget, or a
 * shaper on the device: nothing to join).
 */
struct ifm_budget_join {
	bool has_police;
	struct ifm_police pol;
	int bucket_fd;
};
#define IFM_BUDGET_JOIN_NONE ((struct ifm_budget_join){ .bucket_fd = -1 })

/* the police action (filters: with bind, so an existing one is joined, not
 * changed) as action prio of the list being built */
int ifm_police_put(struct nl_msg *msg, int prio, const struct ifm_police *p);

int ifm_mirred_put(struct nl_msg *msg, int attrtype, int target_ifindex,
		   const struct ifm_cookie *cookie);
/* a filter's action list: the police (when pol is not NULL), then the mirred */
int ifm_actions_put(struct nl_msg *msg, int attrtype, const struct ifm_police *pol,
		    int target_ifindex, const struct ifm_cookie *cookie);
/* Parses a nested action list; fills up to max, returns the count. */
int ifm_actions_parse(struct nlattr *acts, struct ifm_action *out, int max);
/* The mirred action a (by its index) carries cookie from now on, nothing
 * else of it changed, in one step (RTM_NEWACTION, NLM_F_REPLACE): no moment
 * with two copies or none. 0 or -errno. */
int ifm_mirred_set_cookie(struct ifm_nl *nl, const struct ifm_action *a,
			  const struct ifm_cookie *cookie);

/* ---- match.c: --match (libpcap) and --sample as classic BPF ---- */
#define IFM_EBADEXPR EBADMSG      /* a bad --match: a usage error, exit 2 */
struct sock_filter;
struct ifm_match {
	struct sock_filter *insns;   /* NULL: match everything */
	unsigned int len;
	unsigned int sample;         /* 1: every frame */
	char *expr;                  /* NULL: no expression */
	uint64_t hash;               /* of insns; 0 when there is no program */
};

/*
 * The most instructions of one program, its VLAN view and sampling block
 * included. The kernel takes 4096 (BPF_MAXINSNS), but a filter must also fit
 * in one netlink message of a dump, or nothing (tc, ifmirror) can see or
 * remove it: on 6.18 one of 4023 still does, 4024 not. 3968 leaves room for
 * kernels whose actions report more.
 */
#define IFM_MATCH_INSNS_MAX 3968
/* what: how errors name the option, e.g. "up: --match"; every error is
 * reported (-IFM_EBADEXPR for the expression, -ENOMEM, -ENOENT without
 * libpcap). Compiled expressions are kept for the life of the process. */
int ifm_match_build(const char *dev, const char *expr, unsigned int sample,
		    struct ifm_match *m, const char *what);
/* A front end's early check, before the lock: compiles (and keeps what
 * libpcap made of it, for ifm_match_build); reports errors only. */
int ifm_match_check(const char *expr, unsigned int sample, const char *what);
/* Compiles and keeps it, reporting nothing (libpcap's complaint comes when
 * the expression is used): for expressions read before the lock. */
void ifm_match_prepare(const char *expr);
void ifm_match_free(struct ifm_match *m);
uint64_t ifm_match_hash(const struct sock_filter *insns, unsigned int len);
unsigned int ifm_match_sample_of(const struct sock_filter *insns, unsigned int len);
bool ifm_match_has_expr(unsigned int len, unsigned int sample);
/* The expression text, by program hash, for status (state.c). */
int ifm_match_remember(const struct ifm_match *m);
bool ifm_match_recall(uint64_t hash, char *buf, size_t len);

/* ---- classifier.c: matchall, u32, bpf ---- */
struct ifm_cls_ops {
	const char *kind;
	uint32_t handle;          /* handle asked for on creation, 0: kernel's */
	int act_attr;             /* TCA_*_ACT inside TCA_OPTIONS */
	int options_max;          /* TCA_*_MAX */
	/* everything but the actions (u32's selector, bpf's program) */
	int (*put_match)(struct nl_msg *msg, const struct ifm_match *m);
	/* the next choice where the kernel lacks this kind, or NULL */
	const struct ifm_cls_ops *fallback;
};

extern const struct ifm_cls_ops ifm_cls_matchall, ifm_cls_u32, ifm_cls_bpf;
/* the first choice for a mirror of every frame (then its fallbacks) */
extern const struct ifm_cls_ops *const ifm_cls_mirror;
const struct ifm_cls_ops *ifm_cls_by_kind(const char *kind);

/* ---- session.c: ifmirror's filters on one device ---- */
struct ifm_filter {
	enum ifm_dir hook_dir;    /* the hook it was dumped from */
	uint32_t parent;
	uint16_t pref;
	uint32_t handle;          /* 0: the classifier instance of the pref itself */
	char kind[16];
	bool has_action;
	struct ifm_action act;    /* the first mirred action, or the first action */
	bool has_police;          /* a police action before it (a copy budget) */
	struct ifm_action police;
	uint64_t prog_hash;       /* bpf: hash of the classic program, else 0 */
	unsigned int prog_len;
	unsigned int sample;      /* bpf: 1 in N, else 1 */
	char bpf_name[48];        /* bpf: the program's name (eBPF only) */
	uint32_t bpf_id;          /* bpf: the eBPF program's id, 0: classic */
	uint32_t block;           /* on this shared block, not the device's own: 0 */
};

struct ifm_dev_tc {
	int ifindex;
	struct ifm_qdiscs q;
	struct ifm_filter *f;
	size_t nf, cap;
};

int ifm_dev_tc_scan(struct ifm_nl *nl, int ifindex, struct ifm_dev_tc *t);
/* the same with the qdiscs already known (from ifm_qdiscs_scan_all) */
int ifm_dev_tc_scan_known(struct ifm_nl *nl, int ifindex, const struct ifm_qdiscs *q,
			  struct ifm_dev_tc *t);
void ifm_dev_tc_free(struct ifm_dev_tc *t);
/* shared blocks' filters, each dumped once (a device on a shared block gets
 * copies of them, with block set) */
struct ifm_block_filters {
	uint32_t block;
	struct ifm_dev_tc t;
};
struct ifm_blocks {
	struct ifm_block_filters *b;
	size_t n, cap;
	/* where a device's filters are read before they are kept at their
	 * size: a scan of many devices reuses it (tc.c, keep_exact) */
	struct ifm_filter *scratch;
	size_t scratch_cap;
	/* NULL: every filter is kept; else only those it says yes to (status
	 * keeps its sessions' and snaplen marks: a fifth of a u32 dump) */
	bool (*keep)(const struct ifm_filter *f);
};
/* ifm_dev_tc_scan_known with a cache of shared blocks (NULL: none) */
int ifm_dev_tc_scan_blocks(struct ifm_nl *nl, int ifindex, const struct ifm_qdiscs *q,
			   struct ifm_dev_tc *t, struct ifm_blocks *cache);
/* a shared block's filters, read now (hook_dir dir, block set) */
int ifm_block_scan(struct ifm_nl *nl, uint32_t block, enum ifm_dir dir, struct ifm_dev_tc *t);
/* block.c: the one mirror a shared block carries, dir into dest with m
 * (the file's when from_config): kept when it is there, else added and
 * the block's older ones of ours removed after it (*replaced: there was
 * one). fresh: no device stays on the block (dry: nothing to read).
 * what: how messages name it. Reported. */
struct ifm_block_mirror {
	uint32_t block;
	enum ifm_dir dir;
	const struct ifm_link *dest;
	const struct ifm_match *m;
	bool from_config, dry, fresh;
	const char *what;
};
int ifm_block_mirror(struct ifm_nl *nl, const struct ifm_block_mirror *bm, bool *replaced);
void ifm_blocks_free(struct ifm_blocks *cache);
/* An ifmirror filter belongs to hook dir (u32 dumps show the other hook's too). */
bool ifm_filter_is_ours(const struct ifm_filter *f);
/* Lowest pref in [1, 0xffff] used by no filter on either hook. */
uint16_t ifm_pref_free(const struct ifm_dev_tc *t);
/* Any filter other than ifmirror's on the hook(s) of this qdisc? */
bool ifm_hooks_have_foreign(const struct ifm_dev_tc *t, enum ifm_dir dirs);
/* Any ifmirror filter left on these hooks? */
bool ifm_hooks_have_ours(const struct ifm_dev_tc *t, enum ifm_dir dirs);

/* join: the destination's budget (NULL: none); with a bucket, a session
 * without --match/--sample has the bucket as its classifier instead of cls */
int ifm_filter_add(struct ifm_nl *nl, int ifindex, uint32_t parent, uint16_t pref,
		   const struct ifm_cls_ops *cls, const struct ifm_match *m, int target_ifindex,
		   const struct ifm_cookie *cookie, const struct ifm_budget_join *join);
/* what a filter request carries besides its program: headers, kind, the
 * mirred action and its cookie (about 200 bytes), with room to spare */
#define IFM_FILTER_MSG_BASE 512
/* the same requests as messages, for batches; cookie NULL: the classifier
 * alone, without the mirror action (the kernel probe) */
struct nl_msg *ifm_filter_add_msg(int ifindex, uint32_t parent, uint16_t pref,
				  const struct ifm_cls_ops *cls, const struct ifm_match *m,
				  int target_ifindex, const struct ifm_cookie *cookie,
				  const struct ifm_budget_join *join);
/* Deletes filter f of scan t by its handle; a u32 filter alone in its pref's
 * table goes with its pref (u32 leaves an empty instance behind otherwise).
 * Never a pref that holds a filter or table of somebody else. */
struct nl_msg *ifm_filter_del_msg(const struct ifm_dev_tc *t, const struct ifm_filter *f);
int ifm_filter_del(struct ifm_nl *nl, const struct ifm_dev_tc *t, const struct ifm_filter *f);
/* Deletes a whole pref this very command took while it was free (undo). */
struct nl_msg *ifm_filter_del_pref_msg(int ifindex, uint32_t parent, uint16_t pref);
int ifm_filter_del_pref(struct ifm_nl *nl, int ifindex, uint32_t parent, uint16_t pref);
/* Removes qdiscs ifmirror created once nothing is attached to them any more. */
int ifm_hooks_tidy(struct ifm_nl *nl, int ifindex);

/* ---- snaplen.c: cut frames leaving a destination (eBPF on its egress) ---- */
bool ifm_filter_is_snaplen(const struct ifm_filter *f);
/* a copy budget's bucket holder (budget.c) */
bool ifm_filter_is_budget_holder(const struct ifm_filter *f);
/* a session's filter that draws from a bucket (its classifier) */
bool ifm_filter_is_bucket(const struct ifm_filter *f);
/* one of ifmirror's own programs on a destination's egress: snaplen, holder */
bool ifm_filter_is_devprog(const struct ifm_filter *f);
int ifm_snaplen_get(struct ifm_nl *nl, int ifindex, unsigned int *snaplen);
/* 0 removes it */
int ifm_snaplen_set(struct ifm_nl *nl, const struct ifm_link *dev, unsigned int snaplen);
/* ifmirror's own programs on a destination's egress (snaplen, a budget's
 * bucket): a clsact there, made and recorded where missing (*created);
 * what names the option in messages. Reported. */
int ifm_egress_clsact(struct ifm_nl *nl, const struct ifm_link *dev, const struct ifm_dev_tc *t,
		      const char *what, bool *created);
/* the clsact ifm_egress_clsact made (created), removed with its record,
 * after a failure */
void ifm_egress_clsact_undo(struct ifm_nl *nl, const struct ifm_link *dev, bool created);
/* program fd as a direct-action cls_bpf filter named name on its egress */
int ifm_egress_prog_attach(struct ifm_nl *nl, int ifindex, uint16_t pref, int fd,
			   const char *name);

/* ---- budget.c: --rate/--burst, a cap on what all copies into a device use ---- */
#define IFM_BUDGET_MAJOR 0x1f1bU  /* the handle marks a tbf root as ifmirror's budget */
struct ifm_budget_state {
	const char *how;          /* "police" (act_police on the mirror filters), "bucket"
	                           * (eBPF, bucket.c), "shaper" (tbf on the device); NULL:
	                           * no budget */
	bool shaper_too;          /* bucket: a tbf on the device as well, for the copies of
	                           * sessions that cannot draw from the bucket */
	uint64_t not_made;        /* bucket: copies over it never made (part of dropped) */
	unsigned long long bits;  /* per second */
	unsigned int burst;       /* bytes */
	uint64_t dropped;         /* copies dropped for the budget (all sessions into it) */
	uint64_t packets, bytes;  /* copies that passed it */
};
/* The budget of a collector bridge or tunnel (how NULL: none): status's
 * dropped_budget, for every front end and output. */
int ifm_budget_get(struct ifm_nl *nl, int ifindex, struct ifm_budget_state *out);
/* bits 0: removes ifmirror's budget; burst 0: ifm_burst_default(bits).
 * Refuses (-EBUSY) when a root qdisc of somebody else is on dev. Reported. */
int ifm_budget_set(struct ifm_nl *nl, const struct ifm_link *dev, unsigned long long bits,
		   unsigned int burst);
/* How the filters of a session into dest draw from its budget (*j; release
 * it after): police, or the bucket for a session without --match/--sample
 * (plain); for another session into a bucket, a shaper on dest is made too
 * (said so), as its copies cannot draw from the bucket; dry: not made, and
 * no program loaded either. 0 or -errno, reported. */
int ifm_budget_join(struct ifm_nl *nl, const struct ifm_link *dest, bool plain, bool dry,
		    struct ifm_budget_join *j);
void ifm_budget_join_release(struct ifm_budget_join *j);
/* Removes ifmirror's police actions that no filter uses and whose
 * destination is gone or has no police budget any more (after a kill -9,
 * a collector or tunnel removed under its sessions). Quiet; 0 or -errno. */
struct ifm_budget_release {
	uint32_t index;           /* a police whose filters were just removed */
	uint32_t bound;           /* how many filters still hold it then */
};
/* rel: police actions whose filters this command just removed: the kernel
 * lets go of them a little later (after an RCU grace period, from a work
 * queue), so those still bound beyond rel's count are waited for (at most a
 * second); all: every filter of ours is gone (flush), wait for each. */
int ifm_budget_gc(struct ifm_nl *nl, const struct ifm_budget_release *rel, size_t nrel,
		  bool all);

/* ---- bucket.c: a copy budget as an eBPF token bucket (no act_police) ---- */
struct ifm_bucket {
	int bucket_fd, cnt_fd;    /* the maps; -1: none */
	int holder_fd;            /* the holder program (ifm_bucket_new only), -1 */
};
struct ifm_bucket_state {
	unsigned long long bits;  /* per second; 0: no budget (every copy passes) */
	unsigned int burst;       /* bytes */
	uint64_t not_made;        /* copies over the budget, never made */
	uint64_t packets, bytes;  /* copies that passed it */
};
/* 0: the kernel loads the bucket's maps and program (eBPF, its atomics); -errno */
int ifm_bucket_probe(void);
/* that, found out once a process, and IFMIRROR_AVOID does not name "bucket" */
bool ifm_bucket_usable(void);
/* new maps at this rate and burst, and the holder program over them;
 * -errno (log: the verifier's words, when not NULL) */
int ifm_bucket_new(unsigned long long bits, unsigned int burst, struct ifm_bucket *k,
		   char *log, size_t loglen);
/* the maps of the holder program of this id; -ENOENT when it is not one */
int ifm_bucket_open(uint32_t holder_id, struct ifm_bucket *k);
void ifm_bucket_close(struct ifm_bucket *k);
/* a session's classifier over k's maps: a program fd, or -errno */
int ifm_bucket_program(const struct ifm_bucket *k, char *log, size_t loglen);
/* rate and burst from now on (bits 0: every copy passes) */
int ifm_bucket_set(const struct ifm_bucket *k, unsigned long long bits, unsigned int burst);
int ifm_bucket_read(const struct ifm_bucket *k, struct ifm_bucket_state *st);

/* reach.c: does a copy sent out of 'from' come back into 'to' (mirrors,
 * bridge ports, veth peers, VLANs)? */
bool ifm_reaches(struct ifm_nl *nl, int from, int to);
/* check.c: warnings (report sink) for a session just made: more mirrors in a
 * row than the kernel nests, copies larger than the way into dest takes;
 * from the view (and its graph) read before it was made */
struct ifm_view;
struct ifm_reach;
void ifm_session_warn(struct ifm_nl *nl, struct ifm_view *v, struct ifm_reach *g,
		      const struct ifm_link *source, const struct ifm_link *dest, enum ifm_dir dir);

/* ---- operations: 0 or -errno, errors reported (lock held) ---- */
struct ifm_session_spec {
	const char *source, *dest;
	enum ifm_dir dir;
	const char *match;       /* tcpdump expression, or NULL */
	unsigned int sample;     /* 1 in N; 0 or 1: every frame */
	bool from_config;        /* apply's: marked so, and taken over if it was not */
};
int ifm_mirror_up_spec(struct ifm_nl *nl, const struct ifm_session_spec *s);
/* a session without --match/--sample */
int ifm_mirror_up(struct ifm_nl *nl, const char *source, const char *dest,
		  enum ifm_dir dir);
int ifm_mirror_down(struct ifm_nl *nl, const char *source, const char *dest);
/* The same for a hook (ifdown, NetworkManager's down): a session the config
 * file took over (its cookie's apply flag) is the file's, and stays; one
 * line says so. */
int ifm_mirror_down_hook(struct ifm_nl *nl, const char *source, const char *dest);
struct ifm_collector_spec {
	const char *bridge;
	const char *ports[IFM_MAX_PORTS];
	int nports;
	const char *sink;        /* NULL: derived from the bridge's name */
	unsigned int snaplen;    /* 0: frames leave whole */
	unsigned long long rate; /* copy budget, bits per second; 0: none */
	unsigned int burst;      /* bytes; 0: derived from the rate */
};
int ifm_collector_up(struct ifm_nl *nl, const struct ifm_collector_spec *spec);
int ifm_collector_down(struct ifm_nl *nl, const char *bridge);
int ifm_refresh(struct ifm_nl *nl, const char *ifname);
/* Before the lock: compiles the --match of the sessions deferred until
 * ifname exists, so that ifm_refresh does not compile under the lock. */
void ifm_refresh_prepare(const char *ifname);

#include "marks.h"
#include "tunnel.h"

#endif
