// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where a copy goes (see reach.h). A node is a device, in one of two states:
 * the copy is sent out of it (TX: its egress hook runs, then a bridge floods
 * it to its ports, a veth hands it to its peer, a VLAN to its lower device)
 * or received by it (RX: its ingress hook runs, then the bridge or bond it is
 * a port of takes it, a bridge floods it out of its other ports). Mirror
 * actions lead from the hooks of a device into their targets. Every state is
 * visited once: linear in the size of the host, however it is wired.
 */
#include "reach.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TX, RX };
enum edge_type { E_MIRROR, E_PORT, E_UPPER, E_PEER, E_DROPPED };
#define NEST_CAP 16

struct edge {
	int from, to, next_out, next_in;
	uint8_t type;
	uint8_t hooks;   /* E_MIRROR: where it runs (IFM_DIR_*) */
	uint8_t to_rx;   /* E_MIRROR: a mirror to the target's ingress */
};

struct node {
	const char *name;
	bool agg;        /* a bridge, bond or team: what it sends leaves through its ports */
	bool bridge;
	int first_out, first_in;   /* edges, -1 */
	int flood_skip;            /* the port a bridge's first flood left out, -1: none yet */
	bool flood_done;
};

struct ifm_reach {
	int n;
	struct node *nodes;
	struct edge *e;
	int ne, cap;
	/* scratch for the searches */
	unsigned char *seen;       /* by state: node * 2 + TX/RX */
	int *queue, *best, *pred;
	bool *queued;
	char (*planned)[IFM_IFNAMSIZ];
	int maxdev;
};

