// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sessions: up, down, and the loop check.
 *
 * Up makes the session (SOURCE, DEST) mirror exactly direction D: adds what is
 * missing, replaces a filter whose destination was deleted (the kernel never
 * re-binds it), removes the other direction's filter when D changed. Every
 * object created is recorded, and a failure undoes them all.
 */
#include "ifmirror.h"
#include "reach.h"
#include "view.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <linux/if.h>

struct undo {
	enum { UNDO_FILTER, UNDO_QDISC } what;
	uint32_t parent;
	uint16_t pref;
	const struct ifm_hook_ops *hook;
};

struct up_ctx {
	struct ifm_nl *nl;
	const struct ifm_link *src, *dst;
	struct ifm_dev_tc t;
	const struct ifm_cls_ops *cls;   /* chosen classifier, once known */
	const struct ifm_match *m;       /* --match/--sample program, or none */
	bool from_config;
	struct undo undo[8];
	int nundo;
	/* what was done, printed only once everything succeeded */
	char report[2048];
	size_t reported;
};

static void note(struct up_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct up_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ifm_quiet() || c->reported >= sizeof(c->report))
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->report + c->reported, sizeof(c->report) - c->reported, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->reported += (size_t)n;
}

static bool unavailable(int r)
{
	return r == -ENOENT || r == -EOPNOTSUPP;
}

static void undo_all(struct up_ctx *c)
{
	while (c->nundo > 0) {
		struct undo *u = &c->undo[--c->nundo];

		if (u->what == UNDO_FILTER) {
			ifm_filter_del_pref(c->nl, c->src->ifindex, u->parent, u->pref);
		} else {
			u->hook->destroy(c->nl, c->src->ifindex);
			ifm_owned_set_dev(c->src->ifindex, c->src->name, u->hook->kind, false);
		}
	}
}

static int create_hook(struct up_ctx *c, const struct ifm_hook_ops *h)
{
	int r;

	/* written ahead: a kill right after the create leaves a qdisc that is ours */
	if (h != &ifm_hook_prio &&
	    (r = ifm_owned_set_dev(c->src->ifindex, c->src->name, h->kind, true)) < 0)
		return r; /* prio is marked by its handle */
	r = h->create(c->nl, c->src->ifindex);
	if (r < 0) {
		if (h != &ifm_hook_prio)
			ifm_owned_set_dev(c->src->ifindex, c->src->name, h->kind, false);
		return r;
	}
	c->undo[c->nundo++] = (struct undo){ .what = UNDO_QDISC, .hook = h };
	if (h == &ifm_hook_prio) {
		strcpy(c->t.q.root_kind, "prio");
		c->t.q.root_handle = IFM_PRIO_MAJOR << 16;
	} else {
		strcpy(c->t.q.ingress_kind, h->kind);
	}
	return 0;
}

/* The hook for dir, created if need be: clsact first, then the fallbacks. */
static int ensure_hook(struct up_ctx *c, enum ifm_dir dir, const struct ifm_hook_ops **out)
{
	const char *dev = c->src->name;
	int r;

	*out = ifm_hook_present(&c->t.q, dir);
	if (*out)
		return 0;
	if (!c->t.q.ingress_kind[0]) {
		r = create_hook(c, &ifm_hook_clsact);
		if (r == 0) {
			*out = &ifm_hook_clsact;
			return 0;
		}
		if (!unavailable(r)) {
			ifm_err("%s: cannot add clsact qdisc: %s", dev, ifm_nl_reason(c->nl, r));
			return r;
		}
		note(c, "%s: notice: the kernel has no clsact qdisc; using the ingress "
		     "qdisc and a prio root instead\n", dev);
	}
	if (dir == IFM_DIR_INGRESS) {
		r = create_hook(c, &ifm_hook_ingress);
		if (r < 0) {
			ifm_err("%s: cannot add ingress qdisc: %s", dev, ifm_nl_reason(c->nl, r));
			return r;
		}
		*out = &ifm_hook_ingress;
		return 0;
	}
	/* egress without clsact: only in place of the kernel's default root */
	if (c->t.q.root_handle != 0) {
		ifm_err("%s: cannot mirror egress: no clsact qdisc here, and the root qdisc "
			"is %s %x: which ifmirror will not replace", dev,
			c->t.q.root_kind[0] ? c->t.q.root_kind : "?", c->t.q.root_handle >> 16);
		return -EBUSY;
	}
	r = create_hook(c, &ifm_hook_prio);
	if (r < 0) {
		if (unavailable(r))
			ifm_err("%s: cannot mirror egress: the kernel has neither the clsact "
				"nor the prio qdisc (sch_prio)", dev);
		else
			ifm_err("%s: cannot add prio root qdisc: %s", dev, ifm_nl_reason(c->nl, r));
		return r;
	}
	*out = &ifm_hook_prio;
	return 0;
}

