// SPDX-License-Identifier: GPL-2.0-or-later
/* remote collectors: being written */
#include "ifmirror.h"

#include <errno.h>

int ifm_tunnel_up(struct ifm_nl *nl, const struct ifm_tunnel_spec *t, bool quiet)
{
	(void)nl;
	(void)t;
	(void)quiet;
	return -EOPNOTSUPP;
}

int ifm_tunnel_down(struct ifm_nl *nl, const char *name, bool quiet)
{
	(void)nl;
	(void)name;
	(void)quiet;
	return -EOPNOTSUPP;
}
