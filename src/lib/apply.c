// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * apply makes the kernel match the file: tunnels and collectors first, then
 * the sessions; it removes the sessions an earlier apply made (their cookie
 * says so) that the file no longer names, and touches nothing else. It runs
 * in one process over one netlink socket: one dump of the links, one of all
 * qdiscs, filter dumps only for devices that have hooks, and new sessions go
 * out as one pipelined batch. Sessions that exist but differ take the same
 * path as `ifmirror up`.
 */
#include "pattern.h"
#include "plan.h"
#include "reach.h"
#include "scope.h"
#include "view.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

struct want {
	const struct ifm_conf_session *cs;
	const char *source;
	int src, dst;                  /* ifindex; dst 0 until the device exists */
	int dst_node;                  /* in the loop check: dst, or the file's device */
	const char *dst_name;
	enum ifm_dir dir;              /* the session's, or one of its two (per-id tunnels) */
	/* JOIN: a clsact on the section's shared blocks (its filters are the
	 * blocks'); SKIP: refused, reported */
	enum { KEEP, FAST, SLOW, JOIN, SKIP } how;
	bool shared;                   /* on the section's shared blocks */
	uint32_t blk_in, blk_eg;       /* shared: the blocks of its directions, 0: none */
	bool pattern;                  /* matched by a pattern: skipped, not refused */
	struct ifm_match m;
	uint16_t pref;
	unsigned int first_result;     /* in the batch */
	int nresults;
	/* how its filters draw from dst's copy budget; join_own: this one's
	 * bucket program, released after the batch (others share it) */
	struct ifm_budget_join join;
	bool join_own;
};


struct apply_ctx {
	struct ifm_nl *nl;
	struct ifm_config *c;
	bool dry;
	struct ifm_view v;
	struct want *w;
	int nw;
	struct ifm_expansion x;        /* what the patterns match */
	int added, removed, changed, failed, loops;
	/* scoped (watch): only the sessions of these sources (ifindexes, sorted) */
	bool scoped;
	const int *only;
	size_t nonly;
	const struct ifm_link *links;  /* scoped: the links known, instead of a dump */
	size_t nlinks;
};

static bool in_scope(const struct apply_ctx *a, int ifindex)
{
	return !a->scoped || ifm_index_listed(a->only, a->nonly, ifindex);
}

static bool in_file_as_device(const struct ifm_config *c, const char *name)
{
	for (int i = 0; i < c->ncollectors; i++)
		if (!strcmp(c->collectors[i].name, name))
			return true;
	for (int i = 0; i < c->ntunnels; i++)
		if (!strcmp(c->tunnels[i].name, name))
			return true;
	return false;
}

static void set_dest(struct apply_ctx *a, struct want *w, const char *name)
{
	const struct ifm_conf_tunnel *t = ifm_conf_tunnel_named(a->c, name);
	const struct ifm_link *l;

	w->dst_name = t ? t->name : w->cs->to;
	l = ifm_view_link(&a->v, w->dst_name);
	w->dst = l ? l->ifindex : 0;
}

/*
 * A source whose tunnel gives it ids of its own (tunnel_ids.c): its copies
 * go to the per-id devices, a session of both directions split in two when
 * each has its own.
 */
static void split_ids(struct apply_ctx *a)
{
	int n = a->nw;

	for (int i = 0; i < n; i++) {
		struct want *w = &a->w[i];
		char bi[IFM_IFNAMSIZ], be[IFM_IFNAMSIZ];
		const char *di = NULL, *de = NULL;

		if (w->dir & IFM_DIR_INGRESS)
			di = ifm_tunnel_id_dest(a->c, w->cs->to, w->source, IFM_DIR_INGRESS, bi, sizeof(bi));
		if (w->dir & IFM_DIR_EGRESS)
			de = ifm_tunnel_id_dest(a->c, w->cs->to, w->source, IFM_DIR_EGRESS, be, sizeof(be));
		if (!di && !de)
			continue;
		if (w->dir == IFM_DIR_BOTH && !(di && de && !strcmp(di, de))) {
			struct want *e = &a->w[a->nw++];

			*e = *w;
			e->dir = IFM_DIR_EGRESS;
			set_dest(a, e, de ? de : w->cs->to);
			w->dir = IFM_DIR_INGRESS;
			set_dest(a, w, di ? di : w->cs->to);
		} else {
			set_dest(a, w, di ? di : de);
		}
	}
}

