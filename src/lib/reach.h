/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a copy goes once it is sent out of a device: the mirror actions on
 * the hooks it passes, a bridge's ports, a veth's peer, a VLAN's lower
 * device, and back up through a bridge or bond a port is in. A graph of the
 * host as a view saw it, plus what a plan adds (apply), searched in linear
 * time with no limit on its size.
 */
#ifndef IFMIRROR_REACH_H
#define IFMIRROR_REACH_H

#include "view.h"

/* The kernel runs at most 4 mirror actions nested in one transmission
 * (act_mirred's MIRRED_NEST_LIMIT): the 5th drops the frame it runs on,
 * which is the copy the 4th was sending (measured on 6.18). */
#define IFM_MIRROR_NEST 4

struct ifm_reach;

/* The host as v saw it (links and scanned filters), with nplanned more
 * devices the plan makes (ifm_reach_planned), or NULL (out of memory). */
struct ifm_reach *ifm_reach_new(const struct ifm_view *v, int nplanned);
void ifm_reach_free(struct ifm_reach *g);
/* the node of the k-th planned device (named name, for messages) */
int ifm_reach_planned(struct ifm_reach *g, int k, const char *name);
/* What a plan adds: a mirror on the hooks dir of from into to; a port of a bridge. */
int ifm_reach_add_mirror(struct ifm_reach *g, int from, enum ifm_dir dir, int to);
void ifm_reach_add_port(struct ifm_reach *g, int port, int bridge);
/* Takes back the newest mirror add_mirror added from from (dir) into to: a
 * plan that skips a session needs no new graph (one per skip was quadratic). */
void ifm_reach_drop_mirror(struct ifm_reach *g, int from, enum ifm_dir dir, int to);
/* Did the last ifm_reach_loops search reach node (it searched all it could
 * reach unless it found the way back)? */
bool ifm_reach_seen(const struct ifm_reach *g, int node);
/* Does a copy sent out of from come back into to (any way)? */
bool ifm_reach_loops(struct ifm_reach *g, int from, int to);
/* The most mirror actions one copy passes in a row (nested in one
 * transmission, the kernel's limit counts them) if src mirrors dir into dst:
 * the mirrors that lead into src's egress, this one, and those out of dst.
 * path: the longest such chain, "a -> b -> c". Capped at 16. */
int ifm_reach_nest(struct ifm_reach *g, int src, enum ifm_dir dir, int dst, char *path,
		   size_t len);

#endif