/* Adds one mirror filter: matchall where the kernel has it, else u32. */
static int add_filter(struct up_ctx *c, enum ifm_dir dir, uint16_t pref,
		      const struct ifm_hook_ops *h)
{
	const struct ifm_cls_ops *cls;
	struct ifm_cookie ck;
	struct ifm_budget_join join;
	uint32_t parent = h->parent(dir);
	int r;

	ifm_cookie_make(&ck, dir, c->dst);
	/* the destination's copy budget: the filter joins its police, or has
	 * its bucket as classifier */
	if ((r = ifm_budget_join(c->nl, c->dst, !c->m->insns, false, &join)) < 0)
		goto fail;
	if (c->from_config)
		ck.flags |= IFM_COOKIE_FROM_CONFIG;
	cls = c->m->insns ? &ifm_cls_bpf : c->cls ? c->cls : ifm_cls_mirror;
	while ((r = ifm_filter_add(c->nl, c->src->ifindex, parent, pref, cls, c->m,
				   c->dst->ifindex, &ck, &join)) < 0) {
		/* a kind the kernel lacks: the next in order, until the session has one */
		if (!unavailable(r) || c->cls || !cls->fallback || join.bucket_fd >= 0)
			break;
		cls = cls->fallback;
	}
	if (r < 0) {
		ifm_budget_join_release(&join);
		goto fail;
	}
	c->cls = cls;
	c->undo[c->nundo++] = (struct undo){ .what = UNDO_FILTER, .parent = parent, .pref = pref };
	note(c, "%s: %s mirror to %s added (%s, %s, pref %u)\n", c->src->name,
	     ifm_dir_name(dir), c->dst->name, h->kind,
	     join.bucket_fd >= 0 ? "bpf, the budget's bucket" : c->cls->kind, pref);
	ifm_budget_join_release(&join);
	return 0;
fail:
	ifm_err("%s: cannot add %s mirror filter: %s", c->src->name, ifm_dir_name(dir),
		ifm_nl_reason(c->nl, r));
	return r;
}

enum match { NO_MATCH, EXACT, CHANGED, STALE, TAKE_OVER };

static enum match session_match(const struct up_ctx *c, const struct ifm_filter *f)
{
	if (!ifm_filter_is_ours(f))
		return NO_MATCH;
	if (f->act.ifindex == c->dst->ifindex) {
		/* apply takes it over: where only the owner differs, in place */
		if (c->from_config && !(f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG))
			return f->prog_hash == c->m->hash ? TAKE_OVER : CHANGED;
		return f->prog_hash == c->m->hash ? EXACT : CHANGED;
	}
	/* the destination was deleted; this name is the one it had */
	if (f->act.ifindex == 0 && f->act.cookie.dest_hash == ifm_name_hash(c->dst->name))
		return STALE;
	return NO_MATCH;
}

/* the cookie of f's action gets the file's flag; false where the kernel
 * refuses (the session is then replaced by a new filter, as before) */
static bool take_over(struct up_ctx *c, const struct ifm_filter *f)
{
	struct ifm_cookie ck = f->act.cookie;

	ck.flags |= IFM_COOKIE_FROM_CONFIG;
	return ifm_mirred_set_cookie(c->nl, &f->act, &ck) == 0;
}