/* Everything the kernel must have for the file to apply, before any change. */
static int validate(struct apply_ctx *a)
{
	struct ifm_config *c = a->c;
	struct ifm_view small;
	int errors = 0, n = 0, r;

	/* scoped: the patterns judge the devices in scope only */
	if (a->scoped && (r = ifm_scope_view(&a->v, c, a->only, a->nonly, &small)) < 0)
		return r;
	r = ifm_expand(c, a->scoped ? &small : &a->v, a->dry, &a->x);
	if (a->scoped)
		ifm_view_free(&small);
	if (r < 0)
		return r;
	for (int i = 0; i < c->nsessions; i++)
		n += c->sessions[i].nsources;
	/* room for each split in two by per-id tunnels */
	a->w = calloc(2 * (size_t)(n + a->x.n) + 1, sizeof(*a->w));
	if (!a->w)
		return -ENOMEM;
	for (int i = 0; i < c->nsessions; i++) {
		const struct ifm_conf_session *cs = &c->sessions[i];
		const struct ifm_link *dst = ifm_view_link(&a->v, cs->to);
		char what[600];

		if (!dst && !in_file_as_device(c, cs->to) && !a->scoped) {
			ifm_err("%s:%d: to %s: no such device, and no [collector %s] or [tunnel %s] "
				"in the file", c->path, cs->to_line, cs->to, cs->to, cs->to);
			errors++;
		}
		if (cs->match || cs->sample > 1) {
			snprintf(what, sizeof(what), "%s:%d: match", c->path, cs->match_line);
			if (ifm_match_check(cs->match, cs->sample, what) < 0)
				errors++;
		}
		for (int j = 0; j < cs->nsources; j++) {
			const struct ifm_link *src = ifm_view_link(&a->v, cs->sources[j]);
			struct want *w;

			if (a->scoped && (!src || !in_scope(a, src->ifindex)))
				continue;
			w = &a->w[a->nw++];

			w->cs = cs;
			w->dir = cs->dir;
			w->source = cs->sources[j];
			w->dst_name = cs->to;
			w->src = src ? src->ifindex : 0;
			w->dst = dst ? dst->ifindex : 0;
			if (!src) {
				ifm_err("%s:%d: source %s: no such device", c->path, cs->source_line,
					cs->sources[j]);
				errors++;
			} else if (in_file_as_device(c, cs->sources[j])) {
				ifm_err("%s:%d: source %s: a collector or tunnel of this file cannot be "
					"a source", c->path, cs->source_line, cs->sources[j]);
				errors++;
			}
		}
	}
	for (int i = 0; i < a->x.n; i++) {
		const struct ifm_conf_session *cs = &c->sessions[a->x.v[i].session];
		const struct ifm_link *src = ifm_view_link(&a->v, a->x.v[i].name);
		const struct ifm_link *dst = ifm_view_link(&a->v, cs->to);
		struct want *w;

		if (!src || !in_scope(a, src->ifindex))
			continue;
		w = &a->w[a->nw++];
		*w = (struct want){ .cs = cs, .dir = cs->dir, .source = a->x.v[i].name, .dst_name = cs->to,
				    .src = src ? src->ifindex : 0, .dst = dst ? dst->ifindex : 0,
				    .pattern = true };
	}
	split_ids(a);
	for (int i = 0; i < c->nsessions; i++)
		for (int j = i + 1; c->sessions[i].shared && j < c->nsessions; j++)
			if (c->sessions[j].shared &&
			    ifm_block_index(c->sessions[i].name, IFM_DIR_INGRESS) ==
				    ifm_block_index(c->sessions[j].name, IFM_DIR_INGRESS)) {
				ifm_err("%s:%d: [session %s] and [session %s] would share one tc block "
					"(their names hash alike); rename one", c->path,
					c->sessions[j].shared_line, c->sessions[i].name,
					c->sessions[j].name);
				errors++;
			}
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];

		if (!w->cs->shared)
			continue;
		if (strcmp(w->dst_name, w->cs->to) || w->dir != w->cs->dir) {
			ifm_err("%s:%d: shared: %s gives %s an id of its own, and a shared block "
				"copies all its sources alike", c->path, w->cs->shared_line,
				w->cs->to, w->source);
			errors++;
			continue;
		}
		w->shared = true;
		w->blk_in = w->dir & IFM_DIR_INGRESS ? ifm_block_index(w->cs->name, IFM_DIR_INGRESS) : 0;
		w->blk_eg = w->dir & IFM_DIR_EGRESS ? ifm_block_index(w->cs->name, IFM_DIR_EGRESS) : 0;
	}
	if (errors)
		return -EINVAL;
	/* scoped: a destination still to be made is the whole apply's work */
	for (int i = 0; a->scoped && i < a->nw; i++)
		if (!a->w[i].dst)
			return -EAGAIN;
	return 0;
}

/* scoped: the filters of the sources in scope and of their destinations */
static int scan_scoped(struct apply_ctx *a)
{
	int *dsts = calloc((size_t)a->nw + 1, sizeof(*dsts)), r;

	if (!dsts)
		return -ENOMEM;
	for (int i = 0; i < a->nw; i++)
		dsts[i] = a->w[i].dst;
	r = ifm_scope_scan(&a->v, a->nl, a->only, a->nonly, dsts, (size_t)a->nw);
	free(dsts);
	return r;
}

/* The view, and the file's sessions leading on out of their sources. */
static int scan(struct apply_ctx *a)
{
	int r = a->scoped ? scan_scoped(a) : ifm_view_scan(&a->v, a->nl);

	for (int i = 0; r == 0 && i < a->nw; i++)
		if (a->w[i].src > 0 && a->w[i].src <= a->v.maxdev)
			a->v.devs[a->w[i].src].leads_on = true;
	return r;
}

/*
 * The kernel plus the file as one graph: the planned sessions, and the
 * collectors of the file (made or not) with their ports. Devices the file
 * makes get nodes of their own until they exist.
 */
static struct ifm_reach *plan_graph(struct apply_ctx *a)
{
	struct ifm_config *c = a->c;
	struct ifm_reach *g = ifm_reach_new(&a->v, c->ncollectors + c->ntunnels);
	int *node;

	if (!g)
		return NULL;
	node = calloc((size_t)(c->ncollectors + c->ntunnels) + 1, sizeof(*node));
	if (!node) {
		ifm_reach_free(g);
		return NULL;
	}
	for (int i = 0; i < c->ncollectors + c->ntunnels; i++) {
		const char *name = i < c->ncollectors ? c->collectors[i].name
						      : c->tunnels[i - c->ncollectors].name;
		const struct ifm_link *l = ifm_view_link(&a->v, name);

		node[i] = l ? l->ifindex : ifm_reach_planned(g, i, name);
	}
	for (int i = 0; i < c->ncollectors; i++)
		for (int j = 0; j < c->collectors[i].nports; j++) {
			const struct ifm_link *p = ifm_view_link(&a->v, c->collectors[i].ports[j]);

			if (p)
				ifm_reach_add_port(g, p->ifindex, node[i]);
		}
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		int to = w->dst;