static int add_edge(struct ifm_reach *g, int type, int from, int to, int hooks, int to_rx)
{
	struct edge *e;

	if (from <= 0 || to <= 0 || from >= g->n || to >= g->n || from == to)
		return 0;
	if (g->ne == g->cap) {
		int cap = g->cap ? g->cap * 2 : 64;
		struct edge *ne = realloc(g->e, (size_t)cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		g->e = ne;
		g->cap = cap;
	}
	e = &g->e[g->ne];
	*e = (struct edge){ .from = from, .to = to, .type = (uint8_t)type, .hooks = (uint8_t)hooks,
			    .to_rx = (uint8_t)to_rx, .next_out = g->nodes[from].first_out,
			    .next_in = g->nodes[to].first_in };
	g->nodes[from].first_out = g->ne;
	g->nodes[to].first_in = g->ne;
	g->ne++;
	return 0;
}

static bool is_upper_kind(const char *kind)
{
	static const char *const kinds[] = { "vlan", "macvlan", "macvtap", "ipvlan", "ipvtap" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* the hook a filter runs on: ifmirror's says so in its cookie; a u32 filter
 * of somebody else is dumped from both hooks of a clsact (their hash tables
 * are shared), which counts it on both: more paths, never fewer */
static int filter_hooks(const struct ifm_filter *f)
{
	if (f->act.ours)
		return f->act.cookie.dir;
	return f->hook_dir;
}

struct ifm_reach *ifm_reach_new(const struct ifm_view *v, int nplanned)
{
	struct ifm_reach *g = calloc(1, sizeof(*g));
	int maxdev = 0;

	if (!g)
		return NULL;
	for (size_t i = 0; i < v->nlinks; i++)
		if (v->links[i].ifindex > maxdev)
			maxdev = v->links[i].ifindex;
	g->maxdev = maxdev;
	g->n = maxdev + 1 + (nplanned > 0 ? nplanned : 0);
	g->nodes = calloc((size_t)g->n, sizeof(*g->nodes));
	g->seen = calloc((size_t)g->n * 2, 1);
	g->queue = calloc((size_t)g->n * 2, sizeof(*g->queue));
	g->best = calloc((size_t)g->n, sizeof(*g->best));
	g->pred = calloc((size_t)g->n, sizeof(*g->pred));
	g->queued = calloc((size_t)g->n, sizeof(*g->queued));
	g->planned = calloc((size_t)(nplanned > 0 ? nplanned : 1), sizeof(*g->planned));
	if (!g->nodes || !g->seen || !g->queue || !g->best || !g->pred || !g->queued ||
	    !g->planned)
		goto fail;
	for (int i = 0; i < g->n; i++)
		g->nodes[i] = (struct node){ .first_out = -1, .first_in = -1, .flood_skip = -1,
					     .name = "?" };
	for (size_t i = 0; i < v->nlinks; i++) {
		const struct ifm_link *l = &v->links[i];
		struct node *d = &g->nodes[l->ifindex];

		d->name = l->name;
		d->bridge = l->is_bridge;
		d->agg = l->is_bridge || !strcmp(l->kind, "bond") || !strcmp(l->kind, "team");
	}
	for (size_t i = 0; i < v->nlinks; i++) {
		const struct ifm_link *l = &v->links[i];
		int r = 0;

		if (l->master)
			r = add_edge(g, E_PORT, l->ifindex, l->master, 0, 0);
		if (r == 0 && l->link && l->link != l->ifindex) {
			if (!strcmp(l->kind, "veth"))
				r = add_edge(g, E_PEER, l->ifindex, l->link, 0, 0);
			else if (is_upper_kind(l->kind))
				r = add_edge(g, E_UPPER, l->ifindex, l->link, 0, 0);
		}
		if (r < 0)
			goto fail;
	}
	for (int i = 1; i <= v->maxdev && i <= maxdev; i++) {
		const struct ifm_view_dev *d = &v->devs[i];

		for (size_t j = 0; d->scanned && j < d->t.nf; j++) {
			const struct ifm_filter *f = &d->t.f[j];

			/* TCA_INGRESS_REDIR/MIRROR (3, 4): into the target's ingress */
			if (f->has_action && f->act.is_mirred && f->act.ifindex > 0 &&
			    add_edge(g, E_MIRROR, i, f->act.ifindex, filter_hooks(f),
				     f->act.eaction == 3 || f->act.eaction == 4) < 0)
				goto fail;
		}
	}
	return g;
fail:
	ifm_reach_free(g);
	return NULL;
}

void ifm_reach_free(struct ifm_reach *g)
{
	if (!g)
		return;
	free(g->nodes);
	free(g->e);
	free(g->seen);
	free(g->queue);
	free(g->best);
	free(g->pred);
	free(g->queued);
	free(g->planned);
	free(g);
}

int ifm_reach_planned(struct ifm_reach *g, int k, const char *name)
{
	int node = g->maxdev + 1 + k;

	snprintf(g->planned[k], IFM_IFNAMSIZ, "%s", name);
	g->nodes[node].name = g->planned[k];
	return node;
}

int ifm_reach_add_mirror(struct ifm_reach *g, int from, enum ifm_dir dir, int to)
{
	return add_edge(g, E_MIRROR, from, to, dir, 0);
}

void ifm_reach_drop_mirror(struct ifm_reach *g, int from, enum ifm_dir dir, int to)
{
	if (from <= 0 || from >= g->n)
		return;
	/* the newest first: a plan's mirrors come after the kernel's */
	for (int i = g->nodes[from].first_out; i >= 0; i = g->e[i].next_out)
		if (g->e[i].type == E_MIRROR && g->e[i].to == to && g->e[i].hooks == dir &&
		    !g->e[i].to_rx) {
			g->e[i].type = E_DROPPED;
			return;
		}
}

bool ifm_reach_seen(const struct ifm_reach *g, int node)
{
	return node > 0 && node < g->n && (g->seen[node * 2] || g->seen[node * 2 + 1]);
}

void ifm_reach_add_port(struct ifm_reach *g, int port, int bridge)
{
	if (bridge <= 0 || bridge >= g->n)
		return;
	g->nodes[bridge].agg = g->nodes[bridge].bridge = true;
	add_edge(g, E_PORT, port, bridge, 0, 0);
}

/* ---- does a copy come back? ---- */

struct bfs {
	struct ifm_reach *g;
	int head, tail;
};

static void push(struct bfs *b, int node, int state)
{
	int s = node * 2 + state;

	if (b->g->seen[s])
		return;
	b->g->seen[s] = 1;
	b->g->queue[b->tail++] = s;
}

/* a frame received on port x of bridge m leaves through its other ports */
static void flood(struct bfs *b, int m, int x)
{
	struct node *br = &b->g->nodes[m];

	if (br->flood_done || br->flood_skip == x)
		return;
	if (br->flood_skip >= 0) {
		/* a flood from another port: the one the first left out */
		push(b, br->flood_skip, TX);
		br->flood_done = true;
		return;
	}
	br->flood_skip = x;
	for (int i = br->first_in; i >= 0; i = b->g->e[i].next_in)
		if (b->g->e[i].type == E_PORT && b->g->e[i].from != x)
			push(b, b->g->e[i].from, TX);
}

bool ifm_reach_loops(struct ifm_reach *g, int from, int to)
{
	struct bfs b = { .g = g };
	bool found = false;

	if (from == to)
		return true;
	if (from <= 0 || from >= g->n)
		return false;
	memset(g->seen, 0, (size_t)g->n * 2);
	for (int i = 0; i < g->n; i++) {
		g->nodes[i].flood_skip = -1;
		g->nodes[i].flood_done = false;
	}
	push(&b, from, TX);
	while (b.head < b.tail && !found) {
		int s = g->queue[b.head++], x = s / 2, state = s % 2;

		if (x == to) {
			found = true;
			break;
		}
		for (int i = g->nodes[x].first_out; i >= 0; i = g->e[i].next_out) {
			const struct edge *e = &g->e[i];

			switch (e->type) {
			case E_MIRROR:
				/* every mirror on x, whichever hook: a u32 filter's is
				 * not known for sure, and what x receives its stack may
				 * send on; a loop is refused, so a possible one counts */
				push(&b, e->to, e->to_rx ? RX : TX);
				break;
			case E_PORT:
				if (state == RX) {
					push(&b, e->to, RX);
					if (g->nodes[e->to].bridge)
						flood(&b, e->to, x);
				}
				break;
			case E_UPPER:
				if (state == TX)
					push(&b, e->to, TX);
				break;
			case E_PEER:
				if (state == TX)
					push(&b, e->to, RX);
				break;
			default:
				break;
			}
		}
		for (int i = g->nodes[x].first_in; i >= 0; i = g->e[i].next_in) {
			const struct edge *e = &g->e[i];

			if (e->type == E_PORT && state == TX && g->nodes[x].agg)
				push(&b, e->from, TX);
			else if (e->type == E_UPPER && state == RX)
				push(&b, e->from, RX);
		}
	}
	return found;
}

/* ---- how many mirror actions in a row ---- */

/*
 * Nested in one transmission: a mirror on an egress hook sends into its
 * target at once, a bridge floods into its ports at once, a VLAN hands to its
 * lower device at once. A veth's peer and every ingress hook start afresh
 * (the backlog). Longest paths, each value capped: cycles end.
 */
struct chain_end {
	int value, from, to;   /* backwards: a mirror on an ingress hook starts the chain */
};

static void visit(struct ifm_reach *g, int x, int y, int w, int *tail, int qn)
{
	if (g->best[x] + w > g->best[y] && g->best[x] + w <= NEST_CAP) {
		g->best[y] = g->best[x] + w;
		g->pred[y] = x;
		if (!g->queued[y]) {
			g->queued[y] = true;
			g->queue[(*tail)++ % qn] = y;
		}
	}
}

static void relax(struct ifm_reach *g, int start, bool backwards, struct chain_end *end)
{
	int head = 0, tail = 0, qn = g->n * 2;

	for (int i = 0; i < g->n; i++) {
		g->best[i] = -1;
		g->pred[i] = 0;
		g->queued[i] = false;
	}
	*end = (struct chain_end){ 0 };
	g->best[start] = 0;
	g->queue[tail++ % qn] = start;
	g->queued[start] = true;
	while (head != tail) {
		int x = g->queue[head++ % qn];

		g->queued[x] = false;
		for (int i = g->nodes[x].first_out; i >= 0; i = g->e[i].next_out) {
			const struct edge *e = &g->e[i];

			if (!backwards && e->type == E_MIRROR && !e->to_rx && (e->hooks & IFM_DIR_EGRESS))
				visit(g, x, e->to, 1, &tail, qn);
			else if (!backwards && e->type == E_UPPER)
				visit(g, x, e->to, 0, &tail, qn);
			else if (backwards && e->type == E_PORT && g->nodes[e->to].agg)
				visit(g, x, e->to, 0, &tail, qn);   /* the bridge floods into x */
		}
		for (int i = g->nodes[x].first_in; i >= 0; i = g->e[i].next_in) {
			const struct edge *e = &g->e[i];

			if (!backwards && e->type == E_PORT && g->nodes[x].agg) {
				visit(g, x, e->from, 0, &tail, qn);
			} else if (backwards && e->type == E_UPPER) {
				visit(g, x, e->from, 0, &tail, qn);
			} else if (backwards && e->type == E_MIRROR && !e->to_rx) {
				if (e->hooks & IFM_DIR_EGRESS)
					visit(g, x, e->from, 1, &tail, qn);
				if ((e->hooks & IFM_DIR_INGRESS) && g->best[x] + 1 > end->value)
					*end = (struct chain_end){ g->best[x] + 1, e->from, x };
			}
		}
	}
}

static void path_add(char *path, size_t len, const char *name)
{
	size_t n = strlen(path);

	if (n + 1 < len)
		snprintf(path + n, len - n, "%s%s", n ? " -> " : "", name);
}

/* the deepest node of the last relax, and the chain from it back to start */
static int deepest(struct ifm_reach *g, int start, int *chain, int *nchain, int max)
{
	int value = 0, node = start;

	for (int i = 1; i < g->n; i++)
		if (g->best[i] > value) {
			value = g->best[i];
			node = i;
		}
	for (int x = node, k = 0; x && k < g->n && *nchain < max; k++) {
		chain[(*nchain)++] = x;
		if (x == start)
			break;
		x = g->pred[x];
	}
	return value;
}

int ifm_reach_nest(struct ifm_reach *g, int src, enum ifm_dir dir, int dst, char *path,
		   size_t len)
{
	enum { MAX = 64 };
	int chain[MAX], nchain = 0, up = 0, down;
	struct chain_end end;

	if (len)
		path[0] = '\0';
	if (src <= 0 || src >= g->n || dst <= 0 || dst >= g->n)
		return 1;
	if (dir & IFM_DIR_EGRESS) {
		/* backwards: pred leads towards src, so the chain reads in order */
		relax(g, src, true, &end);
		up = deepest(g, src, chain, &nchain, MAX);
		if (end.value > up) {
			up = end.value;
			nchain = 0;
			chain[nchain++] = end.from;
			for (int x = end.to, k = 0; x && k < g->n && nchain < MAX; k++) {
				chain[nchain++] = x;
				if (x == src)
					break;
				x = g->pred[x];
			}
		}
	}
	if (!nchain)
		chain[nchain++] = src;
	for (int i = 0; i < nchain; i++)
		path_add(path, len, g->nodes[chain[i]].name);
	nchain = 0;
	relax(g, dst, false, &end);
	down = deepest(g, dst, chain, &nchain, MAX);
	for (int i = nchain - 1; i >= 0; i--)
		path_add(path, len, g->nodes[chain[i]].name);
	return up + 1 + down;
}

/* ---- the host as it is now ---- */

bool ifm_reaches(struct ifm_nl *nl, int from, int to)
{
	struct ifm_view v = { 0 };
	struct ifm_reach *g = NULL;
	bool found = false;

	if (from == to)
		return true;
	if (ifm_view_links(&v, nl) == 0 && ifm_view_scan(&v, nl) == 0 &&
	    (g = ifm_reach_new(&v, 0)))
		found = ifm_reach_loops(g, from, to);
	ifm_reach_free(g);
	ifm_view_free(&v);
	return found;
}
