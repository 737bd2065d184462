// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /etc/ifmirror.conf: key files in the GLib/desktop-entry style,
 *
 *   [collector br-mirror]        [tunnel vx-ids]          [session web]
 *   ports = eth1                 type = vxlan             source = eth0 eth2
 *   snaplen = 128                remote = 192.0.2.50      to = br-mirror
 *                                vni = 42                 direction = both
 *                                                         match = tcp port 443
 *
 * read by a parser of our own (GLib's does not say which line is wrong, and
 * a boot-time helper should not need GLib). Everything is checked before
 * anything is applied; every error names the file and the line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void *grow(void *arr, int n, int *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	return realloc(arr, (size_t)*cap * size);
}

/* The line of an earlier section of that name (sessions apart from devices). */
static int section_line_of(struct ifm_config *c, const char *name, bool session)
{
	for (int i = 0; session && i < c->nsessions; i++)
		if (!strcmp(c->sessions[i].name, name))
			return c->sessions[i].line;
	for (int i = 0; !session && i < c->ncollectors; i++)
		if (!strcmp(c->collectors[i].name, name))
			return c->collectors[i].line;
	for (int i = 0; !session && i < c->ntunnels; i++)
		if (!strcmp(c->tunnels[i].name, name))
			return c->tunnels[i].line;
	return 0;
}

static void section(struct ifm_conf_parser *p, char *s)
{
	struct ifm_config *c = p->c;
	char *close = strchr(s, ']'), *type, *name, *save = NULL;
	int first;

	p->kind = NONE;
	p->section = NULL;
	p->nseen = 0;
	p->broken = true; /* until the header is good */
	if (!close || trim(close + 1)[0]) {
		ifm_conf_error(p, p->line, "a section header is '[TYPE NAME]' alone on its line");
		return;
	}
	*close = '\0';
	type = strtok_r(s + 1, " \t", &save);
	name = type ? strtok_r(NULL, " \t", &save) : NULL;
	if (!type || !name || strtok_r(NULL, " \t", &save)) {
		ifm_conf_error(p, p->line, "a section header is '[TYPE NAME]', e.g. [session web]");
		return;
	}
	if (strcmp(type, "session") && strcmp(type, "collector") && strcmp(type, "tunnel")) {
		ifm_conf_error(p, p->line, "unknown section type '%.20s' (session, collector or tunnel)", type);
		return;
	}
	if (strcmp(type, "session") && ifm_ifname_problem(name)) {
		ifm_conf_error(p, p->line, "[%s %.40s]: the name is the interface's: %s", type, name,
				ifm_ifname_problem(name));
		return;
	}
	for (const char *q = name; *q; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			ifm_conf_error(p, p->line, "[%s %.40s]: the name contains a control character",
					type, name);
			return;
		}
	}
	if (strlen(name) >= 64) {
		ifm_conf_error(p, p->line, "[%s %.40s...]: name longer than 63 characters", type, name);
		return;
	}
	first = section_line_of(c, name, !strcmp(type, "session"));
	if (first) {
		ifm_conf_error(p, p->line, "duplicate section name '%s' (first at line %d)", name, first);
		return;
	}
	p->broken = false;
	if (!strcmp(type, "session")) {
		struct ifm_conf_session *n;

		c->sessions = grow(c->sessions, c->nsessions, &c->cap_sessions, sizeof(*n));
		n = &c->sessions[c->nsessions++];
		memset(n, 0, sizeof(*n));
		snprintf(n->name, sizeof(n->name), "%s", name);
		n->line = p->line;
		n->dir = IFM_DIR_BOTH;
		n->sample = 1;
		p->kind = SESSION;
		p->section = n;
	} else if (!strcmp(type, "collector")) {
		struct ifm_conf_collector *n;

		c->collectors = grow(c->collectors, c->ncollectors, &c->cap_collectors, sizeof(*n));
		n = &c->collectors[c->ncollectors++];
		memset(n, 0, sizeof(*n));
		snprintf(n->name, sizeof(n->name), "%s", name);
		n->line = p->line;
		p->kind = COLLECTOR;
		p->section = n;
	} else {
		struct ifm_conf_tunnel *n;

		c->tunnels = grow(c->tunnels, c->ntunnels, &c->cap_tunnels, sizeof(*n));
		n = &c->tunnels[c->ntunnels++];
		memset(n, 0, sizeof(*n));
		snprintf(n->name, sizeof(n->name), "%s", name);
		n->line = p->line;
		p->kind = TUNNEL;
		p->section = n;
	}
}