		for (int k = 0; !to && k < c->ncollectors + c->ntunnels; k++)
			if (!strcmp(k < c->ncollectors ? c->collectors[k].name
				    : c->tunnels[k - c->ncollectors].name, w->dst_name))
				to = node[k];
		w->dst_node = to;
		if (w->src > 0 && to > 0 && ifm_reach_add_mirror(g, w->src, w->dir, to) < 0) {
			free(node);
			ifm_reach_free(g);
			return NULL;
		}
	}
	free(node);
	return g;
}

static bool same_dest(const struct ifm_filter *f, int dst, const char *dst_name)
{
	return (dst && f->act.ifindex == dst) ||
	       (f->act.ifindex == 0 && f->act.cookie.dest_hash == ifm_name_hash(dst_name));
}

/* KEEP: exactly as wanted; FAST: nothing of it yet; SLOW: exists, differs. */
static void classify(struct apply_ctx *a, struct want *w)
{
	struct ifm_view_dev *d = ifm_view_dev(&a->v, w->src);
	enum ifm_dir have = 0;
	bool other = false;

	w->how = FAST;
	if (d && d->detach)
		return;   /* its clsact goes first (plan_shared) */
	for (size_t i = 0; d && d->scanned && i < d->t.nf; i++) {
		const struct ifm_filter *f = &d->t.f[i];

		/* a shared block's: the other direction's section (plan_shared) */
		if (f->block || !ifm_filter_is_ours(f) || !same_dest(f, w->dst, w->dst_name))
			continue;
		if (f->act.ifindex == w->dst && f->prog_hash == w->m.hash &&
		    (f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG) && (w->dir & f->hook_dir) &&
		    !(have & f->hook_dir))
			have |= f->hook_dir;
		else
			other = true;
	}
	if (have == w->dir && !other)
		w->how = KEEP;
	else if (have || other)
		w->how = SLOW;
	else if (d && d->t.q.ingress_kind[0] && strcmp(d->t.q.ingress_kind, "clsact"))
		w->how = SLOW; /* an ingress qdisc: the fallbacks of `up` */
	else if (d && !d->t.q.ingress_kind[0] && ifm_avoid("clsact"))
		w->how = SLOW;
}

/* any filter on it that is not a copy of a shared block's (its own hooks) */
static bool own_filters(const struct ifm_view_dev *d)
{
	for (size_t i = 0; d->scanned && i < d->t.nf; i++)
		if (!d->t.f[i].block)
			return true;
	return false;
}

/* a clsact of ours holding nothing but the file's sessions to w's destination:
 * it may go and come back on the shared blocks */
static bool convertible(const struct want *w, const struct ifm_view_dev *d)
{
	if (!d->scanned || strcmp(d->t.q.ingress_kind, "clsact") ||
	    ifm_hooks_have_foreign(&d->t, IFM_DIR_BOTH) ||
	    !ifm_owned_dev(w->src, w->source, "clsact"))
		return false;
	for (size_t i = 0; i < d->t.nf; i++) {
		const struct ifm_filter *f = &d->t.f[i];

		if (ifm_filter_is_ours(f) && (!(f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG) ||
					      !same_dest(f, w->dst, w->dst_name)))
			return false;
		if (ifm_filter_is_devprog(f))
			return false;
	}
	return true;
}

/*
 * Shared blocks: which devices join, stay, or leave ifmirror's blocks.
 * A device hangs on one block per direction, named when its clsact is
 * made: one with a clsact of somebody else's keeps filters of its own (the
 * plain path); one of ours on other blocks, or holding only the file's
 * sessions, goes and comes back on the right ones.
 */
