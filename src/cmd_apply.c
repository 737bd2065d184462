// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror apply [--config FILE] [--dry-run] [-q]
 * ifmirror flush [-q]
 *
 * apply makes the kernel match the file: tunnels and collectors first, then
 * the sessions; it removes the sessions an earlier apply made (their cookie
 * says so) that the file no longer names, and touches nothing else. It runs
 * in one process over one netlink socket: one dump of the links, one of all
 * qdiscs, filter dumps only for devices that have hooks, and new sessions go
 * out as one pipelined batch. Sessions that exist but differ take the same
 * path as `ifmirror up`.
 *
 * flush removes everything ifmirror made: sessions of any origin, snaplen
 * filters, the qdiscs ifmirror created, collectors, tunnels, deferred
 * sessions.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/ifmirror.conf"

struct want {
	const struct ifm_conf_session *cs;
	const char *source;
	int src, dst;                  /* ifindex; dst 0 until the device exists */
	const char *dst_name;
	enum { KEEP, FAST, SLOW } how;
	struct ifm_match m;
	uint16_t pref;
	unsigned int first_result;     /* in the batch */
	int nresults;
};

struct dev {
	bool hooked, scanned, clsact_new, tidy;
	bool leads_on;                 /* mirrors, sessions or ports lead out of it */
	unsigned int clsact_result;    /* index in the batch */
	uint16_t next_pref;
	struct ifm_dev_tc t;
};

struct apply_ctx {
	struct ifm_nl *nl;
	struct ifm_config *c;
	bool dry, quiet;
	struct ifm_link *links;
	size_t nlinks;
	struct ifm_link **by_name;     /* sorted, for bsearch */
	struct ifm_qdisc_map qmap;
	struct dev *devs;              /* by ifindex */
	int maxdev;
	struct want *w;
	int nw;
	int added, removed, changed, failed;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct ifm_link *const *)a)->name, (*(struct ifm_link *const *)b)->name);
}

static int load_links(struct apply_ctx *a)
{
	int r;

	free(a->links);
	free(a->by_name);
	a->by_name = NULL;
	r = ifm_link_list(a->nl, &a->links, &a->nlinks);
	if (r < 0)
		return r;
	a->by_name = calloc(a->nlinks + 1, sizeof(*a->by_name));
	if (!a->by_name)
		return -ENOMEM;
	for (size_t i = 0; i < a->nlinks; i++)
		a->by_name[i] = &a->links[i];
	qsort(a->by_name, a->nlinks, sizeof(*a->by_name), cmp_name);
	return 0;
}

