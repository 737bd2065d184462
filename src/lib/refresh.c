// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * refresh IFACE, behind `ifmirror refresh`, the ifupdown hooks and the
 * NetworkManager dispatcher: called whenever IFACE appears or comes up. It
 * finishes what was waiting for IFACE and changes nothing otherwise:
 *  - IFACE is a port of a collector bridge (named in its alias) but not
 *    attached (it was unplugged and is back): attach it again;
 *  - sessions whose destination had the name IFACE and was deleted (the
 *    kernel left their action without a device): point them at IFACE;
 *  - sessions deferred with `up --defer` until IFACE exists: apply them.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dangling {
	char source[IFM_IFNAMSIZ];
	enum ifm_dir dirs;
	uint64_t prog_hash;
	unsigned int prog_len, sample;
};

/* a shared block's mirror to the deleted device: one per block */
struct dangling_block {
	uint32_t block;
	enum ifm_dir dir;
	uint64_t prog_hash;
	unsigned int prog_len, sample;
	bool from_config;
};

/* the block's mirror re-pointed at self, once for all its devices */
static int repoint_block(struct ifm_nl *nl, const struct dangling_block *d,
			 const struct ifm_link *self)
{
	struct ifm_match m = { .sample = 1 };
	char expr[1024], what[64];
	struct ifm_block_mirror bm = { .block = d->block, .dir = d->dir, .dest = self, .m = &m,
				       .from_config = d->from_config, .what = what };
	bool replaced;
	int r = 0;

	snprintf(what, sizeof(what), "shared tc block %u", d->block);
	if (ifm_match_has_expr(d->prog_len, d->sample)) {
		if (!ifm_match_recall(d->prog_hash, expr, sizeof(expr))) {
			ifm_err("%s: cannot re-point its mirror to %s: its --match expression is not "
				"on record (run ifmirror apply again)", what, self->name);
			return -ENOENT;
		}
		r = ifm_match_build(self->name, expr[0] ? expr : NULL, d->sample, &m, "match");
	}
	if (r == 0)
		r = ifm_block_mirror(nl, &bm, &replaced);
	ifm_match_free(&m);
	return r;
}

struct pending_ctx {
	struct ifm_nl *nl;
	const char *ifname;
	int ret;
};

static int pending_one(const struct ifm_session_spec *sp, void *arg)
{
	struct pending_ctx *c = arg;
	struct ifm_link l;
	int r;

	if (strcmp(sp->source, c->ifname) && strcmp(sp->dest, c->ifname))
		return 0;
	if (ifm_link_get(c->nl, sp->source, &l) < 0 || ifm_link_get(c->nl, sp->dest, &l) < 0)
		return 0; /* the other end is still missing */
	r = ifm_mirror_up_spec(c->nl, sp);
	if (r < 0)
		c->ret = r;
	return 0;
}

static int prepare_one(const struct ifm_session_spec *sp, void *arg)
{
	const char *ifname = arg;

	if (sp->match && (!strcmp(sp->source, ifname) || !strcmp(sp->dest, ifname)))
		ifm_match_prepare(sp->match);
	return 0;
}

void ifm_refresh_prepare(const char *ifname)
{
	/* read again under the lock, where its errors are told */
	bool was = ifm_report_mute(true);

	ifm_pending_each(prepare_one, (void *)ifname);
	ifm_report_mute(was);
}