static void plan_shared(struct apply_ctx *a)
{
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_view_dev *d = ifm_view_dev(&a->v, w->src);

		if (!w->shared || !d)
			continue;
		if (d->member) {
			const struct want *o = &a->w[d->member - 1];

			if (w->pattern)
				ifm_notice("%s:%d: skipping %s: already on the shared blocks of "
					   "[session %s]", a->c->path, w->cs->source_line, w->source,
					   o->cs->name);
			else
				ifm_err("%s:%d: %s: already on the shared blocks of [session %s]; a "
					"device hangs on one block per direction", a->c->path,
					w->cs->source_line, w->source, o->cs->name);
			a->failed += !w->pattern;
			w->how = SKIP;
			continue;
		}
		d->member = i + 1;
	}
	/* devices on ifmirror's blocks that the file does not keep there */
	for (int i = 1; i <= a->v.maxdev; i++) {
		struct ifm_view_dev *d = &a->v.devs[i];
		uint32_t bi = ifm_hook_block(&d->t.q, IFM_DIR_INGRESS);
		uint32_t be = ifm_hook_block(&d->t.q, IFM_DIR_EGRESS);
		const struct want *w = d->member ? &a->w[d->member - 1] : NULL;

		if (!d->link || !in_scope(a, i) || !(ifm_block_ours(bi) || ifm_block_ours(be)))
			continue;
		if (w && w->how != SKIP && w->blk_in == bi && w->blk_eg == be)
			continue;
		if (!strcmp(d->t.q.ingress_kind, "clsact") && !own_filters(d) &&
		    ifm_owned_dev(i, d->link->name, "clsact"))
			d->detach = true;
		else
			ifm_warn("%s: left on shared tc block %u: its clsact is not ifmirror's, or "
				 "holds filters of its own", d->link->name, bi ? bi : be);
	}
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_view_dev *d = ifm_view_dev(&a->v, w->src);
		uint32_t bi, be;

		if (!w->shared || w->how == SKIP || !d)
			continue;
		bi = ifm_hook_block(&d->t.q, IFM_DIR_INGRESS);
		be = ifm_hook_block(&d->t.q, IFM_DIR_EGRESS);
		if (d->detach || (!d->t.q.ingress_kind[0] && !ifm_avoid("clsact"))) {
			w->how = JOIN;
		} else if (!strcmp(d->t.q.ingress_kind, "clsact") && bi == w->blk_in && be == w->blk_eg) {
			w->how = KEEP;
		} else if (bi || be) {
			if (w->pattern)
				ifm_notice("%s:%d: skipping %s: its qdisc is on tc block %u, not "
					   "ifmirror's", a->c->path, w->cs->source_line, w->source,
					   bi ? bi : be);
			else
				ifm_err("%s:%d: %s: its qdisc is on tc block %u, not ifmirror's",
					a->c->path, w->cs->source_line, w->source, bi ? bi : be);
			a->failed += !w->pattern;
			w->how = SKIP;
		} else if (convertible(w, d)) {
			d->detach = true;
			w->how = JOIN;
		} else {
			/* a clsact of somebody else's (or no clsact on this kernel):
			 * filters of its own, as without `shared` */
			ifm_info("%s: has a qdisc of its own; its mirror to %s is filters of its "
				 "own, not the shared block's", w->source, w->dst_name);
			w->shared = false;
			d->member = 0;
		}
	}
	/* a plain session on a device whose hook of that direction is shared */
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_view_dev *d = ifm_view_dev(&a->v, w->src);
		const struct want *o;

		if (w->shared || w->how == SKIP || !d || !d->member)
			continue;
		o = &a->w[d->member - 1];
		if (o->how == SKIP || !((o->blk_in && (w->dir & IFM_DIR_INGRESS)) ||
					(o->blk_eg && (w->dir & IFM_DIR_EGRESS))))
			continue;
		ifm_err("%s:%d: %s: its %s hook is on the shared block of [session %s]; a "
			"mirror of its own there would be every device's", a->c->path,
			w->cs->source_line, w->source, ifm_dir_name(w->dir), o->cs->name);
		a->failed++;
		w->how = SKIP;
	}
}

/* the devices leaving ifmirror's blocks: their clsacts go (one batch) */
static int detach(struct apply_ctx *a)
{
	struct ifm_batch b;
	int r = ifm_batch_init(&b, a->nl), *which, n = 0;

	if (r < 0)
		return r;
	which = calloc((size_t)a->v.maxdev + 1, sizeof(*which));
	if (!which) {
		ifm_batch_free(&b);
		return -ENOMEM;
	}
	for (int i = 1; i <= a->v.maxdev && r == 0; i++)
		if (a->v.devs[i].detach) {
			which[n++] = i;
			r = ifm_batch_add(&b, ifm_clsact_msg(false, i));
		}
	if (r == 0)
		r = ifm_batch_finish(&b);
	ifm_owned_hold(true);
	for (int k = 0; k < n && (unsigned)k < b.n; k++) {
		struct ifm_view_dev *d = &a->v.devs[which[k]];
		uint32_t blk = d->t.q.ingress_block ? d->t.q.ingress_block : d->t.q.egress_block;
		int e = b.results[k];

		if (e < 0 && e != -ENOENT && e != -EINVAL && e != -ENODEV) {
			ifm_err("%s: cannot take it off shared tc block %u: %s", d->link->name, blk,
				strerror(-e));
			a->failed++;
			d->detach = false;
			continue;
		}
		ifm_owned_set(which[k], "clsact", false);
		if (!d->member || a->w[d->member - 1].how != JOIN) {
			a->removed++;
			ifm_info("%s: off shared tc block %u (not in %s)", d->link->name, blk,
				 a->c->path);
		}
		memset(&d->t.q, 0, sizeof(d->t.q));
		d->t.nf = 0;
		d->next_pref = 1;
	}
	ifm_owned_hold(false);
	ifm_owned_sync();
	free(which);
	ifm_batch_free(&b);
	return r;
}

/* a device stays on block through this apply (it is not new) */
static bool block_kept(const struct apply_ctx *a, uint32_t block)
{
	for (int i = 0; i < a->nw; i++)
		if (a->w[i].shared && a->w[i].how == KEEP &&
		    (a->w[i].blk_in == block || a->w[i].blk_eg == block))
			return true;
	return false;
}

/* is block (of dir) still to have members after this apply, and which want
 * of it comes first */
static const struct want *block_want(const struct apply_ctx *a, uint32_t block)
{
	for (int i = 0; i < a->nw; i++) {
		const struct want *w = &a->w[i];

		if (w->shared && (w->how == KEEP || w->how == JOIN) &&
		    (w->blk_in == block || w->blk_eg == block))
			return w;
	}
	return NULL;
}

/* the file's mirror on one of its shared blocks (block.c) */
static int block_filters(struct apply_ctx *a, uint32_t block, enum ifm_dir dir,
			 const struct want *w)
{
	struct ifm_link dl = { .ifindex = w->dst };
	char what[600];
	struct ifm_block_mirror bm = { .block = block, .dir = dir, .dest = &dl, .m = &w->m,
				       .from_config = true, .dry = a->dry,
				       .fresh = !block_kept(a, block), .what = what };
	bool replaced;
	int r;

	snprintf(dl.name, sizeof(dl.name), "%s", w->dst_name);
	snprintf(what, sizeof(what), "[session %s]", w->cs->name);
	r = ifm_block_mirror(a->nl, &bm, &replaced);
	a->changed += replaced;
	return r;
}