static const struct ifm_link *link_named(const struct apply_ctx *a, const char *name)
{
	struct ifm_link key, *kp = &key, **found;

	snprintf(key.name, sizeof(key.name), "%s", name);
	found = bsearch(&kp, a->by_name, a->nlinks, sizeof(*a->by_name), cmp_name);
	return found ? *found : NULL;
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

/* Everything the kernel must have for the file to apply, before any change. */
static int validate(struct apply_ctx *a)
{
	struct ifm_config *c = a->c;
	int errors = 0, n = 0;

	for (int i = 0; i < c->nsessions; i++)
		n += c->sessions[i].nsources;
	a->w = calloc((size_t)n + 1, sizeof(*a->w));
	if (!a->w)
		return -ENOMEM;
	for (int i = 0; i < c->nsessions; i++) {
		const struct ifm_conf_session *cs = &c->sessions[i];
		const struct ifm_link *dst = link_named(a, cs->to);
		char what[600];

		if (!dst && !in_file_as_device(c, cs->to)) {
			ifm_err("%s:%d: to %s: no such device, and no [collector %s] or [tunnel %s] "
				"in the file", c->path, cs->to_line, cs->to, cs->to, cs->to);
			errors++;
		}
		if (cs->match || cs->sample > 1) {
			struct ifm_match m;

			snprintf(what, sizeof(what), "%s:%d: match", c->path, cs->match_line);
			if (ifm_match_build(cs->to, cs->match, cs->sample, &m, true, what) < 0)
				errors++;
			ifm_match_free(&m);
		}
		for (int j = 0; j < cs->nsources; j++) {
			const struct ifm_link *src = link_named(a, cs->sources[j]);
			struct want *w = &a->w[a->nw++];

			w->cs = cs;
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
	return errors ? -EINVAL : 0;
}

static struct dev *dev_of(struct apply_ctx *a, int ifindex)
{
	return ifindex > 0 && ifindex <= a->maxdev ? &a->devs[ifindex] : NULL;
}

/* One qdisc dump for all devices, filter dumps only where hooks hang. */
static int scan(struct apply_ctx *a)
{
	int r = ifm_qdiscs_scan_all(a->nl, &a->qmap);

	if (r < 0)
		return r;
	a->maxdev = 0;
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i].ifindex > a->maxdev)
			a->maxdev = a->links[i].ifindex;
	a->devs = calloc((size_t)a->maxdev + 1, sizeof(*a->devs));
	if (!a->devs)
		return -ENOMEM;
	for (size_t i = 0; i < a->nlinks; i++) {
		int ifindex = a->links[i].ifindex;
		const struct ifm_qdiscs *q = ifm_qdisc_map_get(&a->qmap, ifindex);
		struct dev *d = &a->devs[ifindex];

		d->next_pref = 1;
		d->hooked = ifm_hook_present(q, IFM_DIR_INGRESS) || ifm_hook_present(q, IFM_DIR_EGRESS);
		d->t.q = *q;
		if (!d->hooked && !q->ingress_kind[0])
			continue;
		r = ifm_dev_tc_scan_known(a->nl, ifindex, q, &d->t);
		if (r < 0)
			return r;
		d->scanned = true;
		d->next_pref = ifm_pref_free(&d->t);
		for (size_t j = 0; j < d->t.nf; j++)
			d->leads_on |= d->t.f[j].has_action && d->t.f[j].act.is_mirred;
	}
	/* what else leads on: the file's sessions, bridge ports */
	for (int i = 0; i < a->nw; i++)
		if (a->w[i].src > 0 && a->w[i].src <= a->maxdev)
			a->devs[a->w[i].src].leads_on = true;
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i].master > 0 && a->links[i].master <= a->maxdev)
			a->devs[a->links[i].master].leads_on = true;
	return 0;
}

static void scan_free(struct apply_ctx *a)
{
	for (int i = 0; a->devs && i <= a->maxdev; i++)
		ifm_dev_tc_free(&a->devs[i].t);
	free(a->devs);
	a->devs = NULL;
	a->maxdev = 0;
	ifm_qdisc_map_free(&a->qmap);
}

/* Does the kernel plus the file lead from 'from' back to 'to'? */
static bool loops(struct apply_ctx *a, int from, int to, int depth)
{
	struct dev *d = dev_of(a, from);

	if (from == to)
		return true;
	if (depth > 32 || !d || !d->leads_on)
		return false;
	for (size_t i = 0; d->scanned && i < d->t.nf; i++)
		if (d->t.f[i].has_action && d->t.f[i].act.is_mirred && d->t.f[i].act.ifindex > 0 &&
		    d->t.f[i].act.ifindex != from && loops(a, d->t.f[i].act.ifindex, to, depth + 1))
			return true;
	for (int i = 0; i < a->nw; i++)
		if (a->w[i].src == from && a->w[i].dst && loops(a, a->w[i].dst, to, depth + 1))
			return true;
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i].master == from && loops(a, a->links[i].ifindex, to, depth + 1))
			return true;
	return false;
}

static bool same_dest(const struct ifm_filter *f, int dst, const char *dst_name)
{
	return (dst && f->act.ifindex == dst) ||
	       (f->act.ifindex == 0 && f->act.cookie.dest_hash == ifm_name_hash(dst_name));
}