int ifm_refresh(struct ifm_nl *nl, const char *ifname)
{
	struct ifm_link *links = NULL, *self = NULL;
	struct dangling *dl = NULL;
	struct pending_ctx pc = { .nl = nl, .ifname = ifname };
	unsigned int hash = ifm_name_hash(ifname);
	struct ifm_blocks blocks = { 0 };     /* each shared block dumped once */
	struct dangling_block *db = NULL;     /* two per block at most: one per hook */
	size_t nlinks = 0, nd = 0, nb = 0;
	int r, ret = 0;

	r = ifm_link_list(nl, &links, &nlinks);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nlinks; i++)
		if (!strcmp(links[i].name, ifname))
			self = &links[i];
	if (!self)
		goto out; /* gone again: nothing to finish */

	for (size_t i = 0; i < nlinks; i++) {
		const struct ifm_link *br = &links[i];

		if (!ifm_collector_has_port(br, ifname) || self->master == br->ifindex)
			continue;
		if (self->master) {
			ifm_err("%s: is a port of collector %s but belongs to another master now",
				ifname, br->name);
			ret = -EBUSY;
			continue;
		}
		r = ifm_port_attach(nl, self, br->ifindex);
		if (r < 0) {
			ifm_err("%s: cannot re-attach port %s: %s", br->name, ifname,
				ifm_nl_reason(nl, r));
			ret = r;
		} else {
			ifm_info("%s: port %s re-attached", br->name, ifname);
		}
	}

	/* dangling sessions of the old device of this name, on every device */
	dl = calloc(nlinks + 1, sizeof(*dl));   /* one per device at most */
	db = calloc(2 * nlinks + 1, sizeof(*db));   /* a device hangs on two blocks at most */
	if (!dl || !db) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nlinks; i++) {
		struct ifm_dev_tc t;
		struct ifm_qdiscs q;
		enum ifm_dir dirs = 0;

		if (links[i].ifindex == self->ifindex || ifm_qdiscs_scan(nl, links[i].ifindex, &q) < 0 ||
		    ifm_dev_tc_scan_blocks(nl, links[i].ifindex, &q, &t, &blocks) < 0)
			continue;
		for (size_t j = 0; j < t.nf; j++) {
			const struct ifm_filter *f = &t.f[j];
			bool dangling = ifm_filter_is_ours(f) && f->act.ifindex == 0 &&
					f->act.cookie.dest_hash == hash;
			size_t k = 0;

			if (f->block) {
				/* the block's, not this device's: once per block */
				while (dangling && k < nb && db[k].block != f->block)
					k++;
				if (dangling && k == nb)
					db[nb++] = (struct dangling_block){
						.block = f->block, .dir = f->hook_dir,
						.prog_hash = f->prog_hash, .prog_len = f->prog_len,
						.sample = f->sample,
						.from_config = f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG };
				continue;
			}
			if (dangling) {
				dirs |= t.f[j].hook_dir;
				dl[nd].prog_hash = t.f[j].prog_hash;
				dl[nd].prog_len = t.f[j].prog_len;
				dl[nd].sample = t.f[j].sample;
			}
		}
		ifm_dev_tc_free(&t);
		if (dirs) {
			snprintf(dl[nd].source, IFM_IFNAMSIZ, "%s", links[i].name);
			dl[nd++].dirs = dirs;
		}
	}
	ifm_blocks_free(&blocks);
	for (size_t i = 0; i < nb; i++)
		if ((r = repoint_block(nl, &db[i], self)) < 0)
			ret = r;
	for (size_t i = 0; i < nd; i++) {
		struct ifm_session_spec sp = { .source = dl[i].source, .dest = ifname,
					       .sample = dl[i].sample };
		struct ifm_dev_tc t;
		struct ifm_link src;
		enum ifm_dir live = 0;
		char expr[1024];

		/* the session keeps the directions it has towards a live ifname too */
		if (ifm_link_get(nl, dl[i].source, &src) == 0 &&
		    ifm_dev_tc_scan(nl, src.ifindex, &t) == 0) {
			for (size_t j = 0; j < t.nf; j++)
				if (ifm_filter_is_ours(&t.f[j]) && t.f[j].act.ifindex == self->ifindex)
					live |= t.f[j].hook_dir;
			ifm_dev_tc_free(&t);
		}
		sp.dir = dl[i].dirs | live;
		/* the session keeps its --match: the expression is noted by program */
		if (ifm_match_has_expr(dl[i].prog_len, dl[i].sample)) {
			if (!ifm_match_recall(dl[i].prog_hash, expr, sizeof(expr))) {
				ifm_err("%s: cannot re-point its mirror to %s: its --match expression "
					"is not on record (run ifmirror up again)", dl[i].source, ifname);
				ret = -ENOENT;
				continue;
			}
			sp.match = expr;
		}
		r = ifm_mirror_up_spec(nl, &sp);
		if (r < 0)
			ret = r;
	}

	ifm_pending_each(pending_one, &pc);
	if (pc.ret < 0)
		ret = pc.ret;
out:
	free(dl);
	free(db);
	free(links);
	return ret;
}