static int apply(struct up_ctx *c, enum ifm_dir want)
{
	static const enum ifm_dir dirs[] = { IFM_DIR_INGRESS, IFM_DIR_EGRESS };
	const struct ifm_filter *remove[16];
	size_t nremove = 0;
	uint16_t pref = 0;
	int r = 0;

	/* a hook on a shared block: a filter added or removed there would be
	 * every device's on that block, not this one's */
	for (size_t d = 0; d < 2; d++) {
		uint32_t blk = ifm_hook_block(&c->t.q, dirs[d]);
		bool touches = (want & dirs[d]) != 0;

		for (size_t i = 0; blk && !touches && i < c->t.nf; i++)
			touches = c->t.f[i].block == blk && session_match(c, &c->t.f[i]) != NO_MATCH;
		if (blk && touches) {
			ifm_err("%s: its %s hook is on shared tc block %u%s: a mirror there would "
				"be every device's on that block; not changed", c->src->name,
				ifm_dir_name(dirs[d]), blk,
				ifm_block_ours(blk) ? " (a `shared = yes` session of the config file)" : "");
			return -EBUSY;
		}
	}
	/* a hook qdisc with somebody else's filters and none of ours is theirs,
	 * whatever /run says; an empty one ifmirror noted stays ours (a kill
	 * between its creation and the first filter) */
	if (c->t.q.ingress_kind[0] && !ifm_hooks_have_ours(&c->t, IFM_DIR_BOTH) &&
	    ifm_hooks_have_foreign(&c->t, IFM_DIR_BOTH))
		ifm_owned_set_dev(c->src->ifindex, c->src->name, c->t.q.ingress_kind, false);

	/* keep both directions of one session on one pref where possible */
	for (size_t i = 0; i < c->t.nf && !pref; i++) {
		enum match m = session_match(c, &c->t.f[i]);

		if (m == EXACT || m == TAKE_OVER)
			pref = c->t.f[i].pref;
	}

	for (size_t d = 0; d < 2; d++) {
		enum ifm_dir dir = dirs[d];
		bool have = false;

		for (size_t i = 0; i < c->t.nf; i++) {
			const struct ifm_filter *f = &c->t.f[i];
			enum match m;

			if (f->hook_dir != dir || (m = session_match(c, f)) == NO_MATCH)
				continue;
			if ((want & dir) && m == EXACT && !have) {
				have = true;
				note(c, "%s: %s mirror to %s unchanged\n", c->src->name,
				     ifm_dir_name(dir), c->dst->name);
			} else if ((want & dir) && m == TAKE_OVER && !have && take_over(c, f)) {
				/* the same filter, the file's from now on: a new one
				 * beside it and the old one deleted would copy the
				 * frames in between twice */
				have = true;
				note(c, "%s: %s mirror to %s taken over by the config file\n",
				     c->src->name, ifm_dir_name(dir), c->dst->name);
			} else if (nremove < 16) {
				remove[nremove++] = f;
			}
		}
		if ((want & dir) && !have) {
			const struct ifm_hook_ops *h;
			bool pref_ok = false;

			r = ensure_hook(c, dir, &h);
			if (r < 0)
				goto fail;
			if (pref) {
				pref_ok = true;
				for (size_t i = 0; i < c->t.nf; i++)
					if (c->t.f[i].pref == pref && c->t.f[i].hook_dir == dir)
						pref_ok = false;
			}
			if (!pref_ok)
				pref = ifm_pref_free(&c->t);
			if (!pref) {
				ifm_err("%s: no free filter priority left", c->src->name);
				r = -ENOSPC;
				goto fail;
			}
			r = add_filter(c, dir, pref, h);
			if (r < 0)
				goto fail;
		}
	}

	for (size_t i = 0; i < nremove; i++) {
		const struct ifm_filter *f = remove[i];

		r = ifm_filter_del(c->nl, &c->t, f);
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove old %s mirror filter (pref %u): %s",
				c->src->name, ifm_dir_name(f->hook_dir), f->pref,
				ifm_nl_reason(c->nl, r));
			goto fail;
		}
		note(c, "%s: %s mirror to %s %s\n", c->src->name, ifm_dir_name(f->hook_dir),
		     c->dst->name,
		     f->act.ifindex == 0 ? "replaced (its destination had been deleted)"
		     : f->prog_hash != c->m->hash ? "replaced (match or sample changed)"
		     : (c->from_config && !(f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG))
			     ? "taken over by the config file"
			     : "removed (direction changed)");
	}
	if (nremove)
		ifm_hooks_tidy(c->nl, c->src->ifindex);
	return 0;
fail:
	undo_all(c);
	return r;
}

int ifm_mirror_up(struct ifm_nl *nl, const char *source, const char *dest,
		  enum ifm_dir dir)
{
	struct ifm_session_spec s = { .source = source, .dest = dest, .dir = dir, .sample = 1 };

	return ifm_mirror_up_spec(nl, &s);
}

/*
 * One view of the host (a link dump, a qdisc dump, filter dumps where hooks
 * hang) serves the look-ups of SOURCE and DEST, the loop check, the source's
 * tc state and the warnings afterwards: no request asks again what it told.
 */