static void key_value(struct ifm_conf_parser *p, char *s)
{
	char *eq = strchr(s, '='), *k, *v;

	if (!eq) {
		ifm_conf_error(p, p->line, "expected 'key = value' or '[TYPE NAME]'");
		return;
	}
	*eq = '\0';
	k = trim(s);
	v = trim(eq + 1);
	if (p->kind == NONE) {
		if (!p->broken)
			ifm_conf_error(p, p->line, "'%.30s' outside of any section", k);
		return; /* inside a broken section: its header was reported */
	}
	if (!*k) {
		ifm_conf_error(p, p->line, "a key is missing before '='");
		return;
	}
	if (!*v) {
		ifm_conf_error(p, p->line, "%.30s: empty value", k);
		return;
	}
	for (int i = 0; i < p->nseen; i++) {
		if (!strcmp(p->seen[i], k)) {
			ifm_conf_error(p, p->line, "%.30s given twice in this section", k);
			return;
		}
	}
	/* a key it cannot remember could come twice unseen (and the first
	 * value leak): no section has that many keys of its own */
	if (p->nseen == IFM_CONF_MAX_KEYS) {
		ifm_conf_error(p, p->line, "more than %d keys in this section", IFM_CONF_MAX_KEYS);
		return;
	}
	/* one longer is no section's key: the section reports it unknown */
	if (strlen(k) < sizeof(p->seen[0]))
		snprintf(p->seen[p->nseen++], sizeof(p->seen[0]), "%s", k);
	if (p->kind == SESSION)
		ifm_conf_session_key(p, p->section, k, v);
	else if (p->kind == COLLECTOR)
		ifm_conf_collector_key(p, p->section, k, v);
	else
		ifm_conf_tunnel_key(p, p->section, k, v);
}

struct pair {
	const char *source, *to;
	int session;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int r = strcmp(x->source, y->source);

	if (!r)
		r = strcmp(x->to, y->to);
	return r ? r : x->session - y->session;
}

/* What no single line shows: required keys, pairs that contradict. */
static void check_whole(struct ifm_conf_parser *p)
{
	struct ifm_config *c = p->c;
	struct pair *pairs;
	int n = 0;

	for (int i = 0; i < c->nsessions; i++)
		n += c->sessions[i].nsources;
	pairs = calloc((size_t)n + 1, sizeof(*pairs));
	n = 0;
	for (int i = 0; i < c->nsessions; i++) {
		struct ifm_conf_session *s = &c->sessions[i];

		if (!s->nsources && !s->npats)
			ifm_conf_error(p, s->line, "[session %s] needs 'source'", s->name);
		if (!s->to[0])
			ifm_conf_error(p, s->line, "[session %s] needs 'to' (the destination)", s->name);
		for (int j = 0; j < s->nsources; j++) {
			if (!strcmp(s->sources[j], s->to))
				ifm_conf_error(p, s->source_line, "[session %s]: source %s is also its destination",
						s->name, s->to);
			if (pairs)
				pairs[n++] = (struct pair){ s->sources[j], s->to, i };
		}
	}
	/* the same source and destination twice: sorted, they are neighbours */
	if (pairs)
		qsort(pairs, (size_t)n, sizeof(*pairs), cmp_pair);
	for (int i = 1; pairs && i < n; i++) {
		const struct ifm_conf_session *first = &c->sessions[pairs[i - 1].session];
		const struct ifm_conf_session *s = &c->sessions[pairs[i].session];

		if (!strcmp(pairs[i].source, pairs[i - 1].source) &&
		    !strcmp(pairs[i].to, pairs[i - 1].to))
			ifm_conf_error(p, s->source_line, "[session %s]: %s to %s is in [session %s] (line %d) "
					"already", s->name, pairs[i].source, pairs[i].to, first->name, first->line);
	}
	free(pairs);
	for (int i = 0; i < c->ncollectors; i++) {
		if (!c->collectors[i].nports)
			ifm_conf_error(p, c->collectors[i].line, "[collector %s] needs 'ports'",
					c->collectors[i].name);
		if (c->collectors[i].burst_line && !c->collectors[i].rate)
			ifm_conf_error(p, c->collectors[i].burst_line, "[collector %s]: burst without "
				       "rate", c->collectors[i].name);
	}
	for (int i = 0; i < c->ntunnels; i++) {
		struct ifm_conf_tunnel *t = &c->tunnels[i];
		const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);

		if (t->burst_line && !t->rate)
			ifm_conf_error(p, t->burst_line, "[tunnel %s]: burst without rate", t->name);
		/* each per-id device would get the whole budget: N ids, N times the rate */
		if (t->rate && t->nids)
			ifm_conf_error(p, t->line, "[tunnel %s]: rate and ids together are not "
				       "supported (each id's device would get the whole budget)", t->name);
		if (!t->type[0] || !t->remote[0]) {
			ifm_conf_error(p, t->line, "[tunnel %s] needs 'type' and 'remote'", t->name);
			continue;
		}
		if (t->id_key[0] && strcmp(t->id_key, ops->id_key))
			ifm_conf_error(p, t->id_line, "%s: a %s tunnel takes '%s'", t->id_key, t->type,
				       ops->id_key);
		if (t->dstport && !ops->dstport_default)
			ifm_conf_error(p, t->line, "[tunnel %s]: dstport is for %s tunnels only",
				       t->name, ifm_tunnel_udp_types());
		if (t->version && !ops->versions)
			ifm_conf_error(p, t->version_line, "[tunnel %s]: version is for erspan tunnels "
				       "only", t->name);
		if (t->has_hwid && (!ops->versions || t->version != 2))
			ifm_conf_error(p, t->hwid_line, "[tunnel %s]: hwid is for erspan version 2 "
				       "(version = 2)", t->name);
		if (t->local[0] && ops->no_local)
			ifm_conf_error(p, t->line, "[tunnel %s]: %s takes no 'local' (the route to the "
				       "remote picks it)", t->name, t->type);
		if (t->dev[0] && ops->no_dev)
			ifm_conf_error(p, t->line, "[tunnel %s]: %s takes no 'dev' (the route to the "
				       "remote picks it)", t->name, t->type);
		if (t->local[0] &&
		    ifm_conf_address_family(t->local) != ifm_conf_address_family(t->remote))
			ifm_conf_error(p, t->line, "[tunnel %s]: local and remote are not of one "
				       "address family", t->name);
		for (int j = 0; j < t->nids; j++) {
			char name[64];

			if (t->ids[j].id > ops->id_max)
				ifm_conf_error(p, t->ids_line, "ids: %s %s=%lu: the %s %s must be 0 to %lu",
					       t->ids[j].source, ifm_dir_name(t->ids[j].dir), t->ids[j].id,
					       t->type, ops->id_words, ops->id_max);
			else if (t->id_key[0] && t->ids[j].id == t->id)
				ifm_conf_error(p, t->ids_line, "ids: %lu is the tunnel's own %s (for the "
					       "sources without an id of their own)", t->id, t->id_key);
			else if (ifm_tunnel_id_name(t->name, t->ids[j].id, name, sizeof(name)) < 0)
				ifm_conf_error(p, t->ids_line, "ids: the device for id %lu, %s, would be "
					       "longer than 15 bytes (the tunnel's name is too long for it)",
					       t->ids[j].id, name);
			else if (section_line_of(c, name, false))
				ifm_conf_error(p, t->ids_line, "ids: the device for id %lu, %s, is a "
					       "section of this file", t->ids[j].id, name);
		}
	}
}