/* KEEP: exactly as wanted; FAST: nothing of it yet; SLOW: exists, differs. */
static void classify(struct apply_ctx *a, struct want *w)
{
	struct dev *d = dev_of(a, w->src);
	enum ifm_dir have = 0;
	bool other = false;

	w->how = FAST;
	for (size_t i = 0; d && d->scanned && i < d->t.nf; i++) {
		const struct ifm_filter *f = &d->t.f[i];

		if (!ifm_filter_is_ours(f) || !same_dest(f, w->dst, w->dst_name))
			continue;
		if (f->act.ifindex == w->dst && f->prog_hash == w->m.hash &&
		    (f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG) && (w->cs->dir & f->hook_dir) &&
		    !(have & f->hook_dir))
			have |= f->hook_dir;
		else
			other = true;
	}
	if (have == w->cs->dir && !other)
		w->how = KEEP;
	else if (have || other)
		w->how = SLOW;
	else if (d && d->t.q.ingress_kind[0] && strcmp(d->t.q.ingress_kind, "clsact"))
		w->how = SLOW; /* an ingress qdisc: the fallbacks of `up` */
	else if (d && !d->t.q.ingress_kind[0] && ifm_avoid("clsact"))
		w->how = SLOW;
}

static const char *name_of(const struct apply_ctx *a, int ifindex)
{
	for (size_t i = 0; i < a->nlinks; i++)
		if (a->links[i].ifindex == ifindex)
			return a->links[i].name;
	return "a deleted device";
}