int ifm_mirror_up_spec(struct ifm_nl *nl, const struct ifm_session_spec *spec)
{
	const char *source = spec->source, *dest = spec->dest;
	enum ifm_dir dir = spec->dir;
	struct ifm_view v = { 0 };
	struct ifm_reach *g = NULL;
	const struct ifm_link *sl, *dl;
	struct ifm_view_dev *d;
	struct ifm_link src, dst;
	struct ifm_match m;
	struct up_ctx c = { 0 };
	int r;

	if ((r = ifm_view_links(&v, nl)) < 0) {
		ifm_err("cannot list devices: %s", strerror(-r));
		goto out;
	}
	if (!(sl = ifm_view_link(&v, source)) || !(dl = ifm_view_link(&v, dest))) {
		ifm_err("%s: no such device", sl ? dest : source);
		r = -ENODEV;
		goto out;
	}
	src = *sl;
	dst = *dl;
	if ((r = ifm_view_scan(&v, nl)) < 0) {
		ifm_err("%s: cannot read tc state: %s", src.name, ifm_nl_reason(nl, r));
		goto out;
	}
	if (!(g = ifm_reach_new(&v, 0))) {
		r = -ENOMEM;
		goto out;
	}
	if (dst.ifindex == src.ifindex || ifm_reach_loops(g, dst.ifindex, src.ifindex)) {
		ifm_err("%s: refusing to mirror %s into it: %s already leads back into %s "
			"(through mirrors, bridges or a veth's peer), which would loop",
			dst.name, src.name, dst.name, src.name);
		r = -ELOOP;
		goto out;
	}
	r = ifm_match_build(src.name, spec->match, spec->sample, &m, "up: --match");
	if (r < 0)
		goto out;
	c.nl = nl;
	c.src = &src;
	c.dst = &dst;
	c.m = &m;
	c.from_config = spec->from_config;
	/* the source's qdiscs and filters, as the view read them */
	d = ifm_view_dev(&v, src.ifindex);
	c.t = d->t;
	c.t.ifindex = src.ifindex;
	if (d->scanned) {
		d->t.f = NULL; /* c.t has them now */
		d->t.nf = d->t.cap = 0;
	} else {
		c.t.f = NULL;
		c.t.nf = c.t.cap = 0;
	}
	r = apply(&c, dir);
	ifm_dev_tc_free(&c.t);
	if (r == 0)
		ifm_match_remember(&m);
	ifm_match_free(&m);
	if (r < 0)
		goto out;
	ifm_pending_del(source, dest);
	if (c.reported)
		ifm_info("%.*s", (int)c.reported - 1, c.report); /* its last newline is the sink's */
	if (strcmp(ifm_link_state(&dst), "up"))
		ifm_notice("%s: destination is %s; copies are dropped until it is up with carrier",
			   dst.name, ifm_link_state(&dst));
	ifm_session_warn(nl, &v, g, &src, &dst, dir);
out:
	ifm_reach_free(g);
	ifm_view_free(&v);
	return r;
}

/* f goes to DEST: the device that name names now, or a deleted one of that name */
static bool selected(const struct ifm_filter *f, const struct ifm_link *dst, unsigned int hash)
{
	return (dst->ifindex && f->act.ifindex == dst->ifindex) ||
	       (f->act.ifindex == 0 && f->act.cookie.dest_hash == hash);
}

/*
 * Down removes only filters that carry ifmirror's cookie, then the qdiscs
 * ifmirror created once nothing else hangs on them. Nothing to remove, or
 * SOURCE gone, is success: ifdown must never fail because of a mirror.
 * For a hook (keep_config), a filter the config file owns (apply's flag in
 * its cookie) stays: the file, not the interface's stanza or profile, says
 * when it goes.
 */
