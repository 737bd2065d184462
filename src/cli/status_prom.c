// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * status --prometheus: the Prometheus text exposition format (0.0.4), and
 * --textfile DIR: the same written atomically into DIR/ifmirror.prom for
 * node_exporter's textfile collector.
 *
 * Each family once, with HELP and TYPE; counters end in _total; sizes in
 * bytes. Label values are escaped (\\, \", \n) and kept valid UTF-8: a byte
 * of an interface name that is not part of a well-formed UTF-8 sequence is
 * written as the character U+00XX, as status --json does.
 *
 * Sessions are labelled source, direction and destination (the empty string
 * for a deleted one); sessions with equal labels (two deleted destinations
 * of one source and direction) are summed, so no series appears twice.
 */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void label(FILE *out, const char *key, const char *value, bool first)
{
	const unsigned char *s = (const unsigned char *)value;

	fprintf(out, "%s%s=\"", first ? "" : ",", key);
	while (*s) {
		size_t n = ifm_utf8_len(s);

		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (n == 0)   /* the byte as U+00XX */
			fprintf(out, "%c%c", 0xc0 | (*s >> 6), 0x80 | (*s & 0x3f));
		else
			fwrite(s, 1, n, out);
		s += n ? n : 1;
	}
	fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a session's labels; dest NULL: deleted */
static void session_labels(FILE *out, const struct st_session *s)
{
	label(out, "source", s->src->name, true);
	label(out, "direction", ifm_dir_name(s->dir), false);
	label(out, "destination", s->dest ? s->dest->name : "", false);
	if (s->block) {
		/* the block's counters, the same on every device of it: sum by block */
		char b[16];

		snprintf(b, sizeof(b), "%u", s->block);
		label(out, "shared_block", b, false);
	}
}

static bool same_labels(const struct st_session *a, const struct st_session *b)
{
	return a->dir == b->dir && !strcmp(a->src->name, b->src->name) &&
	       !strcmp(a->dest ? a->dest->name : "", b->dest ? b->dest->name : "");
}

/* the sessions with equal labels summed: a fresh array of *n */
static struct st_session *merged(const struct st_status *st, size_t *n)
{
	struct st_session *v = calloc(st->ns ? st->ns : 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < st->ns; i++) {
		const struct st_session *s = &st->s[i];
		size_t j = 0;

		/* only deleted destinations can repeat a label set */
		while (j < *n && !(!s->dest && same_labels(&v[j], s)))
			j++;
		if (j == *n) {
			v[(*n)++] = *s;
			continue;
		}
		v[j].packets += s->packets;
		v[j].bytes += s->bytes;
		v[j].dropped += s->dropped;
		v[j].budget_drops += s->budget_drops;
	}
	return v;
}

/* a counter family of one line per session: its frames, or with bytes its bytes */
static void session_counter(FILE *out, const struct st_session *v, size_t n, const char *name,
			    const char *help, bool bytes)
{
	family(out, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s{", name);
		session_labels(out, &v[i]);
		fprintf(out, "} %" PRIu64 "\n", bytes ? v[i].bytes : v[i].packets);
	}
}

static void sessions(const struct st_status *st, FILE *out)
{
	static const char *const causes[] = { "destination_down", "destination_gone", "budget" };
	size_t n;
	struct st_session *v = merged(st, &n);

	if (!v || !n) {
		free(v);
		return;
	}
	session_counter(out, v, n, "ifmirror_session_copies_total",
			"Frames the session's mirror action took (copies it then dropped included).",
			false);
	session_counter(out, v, n, "ifmirror_session_bytes_total",
			"Bytes of the frames the session's mirror action took.", true);
	family(out, "ifmirror_session_drops_total", "counter",
	       "Copies that did not leave, by cause: destination_down (down or without carrier), "
	       "destination_gone (deleted), budget (over the copy budget). The kernel counts the "
	       "first two in one counter, shown under the destination's state now.");
	for (size_t i = 0; i < n; i++) {
		uint64_t by[3] = { v[i].dest ? v[i].dropped - v[i].budget_drops : 0, v[i].dest ? 0 : v[i].dropped,
				   v[i].budget_drops };

		for (int c = 0; c < 3; c++) {
			fputs("ifmirror_session_drops_total{", out);
			session_labels(out, &v[i]);
			label(out, "cause", causes[c], false);
			fprintf(out, "} %" PRIu64 "\n", by[c]);
		}
	}
	family(out, "ifmirror_session_destination_up", "gauge",
	       "1 when the destination is up with carrier (copies can leave), else 0 (down, "
	       "without carrier, or deleted).");
	for (size_t i = 0; i < n; i++) {
		fputs("ifmirror_session_destination_up{", out);
		session_labels(out, &v[i]);
		fprintf(out, "} %d\n", v[i].dest && !strcmp(st_state(v[i].dest), "up"));
	}
	free(v);
}

static void port_line(FILE *out, const char *metric, const struct st_collector *c,
		      const struct st_port *p, const char *role, int value)
{
	fprintf(out, "%s{", metric);
	label(out, "collector", c->br->name, true);
	label(out, "port", p->name, false);
	label(out, "role", role, false);
	fprintf(out, "} %d\n", value);
}

static void collectors(const struct st_status *st, FILE *out)
{
	if (!st->nc)
		return;
	family(out, "ifmirror_collector_carrier", "gauge",
	       "1 when the collector bridge is up with carrier (mirrors into it deliver), else 0.");
	for (size_t i = 0; i < st->nc; i++) {
		fputs("ifmirror_collector_carrier{", out);
		label(out, "collector", st->c[i].br->name, true);
		fprintf(out, "} %d\n", !strcmp(st_state(st->c[i].br), "up"));
	}
	family(out, "ifmirror_collector_port_carrier", "gauge",
	       "1 when the collector's port (role port) or always-up sink (role sink) has "
	       "carrier, else 0 (also when it is missing).");
	for (size_t i = 0; i < st->nc; i++) {
		const struct st_collector *c = &st->c[i];

		port_line(out, "ifmirror_collector_port_carrier", c, &c->sink, "sink",
			  c->sink.l && ifm_link_carrier(c->sink.l));
		for (int p = 0; p < c->nports; p++)
			port_line(out, "ifmirror_collector_port_carrier", c, &c->ports[p], "port",
				  c->ports[p].l && ifm_link_carrier(c->ports[p].l));
	}
	family(out, "ifmirror_collector_port_attached", "gauge",
	       "1 when the port or sink is attached to the collector bridge, else 0.");
	for (size_t i = 0; i < st->nc; i++) {
		const struct st_collector *c = &st->c[i];

		port_line(out, "ifmirror_collector_port_attached", c, &c->sink, "sink",
			  c->sink.attached);
		for (int p = 0; p < c->nports; p++)
			port_line(out, "ifmirror_collector_port_attached", c, &c->ports[p], "port",
				  c->ports[p].attached);
	}
}

static void tunnel_line(FILE *out, const char *metric, const struct st_tunnel *t, long value)
{
	fprintf(out, "%s{", metric);
	label(out, "tunnel", t->ti.name, true);
	label(out, "type", t->ti.type, false);
	fprintf(out, "} %ld\n", value);
}

static void tunnels(const struct st_status *st, FILE *out)
{
	size_t known = 0;

	for (size_t i = 0; i < st->nt; i++)
		known += !st->t[i].headroom_err;
	if (!known)
		return;   /* no underlay found: no route to the remote */
	family(out, "ifmirror_tunnel_underlay_mtu_bytes", "gauge",
	       "MTU of the tunnel's underlay (the device toward its remote, or its route's MTU).");
	for (size_t i = 0; i < st->nt; i++)
		if (!st->t[i].headroom_err)
			tunnel_line(out, "ifmirror_tunnel_underlay_mtu_bytes", &st->t[i],
				    (long)st->t[i].h.underlay_mtu);
	family(out, "ifmirror_tunnel_underlay_headroom_bytes", "gauge",
	       "Bytes the underlay MTU has to spare for the largest frame sent into the tunnel "
	       "(the sessions' sources' MTU, or the tunnel's own); below 0 such copies are cut, "
	       "fragmented or dropped.");
	for (size_t i = 0; i < st->nt; i++)
		if (!st->t[i].headroom_err)
			tunnel_line(out, "ifmirror_tunnel_underlay_headroom_bytes", &st->t[i],
				    st->t[i].headroom);
}

void st_print_prometheus(const struct st_status *st, FILE *out)
{
	sessions(st, out);
	collectors(st, out);
	tunnels(st, out);
}

/* ---- --textfile DIR ---- */

#define TEXTFILE "ifmirror.prom"

/* DIR, opened without following a link: root's, a directory, not writable by group or
 * others (node_exporter reads every *.prom there: nobody else may put one in) */
static int open_dir(const char *dir)
{
	struct stat sb;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		/* O_NOFOLLOW|O_DIRECTORY on a link: ENOTDIR (ELOOP without O_DIRECTORY);
		 * lstat only names it */
		if ((e == ENOTDIR || e == ELOOP) && lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode))
			ifm_err("status: --textfile %s: a symbolic link (not followed): name the "
				"directory itself", dir);
		else
			ifm_err("status: --textfile %s: %s", dir, strerror(e));
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		ifm_err("status: --textfile %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != 0 ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		ifm_err("status: --textfile %s: %s", dir, !S_ISDIR(sb.st_mode) ? "not a directory" :
			sb.st_uid ? "not root's: its owner could replace what ifmirror writes" :
			"writable by group or others: anyone could replace what ifmirror writes");
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int st_write_textfile(const char *dir, const char *text, size_t len)
{
	char tmp[64];
	int dfd = open_dir(dir), fd = -1, e;
	bool ok;

	if (dfd < 0)
		return -1;
	/* a name node_exporter does not read (it takes *.prom only) */
	for (unsigned int n = 0; fd < 0 && n < 100; n++) {
		snprintf(tmp, sizeof(tmp), "." TEXTFILE ".%ld.%u", (long)getpid(), n);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		ifm_err("status: --textfile %s: cannot create a file there: %s", dir, strerror(errno));
		close(dfd);
		return -1;
	}
	ok = fchmod(fd, 0644) == 0 && write_all(fd, text, len) == 0 && fsync(fd) == 0;
	e = errno;
	if (close(fd) < 0 && ok) {
		ok = false;
		e = errno;
	}
	if (ok && renameat(dfd, tmp, dfd, TEXTFILE) < 0) {
		ok = false;
		e = errno;
	}
	if (!ok) {
		unlinkat(dfd, tmp, 0);
		ifm_err("status: --textfile %s: cannot write %s: %s", dir, TEXTFILE, strerror(e));
		close(dfd);
		return -1;
	}
	fsync(dfd);   /* the rename itself, on disk */
	close(dfd);
	return 0;
}