/* The new sessions, pipelined: clsact where missing, then their filters. */
static int add_fast(struct apply_ctx *a)
{
	static const enum ifm_dir dirs[] = { IFM_DIR_INGRESS, IFM_DIR_EGRESS };
	/* matchall where the kernel has it: the first request finds out */
	const struct ifm_cls_ops *plain = ifm_avoid("matchall") ? &ifm_cls_u32 : &ifm_cls_matchall;
	struct ifm_batch b;
	int r, pending_probe = 1;

	r = ifm_batch_init(&b, a->nl);
	if (r < 0)
		return r;
again:
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct dev *d = dev_of(a, w->src);
		struct ifm_link dl = { .ifindex = w->dst };

		if (w->how != FAST || w->nresults)
			continue;
		if (!ifm_hook_present(&d->t.q, IFM_DIR_INGRESS) && !d->clsact_new) {
			d->clsact_new = true;
			d->clsact_result = b.n;
			r = ifm_batch_add(&b, ifm_clsact_msg(true, w->src));
			if (r < 0)
				goto out;
		}
		snprintf(dl.name, sizeof(dl.name), "%s", w->dst_name);
		w->pref = d->next_pref;
		w->first_result = b.n;
		for (int k = 0; k < 2; k++) {
			struct ifm_cookie ck;
			const struct ifm_cls_ops *cls = w->m.insns ? &ifm_cls_bpf : plain;

			if (!(w->cs->dir & dirs[k]))
				continue;
			ifm_cookie_make(&ck, dirs[k], &dl);
			ck.flags |= IFM_COOKIE_FROM_CONFIG;
			r = ifm_batch_add(&b, ifm_filter_add_msg(w->src, ifm_hook_clsact.parent(dirs[k]),
								 w->pref, cls, &w->m, w->dst, &ck));
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
		if (pending_probe) {
			/* the first request tells whether the kernel has matchall */
			r = ifm_batch_finish(&b);
			if (r < 0)
				goto out;
			if (!w->m.insns && plain == &ifm_cls_matchall &&
			    b.results[w->first_result] == -ENOENT) {
				plain = &ifm_cls_u32;
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

		if (w->how != FAST)
			continue;
		for (int k = 0; k < w->nresults; k++)
			if (b.results[w->first_result + (unsigned)k] < 0 && !err)
				err = b.results[w->first_result + (unsigned)k];
		if (err) {
			ifm_err("%s:%d: %s: cannot add mirror filter to %s: %s", a->c->path,
				w->cs->source_line, w->source, w->dst_name, strerror(-err));
			for (int k = 0; k < 2; k++)
				ifm_filter_del(a->nl, w->src, ifm_hook_clsact.parent(k ? IFM_DIR_EGRESS
										     : IFM_DIR_INGRESS),
					       w->pref);
			a->failed++;
			continue;
		}
		a->added++;
		ifm_match_remember(&w->m);
		if (!a->quiet)
			printf("%s: %s mirror to %s added (clsact, %s, pref %u)\n", w->source,
			       ifm_dir_name(w->cs->dir), w->dst_name,
			       w->m.insns ? "bpf" : plain->kind, w->pref);
	}
out:
	/* the qdiscs this batch created are ifmirror's, whatever else failed */
	for (int i = 1; i <= a->maxdev; i++)
		if (a->devs[i].clsact_new && a->devs[i].clsact_result < b.n &&
		    b.results[a->devs[i].clsact_result] == 0)
			ifm_owned_set(i, "clsact", true);
	if (r < 0)
		ifm_err("%s: the batch of new sessions stopped: %s", a->c->path, strerror(-r));
	ifm_batch_free(&b);
	return r;
}

static bool wanted(const struct apply_ctx *a, int src, const struct ifm_filter *f)
{
	for (int i = 0; i < a->nw; i++)
		if (a->w[i].src == src && (a->w[i].cs->dir & f->hook_dir) &&
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
	touched = calloc((size_t)a->maxdev + 1, sizeof(*touched));
	for (int i = 1; touched && i <= a->maxdev; i++) {
		struct dev *d = &a->devs[i];

		for (size_t j = 0; d->scanned && j < d->t.nf; j++) {
			const struct ifm_filter *f = &d->t.f[j];

			if (!ifm_filter_is_ours(f) || !(f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG) ||
			    wanted(a, i, f))
				continue;
			if (a->dry) {
				printf("would remove: %s %s mirror to %s (not in %s)\n", name_of(a, i),
				       ifm_dir_name(f->hook_dir), name_of(a, f->act.ifindex), a->c->path);
				continue;
			}
			if ((r = ifm_batch_add(&b, ifm_filter_del_msg(i, f->parent, f->pref))) < 0)
				break;
			if (!ntouched || touched[ntouched - 1] != i)
				touched[ntouched++] = i;
			a->removed++;
			if (!a->quiet)
				printf("%s: %s mirror to %s removed (not in %s)\n", name_of(a, i),
				       ifm_dir_name(f->hook_dir), name_of(a, f->act.ifindex), a->c->path);
		}
	}
	if (r == 0)
		r = ifm_batch_finish(&b);
	for (int i = 0; r == 0 && i < ntouched; i++)
		ifm_hooks_tidy(a->nl, touched[i], !a->quiet);
	if (r < 0)
		ifm_err("%s: removing sessions no longer in the file stopped: %s", a->c->path,
			strerror(-r));
	free(touched);
	ifm_batch_free(&b);
	return r;
}

static int apply(struct apply_ctx *a)
{
	struct ifm_config *c = a->c;
	int r;

	if ((r = load_links(a)) < 0 || (r = validate(a)) < 0 || (r = scan(a)) < 0)
		return r;
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];

		/* a source that is a port of its own collector, or any way back */
		for (int k = 0; k < c->ncollectors; k++)
			for (int j = 0; !strcmp(c->collectors[k].name, w->dst_name) &&
					j < c->collectors[k].nports; j++)
				if (!strcmp(c->collectors[k].ports[j], w->source))
					w->dst = -1;
		if (w->dst && (w->dst < 0 || loops(a, w->dst, w->src, 0))) {
			ifm_err("%s:%d: %s to %s would loop: %s leads back into %s", c->path,
				w->cs->line, w->source, w->dst_name, w->dst_name, w->source);
			return -ELOOP;
		}
	}
	if (a->dry) {
		for (int i = 0; i < c->ntunnels; i++)
			if (!link_named(a, c->tunnels[i].name))
				printf("would create: tunnel %s\n", c->tunnels[i].name);
		for (int i = 0; i < c->ncollectors; i++)
			if (!link_named(a, c->collectors[i].name))
				printf("would create: collector %s\n", c->collectors[i].name);
	}
	for (int i = 0; !a->dry && i < c->ntunnels; i++) {
		struct ifm_conf_tunnel *t = &c->tunnels[i];
		struct ifm_tunnel_spec s = {
			.name = t->name, .type = t->type, .remote = t->remote,
			.local = t->local[0] ? t->local : NULL, .dev = t->dev[0] ? t->dev : NULL,
			.id = t->id, .has_id = t->id_key[0] != '\0', .dstport = t->dstport,
			.snaplen = t->snaplen,
		};

		if ((r = ifm_tunnel_up(a->nl, &s, a->quiet)) < 0)
			return r;
	}
	for (int i = 0; !a->dry && i < c->ncollectors; i++) {
		struct ifm_conf_collector *k = &c->collectors[i];
		struct ifm_collector_spec s = { .bridge = k->name, .nports = k->nports,
						.sink = k->sink[0] ? k->sink : NULL,
						.snaplen = k->snaplen };

		for (int j = 0; j < k->nports; j++)
			s.ports[j] = k->ports[j];
		if ((r = ifm_collector_up(a->nl, &s, a->quiet)) < 0)
			return r;
	}
	if (!a->dry && (c->ntunnels || c->ncollectors)) {
		/* new devices, and the qdiscs and filters the steps above changed */
		scan_free(a);
		if ((r = load_links(a)) < 0 || (r = scan(a)) < 0)
			return r;
		for (int i = 0; i < a->nw; i++) {
			const struct ifm_link *d = link_named(a, a->w[i].dst_name);

			a->w[i].dst = d ? d->ifindex : 0;
		}
	}
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];

		if ((r = ifm_match_build(w->source, w->cs->match, w->cs->sample, &w->m, true,
					 "match")) < 0)
			return r;
		classify(a, w);
		if (a->dry && w->how != KEEP)
			printf("would %s: %s %s mirror to %s\n", w->how == FAST ? "add" : "change",
			       w->source, ifm_dir_name(w->cs->dir), w->dst_name);
	}
	if (a->dry)
		return remove_stale(a);
	for (int i = 0; i < a->nw; i++) {
		struct want *w = &a->w[i];
		struct ifm_session_spec s = { .source = w->source, .dest = w->dst_name,
					      .dir = w->cs->dir, .match = w->cs->match,
					      .sample = w->cs->sample, .from_config = true };

		if (w->how != SLOW)
			continue;
		if (ifm_mirror_up_spec(a->nl, &s, a->quiet) < 0)
			a->failed++;
		else
			a->changed++;
	}
	if ((r = add_fast(a)) < 0)
		return r;
	if ((r = remove_stale(a)) < 0)
		return r;
	return a->failed ? -EIO : 0;
}