static int mirror_down(struct ifm_nl *nl, const char *source, const char *dest, bool keep_config)
{
	struct ifm_link src, dst = { 0 }, target = { 0 };
	struct ifm_dev_tc t;
	unsigned int hash = 0;
	struct ifm_budget_release rel[16];
	size_t nrel = 0;
	enum ifm_dir kept = 0;
	int kept_to = 0;
	bool whole;
	int r, removed = 0;

	ifm_pending_del(source, dest);
	r = ifm_link_get(nl, source, &src);
	if (r == -ENODEV) {
		ifm_info("%s: no such device, nothing to remove", source);
		return 0;
	} else if (r < 0) {
		ifm_err("%s: %s", source, strerror(-r));
		return r;
	}
	if (dest) {
		/* DEST is the device that name names now; a session whose
		 * destination was deleted is matched by the name it had. A live
		 * destination renamed away from DEST is not DEST's any more. */
		if (ifm_link_get(nl, dest, &dst) < 0)
			dst.ifindex = 0;
		target = dst;
		hash = ifm_name_hash(dest);
	}

	r = ifm_dev_tc_scan(nl, src.ifindex, &t);
	if (r < 0) {
		ifm_err("%s: cannot read tc state: %s", src.name, ifm_nl_reason(nl, r));
		return r;
	}
	/* every filter on a clsact of ours goes, and nothing else hangs there:
	 * the qdisc goes whole, filters and all (one request, as flush does) */
	whole = !strcmp(t.q.ingress_kind, "clsact") && !ifm_hooks_have_foreign(&t, IFM_DIR_BOTH);
	for (size_t i = 0; whole && i < t.nf; i++)
		whole = !ifm_filter_is_devprog(&t.f[i]) &&
			(!ifm_filter_is_ours(&t.f[i]) || !dest || selected(&t.f[i], &dst, hash)) &&
			!(keep_config && ifm_filter_is_ours(&t.f[i]) &&
			  (t.f[i].act.cookie.flags & IFM_COOKIE_FROM_CONFIG));
	whole = whole && ifm_owned_dev(src.ifindex, src.name, "clsact");
	for (size_t i = 0; i < t.nf; i++) {
		const struct ifm_filter *f = &t.f[i];
		const char *name;

		if (!ifm_filter_is_ours(f))
			continue;
		if (dest && !selected(f, &dst, hash))
			continue;
		if (keep_config && (f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG)) {
			kept |= f->hook_dir;
			kept_to = f->act.ifindex;
			continue;
		}
		if (!whole && f->block) {
			/* the filter is the whole block's: only leaving it (the
			 * qdisc going) takes this device out */
			ifm_err("%s: its %s mirror is on shared tc block %u with other devices, and "
				"this qdisc holds more than that mirror: not removed", src.name,
				ifm_dir_name(f->hook_dir), f->block);
			ifm_dev_tc_free(&t);
			return -EBUSY;
		}
		r = whole ? 0 : ifm_filter_del(nl, &t, f);
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove %s mirror filter (pref %u): %s", src.name,
				ifm_dir_name(f->hook_dir), f->pref, ifm_nl_reason(nl, r));
			ifm_dev_tc_free(&t);
			return r;
		}
		removed++;
		if (f->has_police) {
			size_t k = 0;

			while (k < nrel && rel[k].index != f->police.index)
				k++;
			if (k == nrel && nrel < sizeof(rel) / sizeof(rel[0]))
				rel[nrel++] = (struct ifm_budget_release){
					.index = f->police.index, .bound = f->police.police_bindcnt };
			if (k < nrel && rel[k].bound)
				rel[k].bound--;
		}
		if (ifm_quiet())
			continue;
		/* the destination's name: asked once per device */
		if (f->act.ifindex && f->act.ifindex != target.ifindex &&
		    ifm_link_by_index(nl, f->act.ifindex, &target) < 0)
			target.ifindex = 0;
		if (f->act.ifindex && f->act.ifindex == target.ifindex)
			name = target.name;
		else
			name = dest ? dest : "a deleted device";
		ifm_info("%s: %s mirror to %s removed", src.name, ifm_dir_name(f->hook_dir), name);
	}
	ifm_dev_tc_free(&t);

	if (whole) {
		r = ifm_hook_clsact.destroy(nl, src.ifindex);
		if (r == 0 || r == -ENOENT || r == -EINVAL)
			r = ifm_owned_set_dev(src.ifindex, src.name, "clsact", false);
	} else {
		r = ifm_hooks_tidy(nl, src.ifindex);
	}
	if (r < 0) {
		ifm_err("%s: mirror removed, but its qdisc could not be: %s", src.name,
			ifm_nl_reason(nl, r));
		return r;
	}
	/* the police budget of a destination gone goes with its last session */
	if (nrel)
		ifm_budget_gc(nl, rel, nrel, false);
	if (kept) {
		const char *name = dest ? dest : "its destination";

		if (!dest && kept_to && ifm_link_by_index(nl, kept_to, &target) == 0)
			name = target.name;
		ifm_warn("%s: %s mirror to %s left alone: the config file's session "
			 "(ifmirror apply owns it)", src.name, ifm_dir_name(kept), name);
	} else if (!removed) {
		ifm_info("%s: no ifmirror session%s%s, nothing to remove", src.name,
		       dest ? " to " : "", dest ? dest : "");
	}
	return 0;
}

int ifm_mirror_down(struct ifm_nl *nl, const char *source, const char *dest)
{
	return mirror_down(nl, source, dest, false);
}

int ifm_mirror_down_hook(struct ifm_nl *nl, const char *source, const char *dest)
{
	return mirror_down(nl, source, dest, true);
}
