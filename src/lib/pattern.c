// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Source patterns (spec.h: globs, @master:BRIDGE, !exclusions) against the
 * links of the moment: the concrete sources apply plans from. A device a
 * pattern matches is skipped, with one line, where it cannot be a source:
 * the session's destination, a port of it (the collector's, or the bridge's
 * in the kernel), a collector, sink or tunnel of ifmirror or of the file, a
 * port of a collector of the file. A source the file names itself, or an
 * earlier pattern to the same destination, is not added twice.
 */
#include "pattern.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *master_name(const struct ifm_view *v, const struct ifm_link *l)
{
	for (size_t i = 0; l->master > 0 && i < v->nlinks; i++)
		if (v->links[i].ifindex == l->master)
			return v->links[i].name;
	return NULL;
}

static bool port_of_file_collector(const struct ifm_config *c, const char *name,
				   const char *only)
{
	for (int k = 0; k < c->ncollectors; k++)
		for (int j = 0; (!only || !strcmp(only, c->collectors[k].name)) &&
				j < c->collectors[k].nports; j++)
			if (!strcmp(c->collectors[k].ports[j], name))
				return true;
	return false;
}

static bool device_of_file(const struct ifm_config *c, const char *name)
{
	for (int i = 0; i < c->ncollectors; i++)
		if (!strcmp(c->collectors[i].name, name) || !strcmp(c->collectors[i].sink, name))
			return true;
	for (int i = 0; i < c->ntunnels; i++)
		if (!strcmp(c->tunnels[i].name, name))
			return true;
	return false;
}

/* why l cannot be a source of cs, or NULL */
static const char *unfit(const struct ifm_config *c, const struct ifm_conf_session *cs,
			 const struct ifm_view *v, const struct ifm_link *l)
{
	const struct ifm_link *dst = ifm_view_link(v, cs->to);

	if (!strcmp(l->name, cs->to))
		return "it is the destination";
	if (port_of_file_collector(c, l->name, cs->to) || (dst && l->master == dst->ifindex))
		return "it is a port of the destination";
	if (device_of_file(c, l->name) || ifm_is_collector(l) || ifm_is_sink(l) ||
	    ifm_tunnel_mark_is(l->alias))
		return "it is a collector, sink or tunnel";
	if (port_of_file_collector(c, l->name, NULL))
		return "it is a collector's port";
	return NULL;
}

/* named to the same destination already: by a list, or by an earlier
 * section's patterns (x->v[0..before): a section matches a link once) */
static bool taken(const struct ifm_config *c, const struct ifm_expansion *x, int before,
		  const char *name, const char *to)
{
	for (int i = 0; i < c->nsessions; i++)
		if (!strcmp(c->sessions[i].to, to) &&
		    ifm_name_listed((const char *const *)c->sessions[i].sources,
				    c->sessions[i].nsources, name))
			return true;
	for (int i = 0; i < before; i++)
		if (!strcmp(x->v[i].name, name) && !strcmp(c->sessions[x->v[i].session].to, to))
			return true;
	return false;
}

/* "[session S] source PATS" */
static void what(const struct ifm_conf_session *cs, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "[session %s] source", cs->name);

	for (int i = 0; i < cs->npats && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s", cs->pats[i]);
}

int ifm_expand(const struct ifm_config *c, const struct ifm_view *v, bool dry,
	       struct ifm_expansion *x)
{
	memset(x, 0, sizeof(*x));
	for (int s = 0; s < c->nsessions; s++) {
		const struct ifm_conf_session *cs = &c->sessions[s];
		char head[600];
		int matched = 0, before = x->n;

		if (!cs->npats)
			continue;
		what(cs, head, sizeof(head));
		for (size_t i = 0; i < v->nlinks; i++) {
			const struct ifm_link *l = &v->links[i];
			const char *why;

			if (!ifm_sources_match((const char *const *)cs->pats, cs->npats, l->name,
					       master_name(v, l)))
				continue;
			if ((why = unfit(c, cs, v, l))) {
				ifm_notice("%s:%d: %s: skipping %s: %s", c->path, cs->source_line, head,
					   l->name, why);
				continue;
			}
			matched++;
			if (dry)
				ifm_out("%s: matches %s", head, l->name);
			if (taken(c, x, before, l->name, cs->to))
				continue;
			if (x->n == x->cap) {
				struct ifm_expanded *g;

				x->cap = x->cap ? x->cap * 2 : 16;
				g = realloc(x->v, (size_t)x->cap * sizeof(*g));
				if (!g)
					return -ENOMEM;
				x->v = g;
			}
			x->v[x->n].session = s;
			snprintf(x->v[x->n].name, sizeof(x->v[x->n].name), "%s", l->name);
			x->n++;
		}
		if (dry && !matched)
			ifm_out("%s: matches nothing now", head);
	}
	return 0;
}

void ifm_expansion_free(struct ifm_expansion *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