static void apply_free(struct apply_ctx *a)
{
	for (int i = 0; i < a->nw; i++)
		ifm_match_free(&a->w[i].m);
	scan_free(a);
	free(a->w);
	free(a->links);
	free(a->by_name);
}

int cmd_apply(int argc, char *argv[])
{
	const char *path = DEFAULT_CONFIG;
	struct apply_ctx a = { 0 };
	struct ifm_config c;
	struct ifm_nl nl;
	int lock, r, ret = IFM_EXIT_RUNTIME;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n")) {
			a.dry = true;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			a.quiet = true;
		} else {
			ifm_err("apply: unexpected argument '%.40s' (see ifmirror --help)", argv[i]);
			return IFM_EXIT_USAGE;
		}
	}
	if (ifm_config_load(path, &c) < 0)
		return IFM_EXIT_RUNTIME;
	lock = ifm_begin(&nl);
	if (lock < 0) {
		ifm_config_free(&c);
		return IFM_EXIT_RUNTIME;
	}
	a.nl = &nl;
	a.c = &c;
	r = apply(&a);
	if (r < 0 && r != -EINVAL && r != -ELOOP)
		ifm_err("%s: not applied completely: %s", path,
			r == -EIO ? "some sessions failed (see above)" : strerror(-r));
	if (r == 0 && !a.dry && !a.quiet) {
		if (!nl.changes)
			printf("%s: %d session%s, nothing to change\n", path, a.nw, a.nw == 1 ? "" : "s");
		else
			printf("%s: %d added, %d changed, %d removed\n", path, a.added, a.changed,
			       a.removed);
	} else if (r == 0 && a.dry && !a.quiet) {
		printf("%s: dry run, nothing was changed\n", path);
	}
	if (r == 0)
		ret = IFM_EXIT_OK;
	apply_free(&a);
	ifm_end(&nl, lock);
	ifm_config_free(&c);
	return ret;
}

