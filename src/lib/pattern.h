/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plan's source patterns against the links of the moment (pattern.c). */
#ifndef IFMIRROR_PATTERN_H
#define IFMIRROR_PATTERN_H

#include "plan.h"
#include "view.h"

struct ifm_expanded {
	int session;                   /* index in the config's sessions */
	char name[IFM_IFNAMSIZ];
};

struct ifm_expansion {
	struct ifm_expanded *v;
	int n, cap;
};

/* The devices of v the patterns match, those that cannot be sources skipped
 * with a notice; dry: one line per match ("... matches NAME"). 0 or -ENOMEM. */
int ifm_expand(const struct ifm_config *c, const struct ifm_view *v, bool dry,
	       struct ifm_expansion *x);
void ifm_expansion_free(struct ifm_expansion *x);

#endif
