// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ownership marks: how ifmirror tells what it made from everybody else's,
 * written and read here only (see marks.h for the list).
 *
 * Owned qdiscs: a clsact or ingress qdisc carries no mark of who made it, so
 * ifmirror notes the ones it created under /run (gone at reboot, like the
 * qdiscs). A marker counts only while ifmirror filters hang on that qdisc
 * (see ifm_hooks_tidy), so a stale marker for a re-used ifindex never makes
 * ifmirror delete a qdisc somebody else created.
 */
#include "marks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COOKIE_MAGIC "ifmr"
#define COOKIE_VERSION 1
#define SNAPLEN_PREFIX "ifmirror-snaplen:"

const char *ifm_run_dir(void)
{
	const char *d = getenv("IFMIRROR_RUN_DIR");

	return d && *d ? d : "/run/ifmirror";
}

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ifm_run_subdir(const char *sub, char *path, size_t len)
{
	int r = ensure_dir(ifm_run_dir());

	if (snprintf(path, len, "%s%s%s", ifm_run_dir(), sub ? "/" : "", sub ? sub : "") >=
	    (int)len)
		return -ENAMETOOLONG;
	if (r == 0 && sub)
		r = ensure_dir(path);
	return r;
}

/* ---- the action cookie ---- */

void ifm_cookie_make(struct ifm_cookie *c, enum ifm_dir dir, const struct ifm_link *dest)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->magic, COOKIE_MAGIC, sizeof(c->magic));
	c->version = COOKIE_VERSION;
	c->dir = (uint8_t)dir;
	c->dest_ifindex = (uint32_t)dest->ifindex;
	c->dest_hash = ifm_name_hash(dest->name);
}

bool ifm_cookie_is_ours(const struct ifm_cookie *c)
{
	return !memcmp(c->magic, COOKIE_MAGIC, sizeof(c->magic)) && c->version == COOKIE_VERSION;
}

/* ---- collector bridge and sink ---- */

static bool has_word(const char *alias, const char *word)
{
	size_t n = strlen(word);

	return !strncmp(alias, word, n) && (alias[n] == ' ' || alias[n] == '\0');
}

bool ifm_collector_mark_parse(const char *alias, struct ifm_collector_mark *m)
{
	char buf[IFM_ALIAS_MAX], *save = NULL;

	memset(m, 0, sizeof(*m));
	if (!has_word(alias, IFM_MARK_COLLECTOR))
		return false;
	snprintf(buf, sizeof(buf), "%s", alias + strlen(IFM_MARK_COLLECTOR));
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		/* a name that is not whole (an alias cut short elsewhere) is
		 * skipped, never cut to a prefix that may name another device */
		if (!strncmp(w, "sink=", 5)) {
			if (!ifm_ifname_problem(w + 5))
				snprintf(m->sink, sizeof(m->sink), "%s", w + 5);
		} else if (!strncmp(w, "ports=", 6)) {
			char *s2 = NULL;

			for (char *p = strtok_r(w + 6, ",", &s2); p && m->nports < IFM_MAX_PORTS;
			     p = strtok_r(NULL, ",", &s2))
				if (!ifm_ifname_problem(p))
					snprintf(m->ports[m->nports++], IFM_IFNAMSIZ, "%s", p);
		}
	}
	return true;
}

int ifm_collector_mark_format(const char *sink, const char *const *ports, int nports,
			      char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s sink=%s", IFM_MARK_COLLECTOR, sink);

	if (ports && n < len)
		n += (size_t)snprintf(buf + n, len - n, " ports=");
	for (int i = 0; ports && i < nports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", ports[i]);
	return n < len && n < IFM_ALIAS_MAX ? 0 : -ENAMETOOLONG;
}

bool ifm_is_collector(const struct ifm_link *l)
{
	return l->is_bridge && has_word(l->alias, IFM_MARK_COLLECTOR);
}

bool ifm_collector_has_port(const struct ifm_link *br, const char *port)
{
	struct ifm_collector_mark m;

	if (!br->is_bridge || !ifm_collector_mark_parse(br->alias, &m))
		return false;
	for (int i = 0; i < m.nports; i++)
		if (!strcmp(m.ports[i], port))
			return true;
	return false;
}

bool ifm_collector_sink_is(const struct ifm_link *br, const char *name)
{
	struct ifm_collector_mark m;

	return ifm_is_collector(br) && ifm_collector_mark_parse(br->alias, &m) &&
	       !strcmp(m.sink, name);
}

void ifm_sink_default_name(const char *bridge, char out[IFM_IFNAMSIZ])
{
	snprintf(out, IFM_IFNAMSIZ, "%.10s-sink", bridge);
}

void ifm_sink_mark(const char *bridge, char *buf, size_t len)
{
	snprintf(buf, len, "%s of %s", IFM_MARK_SINK, bridge);
}

bool ifm_is_sink(const struct ifm_link *l)
{
	return !strncmp(l->alias, IFM_MARK_SINK, strlen(IFM_MARK_SINK));
}

bool ifm_is_sink_of(const struct ifm_link *l, const char *bridge)
{
	char want[64];

	ifm_sink_mark(bridge, want, sizeof(want));
	return !strcmp(l->alias, want);
}

/* ---- tunnel ---- */

bool ifm_tunnel_mark_is(const char *alias)
{
	return has_word(alias, IFM_MARK_TUNNEL);
}

/* ---- snaplen filter ---- */

void ifm_snaplen_mark(unsigned int snaplen, char *buf, size_t len)
{
	snprintf(buf, len, SNAPLEN_PREFIX "%u", snaplen);
}

unsigned int ifm_snaplen_mark_parse(const char *name)
{
	if (strncmp(name, SNAPLEN_PREFIX, strlen(SNAPLEN_PREFIX)))
		return 0;
	return (unsigned int)strtoul(name + strlen(SNAPLEN_PREFIX), NULL, 10);
}

/* ---- qdiscs ifmirror created ---- */

/* Network namespaces have their own ifindex space: key markers by netns. */
unsigned long ifm_netns_id(void)
{
	static unsigned long id;
	struct stat st;

	if (!id && stat("/proc/self/ns/net", &st) == 0)
		id = (unsigned long)st.st_ino;
	return id;
}

static void marker_path(char *buf, size_t len, int ifindex, const char *kind)
{
	snprintf(buf, len, "%s/owned/%lu.%d.%s", ifm_run_dir(), ifm_netns_id(), ifindex, kind);
}

int ifm_owned_set(int ifindex, const char *kind, bool owned)
{
	static bool dirs_made;
	char path[512];
	int fd, r;

	marker_path(path, sizeof(path), ifindex, kind);
	if (!owned)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	if (!dirs_made) {
		char dir[512];

		if ((r = ifm_run_subdir("owned", dir, sizeof(dir))) < 0)
			return r;
		dirs_made = true; /* apply notes a thousand qdiscs in one run */
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

bool ifm_owned(int ifindex, const char *kind)
{
	char path[512];

	marker_path(path, sizeof(path), ifindex, kind);
	return access(path, F_OK) == 0;
}