/* ---- flush ---- */

static int flush_pending(const struct ifm_session_spec *s, void *arg)
{
	(void)arg;
	ifm_pending_del(s->source, s->dest);
	return 0;
}

int cmd_flush(int argc, char *argv[])
{
	struct apply_ctx a = { 0 };
	struct ifm_config none = { .path = "" };
	struct ifm_batch b = { 0 };
	struct ifm_nl nl;
	bool quiet = false;
	int lock, r, ret = IFM_EXIT_RUNTIME, sessions = 0, devices = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else {
			ifm_err("flush: unexpected argument '%.40s'", argv[i]);
			return IFM_EXIT_USAGE;
		}
	}
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	a.nl = &nl;
	a.c = &none;
	a.quiet = quiet;
	if ((r = load_links(&a)) < 0 || (r = scan(&a)) < 0 || (r = ifm_batch_init(&b, &nl)) < 0)
		goto unlock;
	for (int i = 1; i <= a.maxdev && r == 0; i++) {
		struct dev *d = &a.devs[i];
		bool any = false;

		for (size_t j = 0; d->scanned && j < d->t.nf; j++) {
			if (ifm_filter_is_ours(&d->t.f[j]))
				sessions++;
			any |= ifm_filter_is_ours(&d->t.f[j]) || ifm_filter_is_snaplen(&d->t.f[j]);
		}
		if (!any)
			continue;
		devices++;
		/* a qdisc of ours with nothing else on it goes whole, filters and all */
		if (!ifm_hooks_have_foreign(&d->t, IFM_DIR_BOTH) &&
		    !strcmp(d->t.q.ingress_kind, "clsact") && ifm_owned(i, "clsact")) {
			d->clsact_new = true; /* here: deleted whole */
			d->clsact_result = b.n;
			r = ifm_batch_add(&b, ifm_clsact_msg(false, i));
			continue;
		}
		d->tidy = true;
		for (size_t j = 0; j < d->t.nf && r == 0; j++) {
			const struct ifm_filter *f = &d->t.f[j];

			if (ifm_filter_is_ours(f) || ifm_filter_is_snaplen(f))
				r = ifm_batch_add(&b, ifm_filter_del_msg(i, f->parent, f->pref));
		}
	}
	if (r == 0)
		r = ifm_batch_finish(&b);
	for (int i = 1; i <= a.maxdev; i++) {
		struct dev *d = &a.devs[i];

		if (d->clsact_new && d->clsact_result < b.n && b.results[d->clsact_result] == 0)
			ifm_owned_set(i, "clsact", false);
		else if (r == 0 && d->tidy)
			ifm_hooks_tidy(&nl, i, false);
	}
	/* collectors and tunnels, by the alias that marks them */
	for (size_t i = 0; i < a.nlinks; i++) {
		if (!strncmp(a.links[i].alias, IFM_ALIAS_COLLECTOR, strlen(IFM_ALIAS_COLLECTOR)) &&
		    a.links[i].is_bridge)
			ifm_collector_down(&nl, a.links[i].name, quiet);
		else if (!strncmp(a.links[i].alias, IFM_ALIAS_TUNNEL, strlen(IFM_ALIAS_TUNNEL)))
			ifm_tunnel_down(&nl, a.links[i].name, quiet);
	}
	ifm_pending_each(flush_pending, NULL);
	if (r == 0) {
		ret = IFM_EXIT_OK;
		if (!quiet)
			printf(sessions || nl.changes ? "flushed: %d mirror filters on %d devices\n"
						      : "nothing to flush\n", sessions, devices);
	} else {
		ifm_err("flush: %s", strerror(-r));
	}
unlock:
	ifm_batch_free(&b);
	apply_free(&a);
	ifm_end(&nl, lock);
	return ret;
}
