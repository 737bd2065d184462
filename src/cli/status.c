// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror status [SOURCE] [--json]
 *
 * Reads only; takes no lock. A destination that was deleted shows as "gone":
 * the kernel keeps the action without a device and never re-binds it, so
 * mirroring has stopped until `ifmirror up` runs again.
 */
#include "cli.h"
#include "pattern.h"
#include "view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct row {
	const char *source;
	const struct ifm_filter *f;
	const struct ifm_link *dest;   /* NULL: gone */
	unsigned int snaplen;          /* the destination's, 0: none */
	struct ifm_budget_state budget; /* the destination's, how NULL: none */
};

static const char *hook_kind(const struct ifm_dev_tc *t, enum ifm_dir dir)
{
	const struct ifm_hook_ops *h = ifm_hook_present(&t->q, dir);

	return h ? h->kind : "?";
}

static void print_row(const struct ifm_dev_tc *t, const struct row *r, bool json, bool first)
{
	const struct ifm_filter *f = r->f;
	const char *state = r->dest ? ifm_link_state(r->dest) : "gone";
	uint64_t dropped = f->act.overlimits;
	bool has_expr = ifm_match_has_expr(f->prog_len, f->sample);
	char expr[1024] = "";

	if (has_expr && !ifm_match_recall(f->prog_hash, expr, sizeof(expr)))
		snprintf(expr, sizeof(expr), "(a BPF program of %u instructions)", f->prog_len);

	if (json) {
		printf("%s\n  {\"source\": ", first ? "" : ",");
		ifm_json_str(r->source);
		printf(", \"direction\": \"%s\", \"destination\": ", ifm_dir_name(f->hook_dir));
		if (r->dest)
			ifm_json_str(r->dest->name);
		else
			printf("null");
		printf(", \"destination_ifindex\": %u, \"destination_state\": \"%s\", "
		       "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"dropped\": %" PRIu64
		       ", \"hook\": \"%s\", \"classifier\": \"%s\", \"pref\": %u, ",
		       r->dest ? (unsigned)r->dest->ifindex : f->act.cookie.dest_ifindex, state,
		       f->act.packets, f->act.bytes, dropped, hook_kind(t, f->hook_dir), f->kind,
		       f->pref);
		printf("\"dropped_budget\": %" PRIu64 ", \"destination_budget\": ",
		       r->budget.dropped);
		if (r->budget.how)
			printf("{\"how\": \"%s\", \"rate_bits\": %llu, \"burst_bytes\": %u}, ",
			       r->budget.how, r->budget.bits, r->budget.burst);
		else
			printf("null, ");
		printf("\"match\": ");
		if (has_expr)
			ifm_json_str(expr);
		else
			printf("null");
		printf(", \"sample\": %u", f->sample);
		if (r->snaplen)
			printf(", \"destination_snaplen\": %u}", r->snaplen);
		else
			printf(", \"destination_snaplen\": null}");
		return;
	}
	if (r->dest)
		printf("%s %s -> %s (%s)", r->source, ifm_dir_name(f->hook_dir), r->dest->name,
		       state);
	else
		printf("%s %s -> [deleted device, was ifindex %u] (gone: mirroring stopped; "
		       "run 'ifmirror up' again)", r->source, ifm_dir_name(f->hook_dir),
		       f->act.cookie.dest_ifindex);
	printf(" packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64, f->act.packets,
	       f->act.bytes, dropped);
	if (r->budget.how)
		printf(" dropped_budget %" PRIu64 " budget %llubit/s", r->budget.dropped,
		       r->budget.bits);
	if (has_expr)
		printf(" match '%s'", expr);
	if (f->sample > 1)
		printf(" sample 1/%u", f->sample);
	if (r->snaplen)
		printf(" snaplen %u", r->snaplen);
	printf(" [%s %s pref %u]\n", hook_kind(t, f->hook_dir), f->kind, f->pref);
}

static void collector_lines(struct ifm_nl *nl, const struct ifm_link *links, size_t n,
			       const char *only)
{
	for (size_t i = 0; i < n; i++) {
		struct ifm_collector_mark a;
		struct ifm_budget_state b;

		if (!links[i].is_bridge || !ifm_collector_mark_parse(links[i].alias, &a) ||
		    (only && strcmp(only, links[i].name)))
			continue;
		printf("collector %s (%s)", links[i].name, ifm_link_state(&links[i]));
		for (size_t j = 0; j < n; j++)
			if (!strcmp(links[j].name, a.sink))
				printf(" sink %s %s (%s)", a.sink, links[j].kind,
				       ifm_link_state(&links[j]));
		for (int p = 0; p < a.nports; p++) {
			const struct ifm_link *port = NULL;

			for (size_t j = 0; j < n && !port; j++)
				if (!strcmp(links[j].name, a.ports[p]))
					port = &links[j];
			if (!port)
				printf(" port %s (missing)", a.ports[p]);
			else if (port->master != links[i].ifindex)
				printf(" port %s (%s, detached)", a.ports[p], ifm_link_state(port));
			else
				printf(" port %s (%s)", a.ports[p], ifm_link_state(port));
		}
		if (ifm_budget_get(nl, links[i].ifindex, &b) == 0 && b.how)
			printf(" budget %llubit/s burst %u (%s) passed %" PRIu64 " dropped_budget %"
			       PRIu64, b.bits, b.burst, b.how, b.packets, b.dropped);
		putchar('\n');
	}
}

