// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The keys of /etc/ifmirror.conf's sections, each value judged by the spec
 * module; config.c reads the file's lines and sections.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One error of the file, named by file and line (the parser's and the keys'). */
void ifm_conf_error(struct ifm_conf_parser *p, int line, const char *fmt, ...)
{
	char text[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ifm_err("%s:%d: %s", p->path, line, text);
	p->errors++;
}

/* A list of interface names, space or comma separated, into out[] (strdup'ed). */
static int names(struct ifm_conf_parser *p, const char *key, const char *v, char **out, int max)
{
	struct ifm_names n;
	char why[160];
	int r = ifm_spec_names(v, max, false, NULL, NULL, &n);

	if (r < 0) {
		ifm_conf_error(p, p->line, "%s", ifm_names_problem(&n, key, why, sizeof(why)));
		ifm_names_free(&n);
		return -1;
	}
	for (int i = 0; i < n.n; i++)
		out[i] = strdup(n.v[i]);
	r = n.n;
	ifm_names_free(&n);
	return r;
}

static bool one_name(struct ifm_conf_parser *p, const char *key, const char *v, char *out)
{
	const char *problem = ifm_ifname_problem(v);

	if (problem) {
		ifm_conf_error(p, p->line, "%s '%.40s': %s", key, v, problem);
		return false;
	}
	snprintf(out, IFM_IFNAMSIZ, "%s", v);
	return true;
}

/*
 * source: names, and patterns (spec.h: globs, @master:BRIDGE, !exclusions)
 * kept apart for apply to expand against the links of the moment.
 */
static void source_key(struct ifm_conf_parser *p, struct ifm_conf_session *s, char *v)
{
	char *save = NULL, *lits = strdup(v);
	int words = 1, positive = 0;

	for (const char *q = v; *q; q++)
		words += *q == ' ' || *q == ',' || *q == '\t';
	s->pats = calloc((size_t)words, sizeof(*s->pats));
	if (!lits || !s->pats) {
		ifm_conf_error(p, p->line, "source: out of memory");
		free(lits);
		return;
	}
	lits[0] = '\0';
	for (char *w = strtok_r(v, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		const char *problem = ifm_spec_source_word(w);

		if (problem) {
			ifm_conf_error(p, p->line, "source '%.40s': %s", w, problem);
			free(lits);
			return;
		}
		if (ifm_source_kind(w) == IFM_SRC_NAME) {
			strcat(strcat(lits, lits[0] ? " " : ""), w);
			positive++;
			continue;
		}
		positive += ifm_source_kind(w) != IFM_SRC_EXCLUDE;
		if (s->npats == IFM_CONF_MAX_SOURCES) {
			ifm_conf_error(p, p->line, "source: more than %d patterns", IFM_CONF_MAX_SOURCES);
			free(lits);
			return;
		}
		s->pats[s->npats++] = strdup(w);
	}
	if (!positive) {
		ifm_conf_error(p, p->line, "source: exclusions only; name a device or a pattern too");
	} else if (lits[0]) {
		if (words > IFM_CONF_MAX_SOURCES)
			words = IFM_CONF_MAX_SOURCES;
		s->sources = calloc((size_t)words, sizeof(*s->sources));
		s->nsources = s->sources ? names(p, "source", lits, s->sources, words) : -1;
		if (s->nsources < 0)
			s->nsources = 0;
	}
	free(lits);
}

int ifm_conf_address_family(const char *v)
{
	int family;

	return ifm_spec_addr(v, &family, NULL) ? 0 : family;
}

void ifm_conf_session_key(struct ifm_conf_parser *p, struct ifm_conf_session *s, const char *k,
			  char *v)
{
	const char *problem;

	if (!strcmp(k, "source")) {
		s->source_line = p->line;
		source_key(p, s, v);
	} else if (!strcmp(k, "to")) {
		if (one_name(p, "to", v, s->to))
			s->to_line = p->line;
	} else if (!strcmp(k, "direction")) {
		if ((problem = ifm_spec_dir(v, &s->dir)))
			ifm_conf_error(p, p->line, "direction '%.20s': %s", v, problem);
	} else if (!strcmp(k, "match")) {
		if ((problem = ifm_spec_match(v)))
			ifm_conf_error(p, p->line, "match: %s", problem);
		s->match = strdup(v);
		s->match_line = p->line;
	} else if (!strcmp(k, "sample")) {
		if ((problem = ifm_spec_sample(v, &s->sample)))
			ifm_conf_error(p, p->line, "sample '%.20s': %s", v, problem);
	} else if (!strcmp(k, "shared")) {
		if ((problem = ifm_spec_yes_no(v, &s->shared)))
			ifm_conf_error(p, p->line, "shared '%.20s': %s", v, problem);
		s->shared_line = p->line;
	} else {
		ifm_conf_error(p, p->line, "unknown key '%.30s' in [session %s] (source, to, direction, "
				"match, sample, shared)", k, s->name);
	}
}

void ifm_conf_collector_key(struct ifm_conf_parser *p, struct ifm_conf_collector *c,
			    const char *k, char *v)
{
	const char *problem;

	if (!strcmp(k, "ports")) {
		c->nports = names(p, "ports", v, c->ports, IFM_MAX_PORTS);
		if (c->nports < 0)
			c->nports = 0;
	} else if (!strcmp(k, "sink")) {
		one_name(p, "sink", v, c->sink);
	} else if (!strcmp(k, "snaplen")) {
		if ((problem = ifm_spec_snaplen(v, &c->snaplen)))
			ifm_conf_error(p, p->line, "snaplen '%.20s': %s", v, problem);
	} else if (!strcmp(k, "rate")) {
		if ((problem = ifm_spec_rate(v, &c->rate)))
			ifm_conf_error(p, p->line, "rate '%.30s': %s", v, problem);
	} else if (!strcmp(k, "burst")) {
		if ((problem = ifm_spec_burst(v, &c->burst)))
			ifm_conf_error(p, p->line, "burst '%.20s': %s", v, problem);
		c->burst_line = p->line;
	} else {
		ifm_conf_error(p, p->line, "unknown key '%.30s' in [collector %s] (ports, sink, snaplen, "
				"rate, burst)", k, c->name);
	}
}

/* is k a type's id key ("vni", "key", ...)? *max: the widest range of those types */
static bool id_key(const char *k, unsigned long *max)
{
	bool found = false;

	*max = 0;
	for (int i = 0; ifm_tunnel_types[i]; i++) {
		if (strcmp(ifm_tunnel_types[i]->id_key, k))
			continue;
		found = true;
		if (ifm_tunnel_types[i]->id_max > *max)
			*max = ifm_tunnel_types[i]->id_max;
	}
	return found;
}

/* ids = SOURCE[:DIRECTION]=ID ...: each (source, direction) once, each id once */
static void tunnel_ids_key(struct ifm_conf_parser *p, struct ifm_conf_tunnel *t, char *v)
{
	char *save = NULL;

	t->ids_line = p->line;
	for (char *w = strtok_r(v, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		struct ifm_conf_tunnel_id e;
		const char *problem = ifm_spec_tunnel_id(w, e.source, &e.dir, &e.id);

		if (problem) {
			ifm_conf_error(p, p->line, "ids '%.60s': %s", w, problem);
			return;
		}
		for (int i = 0; i < t->nids; i++) {
			if (!strcmp(t->ids[i].source, e.source) && (t->ids[i].dir & e.dir)) {
				ifm_conf_error(p, p->line, "ids '%.60s': %s %s has an id already (%lu)", w,
					       e.source, ifm_dir_name(t->ids[i].dir & e.dir), t->ids[i].id);
				return;
			}
			if (t->ids[i].id == e.id) {
				ifm_conf_error(p, p->line, "ids '%.60s': id %lu is %s %s's already; each "
					       "(source, direction) needs its own", w, e.id, t->ids[i].source,
					       ifm_dir_name(t->ids[i].dir));
				return;
			}
		}
		if (t->nids == IFM_TUNNEL_MAX_IDS) {
			ifm_conf_error(p, p->line, "ids: more than %d", IFM_TUNNEL_MAX_IDS);
			return;
		}
		t->ids[t->nids++] = e;
	}
	if (!t->nids)
		ifm_conf_error(p, p->line, "ids: none given (SOURCE[:DIRECTION]=ID ...)");
}

void ifm_conf_tunnel_key(struct ifm_conf_parser *p, struct ifm_conf_tunnel *t, const char *k,
			 char *v)
{
	const char *problem;
	char keys[128];
	unsigned long n, max;

	if (!strcmp(k, "type")) {
		if (!ifm_tunnel_type(v))
			ifm_conf_error(p, p->line, "type '%.20s': not %s", v, ifm_tunnel_type_list());
		else
			snprintf(t->type, sizeof(t->type), "%s", v);
	} else if (!strcmp(k, "remote") || !strcmp(k, "local")) {
		char *dst = !strcmp(k, "remote") ? t->remote : t->local;

		if (!ifm_conf_address_family(v))
			ifm_conf_error(p, p->line, "%s '%.60s': not an IPv4 or IPv6 address", k, v);
		else
			snprintf(dst, sizeof(t->remote), "%s", v);
	} else if (!strcmp(k, "dev")) {
		one_name(p, "dev", v, t->dev);
	} else if (id_key(k, &max)) {
		if (t->id_key[0]) {
			ifm_conf_error(p, p->line, "%s: the tunnel has '%s' already (one of %s)", k, t->id_key,
					ifm_tunnel_id_list(keys, sizeof(keys), "%s"));
		} else if (!ifm_spec_number(v, 0, max, &n)) {
			ifm_conf_error(p, p->line, "%s '%.20s': not a number from 0 to %lu", k, v, max);
		} else {
			t->id = n;
			snprintf(t->id_key, sizeof(t->id_key), "%s", k);
			t->id_line = p->line;
		}
	} else if (!strcmp(k, "ids")) {
		tunnel_ids_key(p, t, v);
	} else if (!strcmp(k, "dstport")) {
		if ((problem = ifm_spec_port(v, &t->dstport)))
			ifm_conf_error(p, p->line, "dstport '%.20s': %s", v, problem);
	} else if (!strcmp(k, "snaplen")) {
		if ((problem = ifm_spec_snaplen(v, &t->snaplen)))
			ifm_conf_error(p, p->line, "snaplen '%.20s': %s", v, problem);
	} else if (!strcmp(k, "version")) {
		if (!ifm_spec_number(v, 1, 2, &n)) {
			ifm_conf_error(p, p->line, "version '%.20s': not 1 or 2 (erspan's)", v);
		} else {
			t->version = (unsigned int)n;
			t->version_line = p->line;
		}
	} else if (!strcmp(k, "hwid")) {
		if (!ifm_spec_number(v, 0, IFM_ERSPAN_HWID_MAX, &n)) {
			ifm_conf_error(p, p->line, "hwid '%.20s': not a number from 0 to %d", v,
				       IFM_ERSPAN_HWID_MAX);
		} else {
			t->hwid = (unsigned int)n;
			t->has_hwid = true;
			t->hwid_line = p->line;
		}
	} else if (!strcmp(k, "rate")) {
		if ((problem = ifm_spec_rate(v, &t->rate)))
			ifm_conf_error(p, p->line, "rate '%.30s': %s", v, problem);
	} else if (!strcmp(k, "burst")) {
		if ((problem = ifm_spec_burst(v, &t->burst)))
			ifm_conf_error(p, p->line, "burst '%.20s': %s", v, problem);
		t->burst_line = p->line;
	} else {
		ifm_conf_error(p, p->line, "unknown key '%.30s' in [tunnel %s] (type, remote, local, dev, %s, "
				"ids, dstport, snaplen, version, hwid, rate, burst)", k, t->name,
				ifm_tunnel_id_list(keys, sizeof(keys), "%s"));
	}
}

