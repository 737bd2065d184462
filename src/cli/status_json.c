// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * status --json: one object, {"sessions": [...], "collectors": [...],
 * "tunnels": [...]} (README and ifmirror(8) list the keys).
 */
#include "status.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>

static void str_or_null(const char *s)
{
	if (s)
		ifm_json_str(s);
	else
		printf("null");
}

/* {"how", "rate_bits", "burst_bytes", "passed", "dropped"} or null */
static void budget(const struct ifm_budget_state *b)
{
	if (!b->how) {
		printf("null");
		return;
	}
	printf("{\"how\": \"%s\", \"rate_bits\": %llu, \"burst_bytes\": %u, \"passed\": %" PRIu64
	       ", \"dropped\": %" PRIu64 "}", b->how, b->bits, b->burst, b->packets, b->dropped);
}

static void session(const struct st_session *s)
{
	bool gone = !s->dest;

	printf("{\"source\": ");
	ifm_json_str(s->src->name);
	printf(", \"direction\": \"%s\", \"destination\": ", ifm_dir_name(s->dir));
	str_or_null(s->dest ? s->dest->name : NULL);
	printf(", \"destination_ifindex\": %u, \"destination_state\": \"%s\", "
	       "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"dropped\": %" PRIu64
	       ", \"drops\": {\"destination_down\": %" PRIu64 ", \"destination_gone\": %" PRIu64
	       ", \"budget\": %" PRIu64 "}, \"hook\": \"%s\", \"classifier\": \"%s\", "
	       "\"pref\": %u, \"match\": ",
	       s->dest_ifindex, st_state(s->dest), s->packets, s->bytes, s->dropped,
	       gone ? 0 : s->dropped - s->budget_drops, gone ? s->dropped : 0, s->budget_drops, s->hook,
	       s->classifier, s->pref);
	str_or_null(s->match);
	printf(", \"sample\": %u, \"destination_snaplen\": ", s->sample);
	if (s->snaplen)
		printf("%u", s->snaplen);
	else
		printf("null");
	printf(", \"destination_budget\": ");
	budget(&s->budget);
	/* the block's counters: every device on it together */
	printf(", \"shared_block\": ");
	if (s->block)
		printf("%u", s->block);
	else
		printf("null");
	printf("}");
}

/* a port or the sink: {"name", "present", "attached", "kind", "state", "carrier", "operstate"} */
static void port(const struct st_port *p)
{
	printf("{\"name\": ");
	ifm_json_str(p->name);
	if (!p->l) {
		printf(", \"present\": false, \"attached\": false, \"kind\": null, "
		       "\"state\": \"missing\", \"carrier\": false, \"operstate\": null}");
		return;
	}
	printf(", \"present\": true, \"attached\": %s, \"kind\": ", p->attached ? "true" : "false");
	ifm_json_str(p->l->kind);
	printf(", \"state\": \"%s\", \"carrier\": %s, \"operstate\": \"%s\"}", st_state(p->l),
	       ifm_link_carrier(p->l) ? "true" : "false", ifm_link_operstate(p->l));
}

static void collector(const struct st_collector *c)
{
	printf("{\"bridge\": ");
	ifm_json_str(c->br->name);
	printf(", \"state\": \"%s\", \"carrier\": %s, \"operstate\": \"%s\", \"sink\": ",
	       st_state(c->br), ifm_link_carrier(c->br) ? "true" : "false",
	       ifm_link_operstate(c->br));
	port(&c->sink);
	printf(", \"ports\": [");
	for (int p = 0; p < c->nports; p++) {
		printf("%s", p ? ", " : "");
		port(&c->ports[p]);
	}
	printf("], \"budget\": ");
	budget(&c->budget);
	printf("}");
}

static void addr_or_null(int family, const unsigned char *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!family || ifm_addr_is_zero(a) || !inet_ntop(family, a, buf, sizeof(buf)))
		printf("null");
	else
		printf("\"%s\"", buf);
}

static void tunnel(const struct st_tunnel *t)
{
	const struct ifm_tunnel_info *ti = &t->ti;

	printf("{\"name\": ");
	ifm_json_str(ti->name);
	printf(", \"type\": \"%s\", \"kind\": \"%s\", \"id_key\": \"%s\", \"id\": ", ti->type,
	       ti->kind, ti->ops->id_key);
	if (ti->has_id)
		printf("%" PRIu32, ti->id);
	else
		printf("null");
	printf(", \"remote\": ");
	addr_or_null(ti->family, ti->remote);
	printf(", \"local\": ");
	addr_or_null(ti->family, ti->local);
	printf(", \"state\": \"%s\", \"mtu\": %u, \"overhead\": %u, \"frame\": %u, "
	       "\"frame_from\": \"%s\", \"underlay\": ", st_state(t->l), ti->mtu,
	       ti->overhead > IFM_ETH_HDR ? ti->overhead - IFM_ETH_HDR : 0, t->frame, t->frame_from);
	if (t->headroom_err) {
		printf("null, \"underlay_mtu\": null, \"headroom\": null, \"fits\": null}");
		return;
	}
	ifm_json_str(t->h.underlay);
	printf(", \"underlay_mtu\": %u, \"headroom\": %ld, \"fits\": %s}", t->h.underlay_mtu,
	       t->headroom, t->h.fits ? "true" : "false");
}

void st_print_json(const struct st_status *st)
{
	printf("{\"sessions\": [");
	for (size_t i = 0; i < st->ns; i++) {
		printf("%s\n  ", i ? "," : "");
		session(&st->s[i]);
	}
	printf("%s],\n\"collectors\": [", st->ns ? "\n" : "");
	for (size_t i = 0; i < st->nc; i++) {
		printf("%s\n  ", i ? "," : "");
		collector(&st->c[i]);
	}
	printf("%s],\n\"tunnels\": [", st->nc ? "\n" : "");
	for (size_t i = 0; i < st->nt; i++) {
		printf("%s\n  ", i ? "," : "");
		tunnel(&st->t[i]);
	}
	printf("%s]}\n", st->nt ? "\n" : "");
}