/* "pattern [session S] source PATS -> DEST: A B" for each session with patterns */
static int pattern_lines(struct ifm_nl *nl, const char *path)
{
	struct ifm_config c;
	struct ifm_view v = { 0 };
	struct ifm_expansion x = { 0 };
	bool was;
	int r;

	if (ifm_config_load(path, &c) < 0)
		return -EINVAL;
	was = ifm_quiet_set(true); /* what a pattern skips is apply's to say */
	r = ifm_view_links(&v, nl);
	if (r == 0)
		r = ifm_expand(&c, &v, false, &x);
	ifm_quiet_set(was);
	for (int s = 0; r == 0 && s < c.nsessions; s++) {
		const struct ifm_conf_session *cs = &c.sessions[s];
		int n = 0;

		if (!cs->npats)
			continue;
		printf("pattern [session %s] source", cs->name);
		for (int i = 0; i < cs->npats; i++)
			printf(" %s", cs->pats[i]);
		printf(" -> %s:", cs->to);
		for (int i = 0; i < x.n; i++)
			if (x.v[i].session == s && ++n)
				printf(" %s", x.v[i].name);
		printf("%s\n", n ? "" : " matches nothing now");
	}
	if (r < 0)
		ifm_err("%s: cannot match its patterns: %s", path, strerror(-r));
	ifm_expansion_free(&x);
	ifm_view_free(&v);
	ifm_config_free(&c);
	return r;
}

/* the snaplen filter on dev's egress, as the view shows it; 0: none */
static unsigned int view_snaplen(struct ifm_view *v, int ifindex)
{
	struct ifm_view_dev *d = ifm_view_dev(v, ifindex);
	unsigned int snaplen = 0;

	for (size_t i = 0; d && d->scanned && i < d->t.nf; i++)
		if (d->t.f[i].hook_dir == IFM_DIR_EGRESS && ifm_filter_is_snaplen(&d->t.f[i]))
			snaplen = ifm_snaplen_mark_parse(d->t.f[i].bpf_name);
	return snaplen;
}

/*
 * One dump of the links (no statistics), one of all qdiscs, and filter
 * dumps only where a hook hangs: the view apply plans from.
 */
int cmd_status(int argc, char *argv[])
{
	struct ifm_opts o;
	struct ifm_nl nl;
	struct ifm_view v = { 0 };
	const struct ifm_link **by_index = NULL;
	struct ifm_dev_tc one = { 0 };
	bool one_scanned = false;
	int maxdev = 0;
	size_t rows = 0;
	char err[160];
	int r, ret = IFM_EXIT_RUNTIME;

	if (ifm_parse_opts(IFM_ARGS_STATUS, argc, argv, &o, err, sizeof(err)) < 0) {
		ifm_err("status: %s", err);
		return IFM_EXIT_USAGE;
	}
	if (o.config && o.json) {
		ifm_err("status: --config is for the text output, not --json");
		return IFM_EXIT_USAGE;
	}
	if (ifm_begin_read(&nl) < 0)
		return IFM_EXIT_RUNTIME;
	r = ifm_view_links(&v, &nl);
	if (r < 0) {
		ifm_err("cannot list devices: %s", strerror(-r));
		goto out;
	}
	if (o.source && !ifm_view_link(&v, o.source)) {
		ifm_err("%s: no such device", o.source);
		goto out;
	}
	if (o.source) {
		/* one device: its filters alone, and its destinations' snaplen asked */
		const struct ifm_link *l = ifm_view_link(&v, o.source);

		r = ifm_dev_tc_scan(&nl, l->ifindex, &one);
		if (r < 0) {
			ifm_err("%s: cannot read tc state: %s", o.source, ifm_nl_reason(&nl, r));
			goto out;
		}
		one_scanned = true;
	} else if ((r = ifm_view_scan(&v, &nl)) < 0) {
		ifm_err("cannot read tc state: %s", ifm_nl_reason(&nl, r));
		goto out;
	}
	for (size_t i = 0; i < v.nlinks; i++)
		if (v.links[i].ifindex > maxdev)
			maxdev = v.links[i].ifindex;
	if (!(by_index = calloc((size_t)maxdev + 1, sizeof(*by_index)))) {
		ifm_err("status: %s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < v.nlinks; i++)
		by_index[v.links[i].ifindex] = &v.links[i];
	if (o.json)
		printf("[");
	for (size_t i = 0; i < v.nlinks; i++) {
		struct ifm_view_dev *d = ifm_view_dev(&v, v.links[i].ifindex);
		const struct ifm_dev_tc *t = o.source ? &one : d && d->scanned ? &d->t : NULL;

		if ((o.source && strcmp(v.links[i].name, o.source)) || !t)
			continue;
		for (size_t j = 0; j < t->nf; j++) {
			const struct ifm_filter *f = &t->f[j];
			struct row row = { .source = v.links[i].name, .f = f };

			if (!ifm_filter_is_ours(f))
				continue;
			if (f->act.ifindex > 0 && f->act.ifindex <= maxdev)
				row.dest = by_index[f->act.ifindex];
			if (row.dest && o.source)
				ifm_snaplen_get(&nl, row.dest->ifindex, &row.snaplen);
			else if (row.dest)
				row.snaplen = view_snaplen(&v, row.dest->ifindex);
			/* budgets hang only on ifmirror's own bridges and tunnels */
			if (row.dest && !strncmp(row.dest->alias, "ifmirror-", 9))
				ifm_budget_get(&nl, row.dest->ifindex, &row.budget);
			print_row(t, &row, o.json, rows++ == 0);
		}
	}
	if (o.json)
		printf("%s]\n", rows ? "\n" : "");
	else
		collector_lines(&nl, v.links, v.nlinks, o.source);
	if (o.config && !o.json && pattern_lines(&nl, o.config) < 0)
		goto out;
	ret = IFM_EXIT_OK;
out:
	if (one_scanned)
		ifm_dev_tc_free(&one);
	free(by_index);
	ifm_view_free(&v);
	ifm_nl_close(&nl);
	return ret;
}
