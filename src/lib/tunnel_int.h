/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Between tunnel.c (types, spec, alias, link message) and tunnel_up.c. */
#ifndef IFMIRROR_TUNNEL_INT_H
#define IFMIRROR_TUNNEL_INT_H

#include "ifmirror.h"

void ifm_tunnel_addrs(const struct ifm_tunnel_spec *t, struct ifm_tunnel_addrs *a);
/* the canonical alias of a spec; -ENAMETOOLONG when it does not fit */
int ifm_tunnel_alias(const struct ifm_tunnel_spec *t, const struct ifm_tunnel_addrs *a,
		     char *buf, size_t len);
/* The spec an alias records, for putting an old tunnel back; strings live in store. */
bool ifm_tunnel_alias_spec(const char *name, const char *alias, struct ifm_tunnel_spec *t,
			   char *store, size_t len);
/* The tunnel a per-id device belongs to (its alias's "of="), into buf
 * (IFM_IFNAMSIZ); false when it is none's. */
bool ifm_tunnel_alias_of(const char *alias, char *buf);
int ifm_tunnel_create(struct ifm_nl *nl, const char *name, const struct ifm_tunnel_spec *t,
		      const struct ifm_tunnel_addrs *a, int dev);
/* does the kernel know this link kind? -EOPNOTSUPP when not */
int ifm_tunnel_kind_known(struct ifm_nl *nl, const char *kind);

#endif
