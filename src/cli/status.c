// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror status [SOURCE] [--json | --prometheus [--textfile DIR] | --config FILE]
 *
 * Reads only; takes no lock. A destination that was deleted shows as "gone":
 * the kernel keeps the action without a device and never re-binds it, so
 * mirroring has stopped until `ifmirror up` runs again.
 */
#include "status.h"
#include "pattern.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_text(const struct st_session *s)
{
	if (s->dest)
		printf("%s %s -> %s (%s)", s->src->name, ifm_dir_name(s->dir), s->dest->name,
		       st_state(s->dest));
	else
		printf("%s %s -> [deleted device, was ifindex %u] (gone: mirroring stopped; "
		       "run 'ifmirror up' again)", s->src->name, ifm_dir_name(s->dir),
		       s->dest_ifindex);
	printf(" packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64, s->packets, s->bytes,
	       s->dropped);
	if (s->budget.how)
		printf(" over-budget %" PRIu64 " budget %llubit/s", s->budget_drops, s->budget.bits);
	if (s->match)
		printf(" match '%s'", s->match);
	if (s->sample > 1)
		printf(" sample 1/%u", s->sample);
	if (s->snaplen)
		printf(" snaplen %u", s->snaplen);
	if (s->block)
		printf(" [%s %s pref %u, shared block %u: counters of all its devices]\n", s->hook,
		       s->classifier, s->pref, s->block);
	else
		printf(" [%s %s pref %u]\n", s->hook, s->classifier, s->pref);
}

static void print_port(const char *what, const struct st_port *p, bool sink)
{
	if (!p->l)
		printf(" %s %s (missing)", what, p->name);
	else if (sink)
		printf(" %s %s %s (%s)", what, p->name, p->l->kind, st_state(p->l));
	else if (!p->attached)
		printf(" %s %s (%s, detached)", what, p->name, st_state(p->l));
	else
		printf(" %s %s (%s)", what, p->name, st_state(p->l));
}

static void collector_lines(const struct st_status *st)
{
	for (size_t i = 0; i < st->nc; i++) {
		const struct st_collector *c = &st->c[i];

		printf("collector %s (%s)", c->br->name, st_state(c->br));
		if (c->sink.l)
			print_port("sink", &c->sink, true);
		for (int p = 0; p < c->nports; p++)
			print_port("port", &c->ports[p], false);
		if (c->budget.how)
			printf(" budget %llubit/s burst %u (%s) passed %" PRIu64 " over-budget %" PRIu64,
			       c->budget.bits, c->budget.burst, c->budget.how, c->budget.packets,
			       c->budget.dropped);
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

int cmd_status(int argc, char *argv[])
{
	struct ifm_opts o;
	struct ifm_nl nl;
	struct st_status st;
	char err[160];
	int ret = IFM_EXIT_RUNTIME;

	if (ifm_parse_opts(IFM_ARGS_STATUS, argc, argv, &o, err, sizeof(err)) < 0) {
		ifm_err("status: %s", err);
		return IFM_EXIT_USAGE;
	}
	if (o.config && (o.json || o.prometheus)) {
		ifm_err("status: --config is for the text output, not --%s",
			o.json ? "json" : "prometheus");
		return IFM_EXIT_USAGE;
	}
	if (o.json && o.prometheus) {
		ifm_err("status: --json and --prometheus are two outputs: give one");
		return IFM_EXIT_USAGE;
	}
	if (o.textfile && !o.prometheus) {
		ifm_err("status: --textfile writes the --prometheus output: give both");
		return IFM_EXIT_USAGE;
	}
	if (ifm_begin_read(&nl) < 0)
		return IFM_EXIT_RUNTIME;
	/* thousands of sessions: the output in 64 KiB writes, not 4 KiB ones */
	{
		static char obuf[64 << 10];

		setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	}
	if (st_read(&nl, o.source, &st) < 0)
		goto out;
	if (o.json) {
		st_print_json(&st);
	} else if (o.prometheus) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = o.textfile ? open_memstream(&text, &len) : stdout;

		if (!f) {
			ifm_err("status: %s", strerror(errno));
			goto out;
		}
		st_print_prometheus(&st, f);
		if (o.textfile) {
			int r = fclose(f) == 0 ? st_write_textfile(o.textfile, text, len) : -1;

			free(text);
			if (r < 0)
				goto out;
		}
	} else {
		for (size_t i = 0; i < st.ns; i++)
			print_text(&st.s[i]);
		collector_lines(&st);
		if (o.config && pattern_lines(&nl, o.config) < 0)
			goto out;
	}
	ret = IFM_EXIT_OK;
out:
	st_free(&st);
	ifm_nl_close(&nl);
	return ret;
}