/*
 * A source deleted between the plan and the batch: its requests answered
 * ENODEV (or ENXIO), and the device of that index is no more. Only its own
 * session is lost: the others of the batch are made all the same.
 */
static bool went(const struct want *w, const struct ifm_batch *b)
{
	char name[IF_NAMESIZE];
	bool nodev = false;

	for (int k = 0; k < w->nresults; k++) {
		int e = b->results[w->first_result + (unsigned)k];

		if (e < 0 && e != -ENODEV && e != -ENXIO)
			return false;
		nodev |= e == -ENODEV || e == -ENXIO;
	}
	return nodev && !if_indextoname((unsigned)w->src, name) && errno == ENXIO;
}

/* The new sessions, pipelined: clsact where missing, then their filters. */
static int add_fast(struct apply_ctx *a)
{
	static const enum ifm_dir dirs[] = { IFM_DIR_INGRESS, IFM_DIR_EGRESS };
	/* matchall where the kernel has it: the first request finds out */
	const struct ifm_cls_ops *plain = ifm_cls_mirror;
	struct ifm_batch b;
	int r, pending_probe = 1;

	/* a copy budget on a destination: its filters join its police or have
	 * its bucket as classifier (read before the batch: no request of
	 * another kind in the middle of it); one program per destination */
	for (int i = 0; i < a->nw; i++)
		a->w[i].join = IFM_BUDGET_JOIN_NONE;
	for (int i = 0, last = -1; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_link dl = { .ifindex = w->dst };

		if (w->how != FAST)
			continue;
		/* the one before, into the same destination and alike (with or
		 * without --match), lends it its own */
		if (last >= 0 && a->w[last].dst == w->dst && !a->w[last].m.insns == !w->m.insns) {
			w->join = a->w[last].join;
			continue;
		}
		last = i;
		snprintf(dl.name, sizeof(dl.name), "%s", w->dst_name);
		if ((r = ifm_budget_join(a->nl, &dl, !w->m.insns, false, &w->join)) < 0)
			goto release;
		w->join_own = true;
	}
	r = ifm_batch_init(&b, a->nl);
	if (r < 0)
		goto release;
	/* the records of the clsacts to come, written in one go before any is
	 * sent: a kill leaves qdiscs flush knows */
	ifm_owned_hold(true);
	for (int i = 0; i < a->nw && r == 0; i++) {
		struct want *w = &a->w[i];
		struct ifm_view_dev *d = ifm_view_dev(&a->v, w->src);

		if ((w->how != FAST && w->how != JOIN) || ifm_hook_present(&d->t.q, IFM_DIR_INGRESS) ||
		    d->clsact_rec)
			continue;
		r = ifm_owned_set_dev(w->src, w->source, "clsact", true);
		d->clsact_rec = true;
	}
	ifm_owned_hold(false);
	if (r < 0 || (r = ifm_owned_sync()) < 0)
		goto out;
	/* the new clsacts first, oldest device first (a pattern's sources come
	 * in name order): flush deletes newest device first, the order that
	 * spares the kernel its walk of every block (flush.c) */
	for (int i = 1; i <= a->v.maxdev && r == 0; i++) {
		struct ifm_view_dev *d = &a->v.devs[i];
		/* named at creation: the shared blocks of the section on it */
		const struct want *m = d->member ? &a->w[d->member - 1] : NULL;
		bool join = m && m->how == JOIN;

		if (!d->clsact_rec || d->clsact_new)
			continue;
		d->clsact_new = true;
		d->clsact_result = b.n;
		r = ifm_batch_add(&b, ifm_clsact_shared_msg(i, join ? m->blk_in : 0,
							    join ? m->blk_eg : 0));
	}
	if (r < 0)
		goto out;
again:
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_view_dev *d = ifm_view_dev(&a->v, w->src);
		struct ifm_link dl = { .ifindex = w->dst };

		if ((w->how != FAST && w->how != JOIN) || w->nresults)
			continue;
		if (w->how == JOIN) {
			w->first_result = d->clsact_result;
			w->nresults = 1;
			continue;
		}
		snprintf(dl.name, sizeof(dl.name), "%s", w->dst_name);
		w->pref = d->next_pref;
		w->first_result = b.n;
		for (int k = 0; k < 2; k++) {
			struct ifm_cookie ck;
			const struct ifm_cls_ops *cls = w->m.insns ? &ifm_cls_bpf : plain;

			if (!(w->dir & dirs[k]))
				continue;
			ifm_cookie_make(&ck, dirs[k], &dl);
			ck.flags |= IFM_COOKIE_FROM_CONFIG;
			r = ifm_batch_add(&b, ifm_filter_add_msg(w->src, ifm_hook_clsact.parent(dirs[k]),
								 w->pref, cls, &w->m, w->dst, &ck,
								 &w->join));
			w->nresults++;
			if (r < 0)
				goto out;
		}
		/* the next session from this source takes the next pref */
		for (uint16_t p = (uint16_t)(w->pref + 1); p; p++) {
			bool used = false;

			for (size_t j = 0; d->scanned && j < d->t.nf && !used; j++)
				used = d->t.f[j].pref == p;
			if (!used) {
				d->next_pref = p;
				break;
			}
		}
		if (pending_probe && !w->m.insns) {
			/* the first request tells whether the kernel has matchall; one
			 * on a device that went meanwhile tells nothing: the next does */
			r = ifm_batch_finish(&b);
			if (r < 0)
				goto out;
			if (went(w, &b))
				continue;
			if (plain->fallback && b.results[w->first_result] == -ENOENT) {
				plain = plain->fallback;
				w->nresults = 0;
				d->next_pref = w->pref;
				pending_probe = 0;
				goto again;
			}
			pending_probe = 0;
		}
	}
	r = ifm_batch_finish(&b);
	if (r < 0)
		goto out;
	/* results: report each session; a failed one is taken out again */
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		int err = 0;

		if (w->how != FAST && w->how != JOIN)
			continue;
		for (int k = 0; k < w->nresults; k++)
			if (b.results[w->first_result + (unsigned)k] < 0 && !err)
				err = b.results[w->first_result + (unsigned)k];
		if (err && went(w, &b)) {
			/* deleted between the plan and the batch: its filters went
			 * with it, and the other sessions are none the worse */
			ifm_info("%s: gone before its mirror to %s was added; nothing to do",
				 w->source, w->dst_name);
			continue;
		}
		if (err && w->how == JOIN) {
			ifm_err("%s:%d: %s: cannot put a clsact on shared tc blocks for its mirror "
				"to %s: %s", a->c->path, w->cs->source_line, w->source, w->dst_name,
				strerror(-err));
			a->failed++;
			w->how = SKIP;
			continue;
		}
		if (err) {
			ifm_err("%s:%d: %s: cannot add mirror filter to %s: %s", a->c->path,
				w->cs->source_line, w->source, w->dst_name, strerror(-err));
			for (int k = 0; k < 2; k++)
				ifm_filter_del_pref(a->nl, w->src,
						    ifm_hook_clsact.parent(k ? IFM_DIR_EGRESS
									     : IFM_DIR_INGRESS),
						    w->pref);
			a->failed++;
			continue;
		}
		a->added++;
		if (w->how == JOIN) {
			ifm_info("%s: %s mirror to %s added (clsact on shared tc block%s %u%s%.0u)",
				 w->source, ifm_dir_name(w->dir), w->dst_name,
				 w->blk_in && w->blk_eg ? "s" : "", w->blk_in ? w->blk_in : w->blk_eg,
				 w->blk_in && w->blk_eg ? " and " : "", w->blk_in ? w->blk_eg : 0);
			continue;
		}
		ifm_match_remember(&w->m);
		ifm_info("%s: %s mirror to %s added (clsact, %s, pref %u)", w->source,
		       ifm_dir_name(w->dir), w->dst_name,
		       w->m.insns ? "bpf" : plain->kind, w->pref);
	}
