// SPDX-License-Identifier: GPL-2.0-or-later
/* Devices, through libnl-route's link objects. */
#include "ifmirror.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

static void fill(struct ifm_link *out, struct rtnl_link *l)
{
	const char *type = rtnl_link_get_type(l);
	const char *name = rtnl_link_get_name(l);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	strncpy(out->name, name ? name : "", sizeof(out->name) - 1);
	out->flags = rtnl_link_get_flags(l);
	out->master = rtnl_link_get_master(l);
	out->is_bridge = type && !strcmp(type, "bridge");
	strncpy(out->kind, type ? type : "", sizeof(out->kind) - 1);
	if (rtnl_link_get_ifalias(l))
		strncpy(out->alias, rtnl_link_get_ifalias(l), sizeof(out->alias) - 1);
}

static int lookup(struct ifm_nl *nl, int ifindex, const char *name, struct ifm_link *out)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(nl->sk, ifindex, name, &l);

	if (r < 0) {
		/* libnl folds ENODEV into its own code; the kernel said ENODEV */
		return (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV || nl->err == ENODEV)
			       ? -ENODEV : -EIO;
	}
	fill(out, l);
	rtnl_link_put(l);
	return 0;
}

int ifm_link_get(struct ifm_nl *nl, const char *name, struct ifm_link *out)
{
	return lookup(nl, 0, name, out);
}

int ifm_link_by_index(struct ifm_nl *nl, int ifindex, struct ifm_link *out)
{
	if (ifindex <= 0)
		return -ENODEV;
	return lookup(nl, ifindex, NULL, out);
}

int ifm_link_list(struct ifm_nl *nl, struct ifm_link **out, size_t *n)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	size_t i = 0, cnt;
	int r;

	*out = NULL;
	*n = 0;
	r = rtnl_link_alloc_cache(nl->sk, AF_UNSPEC, &cache);
	if (r < 0)
		return -EIO;
	cnt = (size_t)nl_cache_nitems(cache);
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (!*out) {
		nl_cache_free(cache);
		return -ENOMEM;
	}
	for (o = nl_cache_get_first(cache); o && i < cnt; o = nl_cache_get_next(o))
		fill(&(*out)[i++], (struct rtnl_link *)o);
	*n = i;
	nl_cache_free(cache);
	return 0;
}

const char *ifm_link_state(const struct ifm_link *l)
{
	if (!(l->flags & IFF_UP))
		return "down";
	if (!(l->flags & IFF_LOWER_UP))
		return "no-carrier";
	return "up";
}
