// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A tunnel's per-source ids ("ids = eth0:ingress=101 eth0:egress=102" in
 * its [tunnel NAME] section): each (source, direction) it names is copied
 * with an id (VNI, GRE key, ERSPAN session id) of its own, so that the
 * collector sorts copies by id. Each id is a tunnel device of its own,
 * NAME-ID, made by apply like the file's tunnels (same type, remote, local,
 * dev, port and snaplen; the id its own), its alias saying "of=NAME" so
 * that `tunnel down NAME`, flush and the next apply know it. The name is
 * refused, never cut, when it does not fit in 15 bytes. Copies of sources
 * and directions without an id of their own go into NAME with its id.
 */
#include "plan.h"
#include "view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel_int.h"

int ifm_tunnel_id_name(const char *tunnel, unsigned long id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-%lu", tunnel, id);

	return n < 0 || (size_t)n >= len || n >= IFM_IFNAMSIZ ? -ENAMETOOLONG : 0;
}

const struct ifm_conf_tunnel *ifm_conf_tunnel_named(const struct ifm_config *c, const char *name)
{
	for (int i = 0; i < c->ntunnels; i++)
		if (!strcmp(c->tunnels[i].name, name))
			return &c->tunnels[i];
	return NULL;
}

const char *ifm_tunnel_id_dest(const struct ifm_config *c, const char *to, const char *source,
			       enum ifm_dir dir, char *buf, size_t len)
{
	const struct ifm_conf_tunnel *t = ifm_conf_tunnel_named(c, to);

	for (int i = 0; t && !t->of[0] && i < t->nids; i++)
		if (!strcmp(t->ids[i].source, source) && (t->ids[i].dir & dir) &&
		    ifm_tunnel_id_name(to, t->ids[i].id, buf, len) == 0)
			return buf;
	return NULL;
}

int ifm_tunnel_ids_expand(struct ifm_config *c)
{
	int n = c->ntunnels, more = 0;

	for (int i = 0; i < n; i++)
		more += c->tunnels[i].of[0] ? 0 : c->tunnels[i].nids;
	if (!more)
		return 0;
	if (c->ntunnels + more > c->cap_tunnels) {
		struct ifm_conf_tunnel *v = realloc(c->tunnels, (size_t)(c->ntunnels + more) *
						    sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->tunnels = v;
		c->cap_tunnels = c->ntunnels + more;
	}
	for (int i = 0; i < n; i++) {
		for (int j = 0; !c->tunnels[i].of[0] && j < c->tunnels[i].nids; j++) {
			struct ifm_conf_tunnel *t = &c->tunnels[c->ntunnels];
			char name[IFM_IFNAMSIZ];
			bool dup = false;

			if (ifm_tunnel_id_name(c->tunnels[i].name, c->tunnels[i].ids[j].id, name,
					       sizeof(name)) < 0)
				return -ENAMETOOLONG;   /* the parser refused it already */
			/* one id for two (source, direction)s: one device */
			/* (also: made by an earlier call on this config; watch
			 * applies one config many times) */
			for (int k = 0; k < c->ntunnels; k++)
				dup |= c->tunnels[k].of[0] && !strcmp(c->tunnels[k].name, name);
			if (dup)
				continue;
			*t = c->tunnels[i];
			snprintf(t->name, sizeof(t->name), "%s", name);
			snprintf(t->of, sizeof(t->of), "%s", c->tunnels[i].name);
			t->id = c->tunnels[i].ids[j].id;
			/* erspan version 2 carries the direction as a bit of the
			 * device: set it when every (source, direction) of this id is
			 * egress; a device for both directions says ingress */
			t->erspan_dir = 0;   /* ingress, and what a type without the bit needs */
			if (t->version == 2) {
				unsigned int dirs = 0;

				for (int k = 0; k < c->tunnels[i].nids; k++)
					if (c->tunnels[i].ids[k].id == t->id)
						dirs |= c->tunnels[i].ids[k].dir;
				if (dirs == IFM_DIR_EGRESS)
					t->erspan_dir = IFM_DIR_EGRESS;
			}
			if (!t->id_key[0]) {
				const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);

				snprintf(t->id_key, sizeof(t->id_key), "%s", ops ? ops->id_key : "id");
			}
			t->nids = 0;
			c->ntunnels++;
		}
	}
	return 0;
}