out:
	/* the qdiscs this batch created are ifmirror's, whatever else failed;
	 * the records of those it did not create go */
	ifm_owned_hold(true);
	for (int i = 1; i <= a->v.maxdev; i++)
		if (a->v.devs[i].clsact_rec && (!a->v.devs[i].clsact_new ||
						a->v.devs[i].clsact_result >= b.n ||
						b.results[a->v.devs[i].clsact_result] != 0))
			ifm_owned_set(i, "clsact", false);
	ifm_owned_hold(false);
	ifm_owned_sync();
	if (r < 0)
		ifm_err("%s: the batch of new sessions stopped: %s", a->c->path, strerror(-r));
	ifm_batch_free(&b);
release:
	for (int i = 0; i < a->nw; i++)
		if (a->w[i].join_own)
			ifm_budget_join_release(&a->w[i].join);
	return r;
}

static bool wanted(const struct apply_ctx *a, int src, const struct ifm_filter *f)
{
	for (int i = 0; i < a->nw; i++)
		if (a->w[i].src == src && (a->w[i].dir & f->hook_dir) &&
		    same_dest(f, a->w[i].dst, a->w[i].dst_name))
			return true;
	return false;
}

/* Sessions an earlier apply made that the file no longer names. */
static int remove_stale(struct apply_ctx *a)
{
	struct ifm_batch b;
	int *touched = NULL, ntouched = 0, r;

	r = ifm_batch_init(&b, a->nl);
	if (r < 0)
		return r;
	touched = calloc((size_t)a->v.maxdev + 1, sizeof(*touched));
	for (int i = 1; touched && i <= a->v.maxdev; i++) {
		struct ifm_view_dev *d = &a->v.devs[i];

		for (size_t j = 0; d->scanned && in_scope(a, i) && j < d->t.nf; j++) {
			const struct ifm_filter *f = &d->t.f[j];

			/* a shared block's filters go with the block (block_filters),
			 * a device off it with its clsact (detach) */
			if (f->block || !ifm_filter_is_ours(f) ||
			    !(f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG) || wanted(a, i, f))
				continue;
			if (a->dry) {
				ifm_out("would remove: %s %s mirror to %s (not in %s)", ifm_view_name(&a->v, i),
				       ifm_dir_name(f->hook_dir), ifm_view_name(&a->v, f->act.ifindex), a->c->path);
				continue;
			}
			if ((r = ifm_batch_add(&b, ifm_filter_del_msg(&d->t, f))) < 0)
				break;
			if (!ntouched || touched[ntouched - 1] != i)
				touched[ntouched++] = i;
			a->removed++;
			ifm_info("%s: %s mirror to %s removed (not in %s)", ifm_view_name(&a->v, i),
			       ifm_dir_name(f->hook_dir), ifm_view_name(&a->v, f->act.ifindex), a->c->path);
		}
	}
	if (r == 0)
		r = ifm_batch_finish(&b);
	/* newest device first, as flush deletes (flush.c) */
	for (int i = ntouched - 1; r == 0 && i >= 0; i--)
		ifm_hooks_tidy(a->nl, touched[i]);
	if (r < 0)
		ifm_err("%s: removing sessions no longer in the file stopped: %s", a->c->path,
			strerror(-r));
	free(touched);
	ifm_batch_free(&b);
	return r;
}