int ifm_config_parse(FILE *f, const char *path, struct ifm_config *c)
{
	struct ifm_conf_parser p = { .c = c, .path = path };
	char *line = NULL;
	size_t cap = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (strlen(path) >= sizeof(c->path)) {
		ifm_err("%.40s...: path longer than %zu bytes", path, sizeof(c->path) - 1);
		return -ENAMETOOLONG;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s;

		p.line++;
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
			section(&p, s);
		else
			key_value(&p, s);
	}
	free(line);
	if (!p.errors)
		check_whole(&p);
	if (p.errors) {
		ifm_config_free(c);
		return -EINVAL;
	}
	return 0;
}

/*
 * Whoever can write the file, or swap it in its directory, can mirror any
 * traffic anywhere: the directory must be root's and not writable by others
 * (a sticky /tmp-like one included), the file root's, regular, writable by
 * root alone. The file is opened below the directory already judged, never
 * through a link, and without waiting on a FIFO.
 */
static int open_dir_of(const char *path, const char **base)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd;

	*base = slash ? slash + 1 : path;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		ifm_err("%s: cannot open its directory: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 002)) {
		ifm_err("%s: refusing a file in a directory that anyone but root can write "
			"(owner uid %u, mode %04o)", path, (unsigned int)st.st_uid,
			(unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

int ifm_config_load(const char *path, struct ifm_config *c)
{
	const char *base;
	struct stat st;
	FILE *f;
	int dfd, fd, r;

	memset(c, 0, sizeof(*c));
	dfd = open_dir_of(path, &base);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		struct stat lst;

		if (e == ELOOP && fstatat(dfd, base, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(lst.st_mode))
			ifm_err("%s: refusing a symbolic link (give the file itself)", path);
		else
			ifm_err("%s: cannot read it: %s", path, strerror(e));
		close(dfd);
		return -e;
	}
	close(dfd);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ifm_err("%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		ifm_err("%s: refusing a file that anyone but root can write (owner uid %u, mode %04o)",
			path, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	/* a regular file: reads do not block; back to plain reads for stdio */
	if (fcntl(fd, F_SETFL, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	r = ifm_config_parse(f, path, c);
	fclose(f);
	return r;
}

void ifm_config_free(struct ifm_config *c)
{
	for (int i = 0; i < c->nsessions; i++) {
		for (int j = 0; j < c->sessions[i].nsources; j++)
			free(c->sessions[i].sources[j]);
		free(c->sessions[i].sources);
		for (int j = 0; j < c->sessions[i].npats; j++)
			free(c->sessions[i].pats[j]);
		free(c->sessions[i].pats);
		free(c->sessions[i].match);
	}
	for (int i = 0; i < c->ncollectors; i++)
		for (int j = 0; j < c->collectors[i].nports; j++)
			free(c->collectors[i].ports[j]);
	free(c->sessions);
	free(c->collectors);
	free(c->tunnels);
	memset(c, 0, sizeof(*c));
}