int ifm_tunnel_id_up(struct ifm_nl *nl, const char *tunnel, unsigned long id, char *name,
		     size_t len)
{
	const struct ifm_tunnel_ops *ops;
	struct ifm_tunnel_info ti;
	struct ifm_tunnel_spec t;
	char store[IFM_ALIAS_MAX], of[IFM_IFNAMSIZ], why[200];
	const char *problem;
	int r;

	r = ifm_tnl_link(nl, tunnel, 0, &ti);
	if (r < 0) {
		ifm_err("%s: %s", tunnel, r == -ENODEV ? "no such tunnel (--id is for one that "
			"ifmirror tunnel up or apply made)" : ifm_nl_reason(nl, r));
		return r;
	}
	if (ifm_tunnel_alias_of(ti.alias, of)) {
		ifm_err("%s: is the device of an id of %s already; --id is for %s", tunnel, of, of);
		return -EINVAL;
	}
	if (!ifm_tunnel_alias_spec(tunnel, ti.alias, &t, store, sizeof(store)) ||
	    !(ops = ifm_tunnel_type(t.type))) {
		ifm_err("%s: not an ifmirror tunnel (no '%s' alias); --id is for those", tunnel,
			IFM_MARK_TUNNEL);
		return -EINVAL;
	}
	if (t.has_id && t.id == id) {
		ifm_err("%s: --id %lu is the tunnel's own %s; mirror into %s itself", tunnel, id,
			ops->id_words, tunnel);
		return -EINVAL;
	}
	if (ifm_tunnel_id_name(tunnel, id, name, len) < 0) {
		ifm_err("%s: the device for --id %lu, %s-%lu, would be longer than 15 bytes", tunnel,
			id, tunnel, id);
		return -ENAMETOOLONG;
	}
	t.name = name;
	t.id = id;
	t.has_id = true;
	t.of = tunnel;
	if ((problem = ifm_tunnel_spec_problem(&t, why, sizeof(why)))) {
		ifm_err("%s: --id %lu: %s", tunnel, id, problem);
		return -EINVAL;
	}
	return ifm_tunnel_up(nl, &t);
}

int ifm_tunnel_ids_prune(struct ifm_nl *nl, const struct ifm_config *c, bool dry, int *removed)
{
	struct ifm_tunnel_info *links = NULL;
	char of[IFM_IFNAMSIZ];
	size_t n = 0;
	int r;

	*removed = 0;
	/* only the ids of the file's tunnels go: none, no link dump */
	if (!c->ntunnels)
		return 0;
	if ((r = ifm_tnl_links(nl, &links, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct ifm_conf_tunnel *t;

		/* only those of the file's tunnels: a tunnel the file does not name is
		 * not apply's to change, and neither are its ids */
		if (!ifm_tunnel_alias_of(links[i].alias, of) || !ifm_conf_tunnel_named(c, of) ||
		    ((t = ifm_conf_tunnel_named(c, links[i].name)) && !strcmp(t->of, of)))
			continue;
		if (dry) {
			ifm_out("would remove: tunnel %s (an id of %s that %s no longer gives)",
				links[i].name, of, c->path);
			continue;
		}
		{
			bool was = ifm_quiet_set(true);

			r = ifm_tunnel_down(nl, links[i].name);
			ifm_quiet_set(was);
		}
		if (r < 0)
			break;
		(*removed)++;
		ifm_info("%s: tunnel removed (an id of %s that %s no longer gives)", links[i].name,
			 of, c->path);
	}
	free(links);
	return r < 0 ? r : 0;
}