/*
 * A tunnel or collector step failed: the ones this apply created before it
 * (absent from the view taken at the start) go again, newest first, so that
 * a failed apply leaves no device it made. One that existed is left as is.
 */
static bool undo_one(struct apply_ctx *a, const char *name, bool tunnel)
{
	bool was = ifm_quiet_set(true);
	int r = tunnel ? ifm_tunnel_down(a->nl, name) : ifm_collector_down(a->nl, name);

	ifm_quiet_set(was);
	if (r == 0)
		ifm_notice("%s: %s %s, created by this apply, removed again", a->c->path,
			   tunnel ? "tunnel" : "collector", name);
	return r == 0;
}

static void undo_made(struct apply_ctx *a, int ntunnels, int ncollectors)
{
	const struct ifm_config *c = a->c;

	for (int i = ncollectors - 1; i >= 0; i--)
		if (!ifm_view_link(&a->v, c->collectors[i].name))
			undo_one(a, c->collectors[i].name, false);
	for (int i = ntunnels - 1; i >= 0; i--)
		if (!ifm_view_link(&a->v, c->tunnels[i].name))
			undo_one(a, c->tunnels[i].name, true);
}

/* each shared block the file keeps, once: its filters */
static int shared_blocks(struct apply_ctx *a)
{
	uint32_t done[64];
	size_t ndone = 0;
	int r = 0;

	for (int i = 0; i < a->nw; i++) {
		const struct want *w = &a->w[i];

		for (int k = 0; k < 2 && w->shared && (w->how == KEEP || w->how == JOIN); k++) {
			uint32_t blk = k ? w->blk_eg : w->blk_in;
			bool seen = false;

			for (size_t j = 0; j < ndone && !seen; j++)
				seen = done[j] == blk;
			if (!blk || seen)
				continue;
			if (ndone < sizeof(done) / sizeof(done[0]))
				done[ndone++] = blk;
			if (block_filters(a, blk, k ? IFM_DIR_EGRESS : IFM_DIR_INGRESS,
					  block_want(a, blk)) < 0) {
				a->failed++;
				r = 0;   /* reported; the other blocks still */
			}
		}
	}
	return r;
}

/* is ifindex among the view's links? (the ownership list's writes ask) */
static bool view_lists(int ifindex, void *arg)
{
	const struct ifm_view *v = arg;

	return v->devs && ifindex > 0 && ifindex <= v->maxdev && v->devs[ifindex].link;
}

static int apply(struct apply_ctx *a)
{
	struct ifm_config *c = a->c;
	struct ifm_reach *g;
	int r, n;

	ifm_owned_listed(view_lists, &a->v);   /* until apply_free */
	r = a->links ? ifm_view_use_links(&a->v, a->links, a->nlinks) : ifm_view_links(&a->v, a->nl);
	if (r < 0 || (r = ifm_tunnel_ids_expand(c)) < 0 || (r = validate(a)) < 0 ||
	    (r = scan(a)) < 0)
		return r;
	if (!(g = plan_graph(a)))
		return -ENOMEM;
	/* a search from a destination that found no way back saw all it can
	 * reach: the next session into it asks that (one search per
	 * destination, not per source), until the graph changes */
	int searched = 0;
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];

		/* a source that is a port of its own collector, or any way back */
		for (int k = 0; k < c->ncollectors; k++)
			for (int j = 0; !strcmp(c->collectors[k].name, w->dst_name) &&
					j < c->collectors[k].nports; j++)
				if (!strcmp(c->collectors[k].ports[j], w->source))
					w->dst = -1;
		bool loop = w->dst < 0;

		if (!loop && w->dst_node && w->dst_node == searched)
			loop = w->dst_node == w->src || ifm_reach_seen(g, w->src);
		else if (!loop && w->dst_node) {
			loop = ifm_reach_loops(g, w->dst_node, w->src);
			searched = loop ? 0 : w->dst_node;
		}

		if (!loop && a->scoped && w->dst_node && ifm_scope_unknown_seen(&a->v, g)) {
			ifm_reach_free(g);
			return -EAGAIN;
		}
		if (loop && w->pattern) {
			ifm_notice("%s:%d: skipping %s to %s: it would loop (%s leads back into %s)",
				   c->path, w->cs->source_line, w->source, w->dst_name, w->dst_name,
				   w->source);
			/* the graph had its mirror: without it, later ones may not loop
			 * (taken back, not a new graph: one per skip was quadratic) */
			if (w->src > 0 && w->dst_node > 0)
				ifm_reach_drop_mirror(g, w->src, w->cs->dir, w->dst_node);
			searched = 0;
			a->w[i--] = a->w[--a->nw];
			a->loops++;
		} else if (loop) {
			ifm_err("%s:%d: %s to %s would loop: %s leads back into %s", c->path,
				w->cs->line, w->source, w->dst_name, w->dst_name, w->source);
			ifm_reach_free(g);
			return -ELOOP;
		}
	}
	ifm_reach_free(g);
	if (a->dry) {
		for (int i = 0; i < c->ntunnels; i++)
			if (!ifm_view_link(&a->v, c->tunnels[i].name))
				ifm_out("would create: tunnel %s", c->tunnels[i].name);
		for (int i = 0; i < c->ncollectors; i++)
			if (!ifm_view_link(&a->v, c->collectors[i].name))
				ifm_out("would create: collector %s", c->collectors[i].name);
	}
	/* scoped: the tunnels and collectors are there (their destinations were) */
	for (int i = 0; !a->dry && !a->scoped && i < c->ntunnels; i++) {
		struct ifm_conf_tunnel *t = &c->tunnels[i];
		struct ifm_tunnel_spec s = {
			.name = t->name, .type = t->type, .remote = t->remote,
			.local = t->local[0] ? t->local : NULL, .dev = t->dev[0] ? t->dev : NULL,
			.id = t->id, .has_id = t->id_key[0] != '\0', .dstport = t->dstport,
			.snaplen = t->snaplen, .of = t->of[0] ? t->of : NULL,
			.rate = t->rate, .burst = t->burst,
			.version = t->version, .hwid = t->hwid, .has_hwid = t->has_hwid,
			.erspan_dir = t->erspan_dir,
		};

		if ((r = ifm_tunnel_up(a->nl, &s)) < 0) {
			undo_made(a, i, 0);
			return r;
		}
	}
	for (int i = 0; !a->dry && !a->scoped && i < c->ncollectors; i++) {
		struct ifm_conf_collector *k = &c->collectors[i];
		struct ifm_collector_spec s = { .bridge = k->name, .nports = k->nports,
						.sink = k->sink[0] ? k->sink : NULL,
						.snaplen = k->snaplen, .rate = k->rate,
						.burst = k->burst };

		for (int j = 0; j < k->nports; j++)
			s.ports[j] = k->ports[j];
		if ((r = ifm_collector_up(a->nl, &s)) < 0) {
			undo_made(a, c->ntunnels, i);
			return r;
		}
	}
	if (!a->dry && !a->scoped && (c->ntunnels || c->ncollectors)) {
		/* new devices, and the qdiscs and filters the steps above changed */
		ifm_view_scan_free(&a->v);
		if ((r = ifm_view_links(&a->v, a->nl)) < 0 || (r = scan(a)) < 0)
			return r;
		for (int i = 0; i < a->nw; i++) {
			const struct ifm_link *d = ifm_view_link(&a->v, a->w[i].dst_name);

			a->w[i].dst = d ? d->ifindex : 0;
		}
	}
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		bool was = ifm_quiet_set(true);

		r = ifm_match_build(w->source, w->cs->match, w->cs->sample, &w->m, "match");
		ifm_quiet_set(was);
		if (r < 0)
			return r;
	}
	plan_shared(a);
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];

		if (!w->shared && w->how != SKIP)
			classify(a, w);
		if (a->dry && w->how != KEEP && w->how != SKIP)
			ifm_out("would %s: %s %s mirror to %s%s", w->how == SLOW ? "change" : "add",
			       w->source, ifm_dir_name(w->dir), w->dst_name,
			       w->how == JOIN ? " (on shared tc blocks)" : "");
	}
	for (int i = 1; a->dry && i <= a->v.maxdev; i++)
		if (a->v.devs[i].detach && !a->v.devs[i].member)
			ifm_out("would remove: %s from shared tc blocks (not in %s)",
				ifm_view_name(&a->v, i), c->path);
	if (a->dry)
		return (r = shared_blocks(a)) < 0 || (r = remove_stale(a)) < 0 ? r
			: ifm_tunnel_ids_prune(a->nl, c, true, &n);
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_session_spec s = { .source = w->source, .dest = w->dst_name,
					      .dir = w->dir, .match = w->cs->match,
					      .sample = w->cs->sample, .from_config = true };

		if (w->how != SLOW)
			continue;
		if (ifm_mirror_up_spec(a->nl, &s) < 0)
			a->failed++;
		else
			a->changed++;
	}
	if ((r = detach(a)) < 0 || (r = add_fast(a)) < 0 || (r = shared_blocks(a)) < 0)
		return r;
	if ((r = remove_stale(a)) < 0)
		return r;
	/* after the sessions into them went */
	if ((r = ifm_tunnel_ids_prune(a->nl, c, false, &n)) < 0)
		return r;
	return a->failed ? -EIO : 0;
}

static void apply_free(struct apply_ctx *a)
{
	ifm_owned_listed(NULL, NULL);
	for (int i = 0; i < a->nw; i++)
		ifm_match_free(&a->w[i].m);
	ifm_view_free(&a->v);
	free(a->w);
	ifm_expansion_free(&a->x);
}

int ifm_apply(struct ifm_nl *nl, struct ifm_config *c, bool dry, struct ifm_apply_result *res)
{
	struct apply_ctx a = { .nl = nl, .c = c, .dry = dry };
	int r = apply(&a);

	*res = (struct ifm_apply_result){ .sessions = a.nw, .added = a.added,
					  .changed = a.changed, .removed = a.removed,
					  .loops = a.loops };
	apply_free(&a);
	return r;
}

int ifm_apply_scoped(struct ifm_nl *nl, struct ifm_config *c, const struct ifm_link *links,
		     size_t nlinks, const int *only, size_t n, struct ifm_apply_result *res)
{
	struct apply_ctx a = { .nl = nl, .c = c, .scoped = true, .only = only, .nonly = n,
			       .links = links, .nlinks = nlinks };
	int r = apply(&a);

	*res = (struct ifm_apply_result){ .sessions = a.nw, .added = a.added,
					  .changed = a.changed, .removed = a.removed,
					  .loops = a.loops };
	apply_free(&a);
	return r;
}
