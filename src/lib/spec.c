// SPDX-License-Identifier: GPL-2.0-or-later
/* Each field of a spec judged once, for every front end (see spec.h). */
#include "spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define IFM_IFNAMSIZ 16

/* What a name or a pattern may not hold: a control character (a second line
 * in every message), or a separator of paths, aliases or lists. The first
 * class is looked for over the whole string before the second. */
enum { BAD_NONE, BAD_CONTROL, BAD_SEPARATOR };

static int bad_chars(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return BAD_CONTROL;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return BAD_SEPARATOR;
	return BAD_NONE;
}

const char *ifm_ifname_problem(const char *name)
{
	size_t len;

	if (!name || !*name)
		return "empty interface name";
	len = strlen(name);
	if (len >= IFM_IFNAMSIZ)
		return "interface name longer than 15 characters";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "not a valid interface name";
	switch (bad_chars(name)) {
	case BAD_CONTROL:
		return "interface name contains a control character";
	case BAD_SEPARATOR:
		return "interface name contains '/', ':' or white space";
	}
	return NULL;
}

enum ifm_dir ifm_dir_parse(const char *s)
{
	if (!s)
		return 0;
	if (!strcmp(s, "ingress") || !strcmp(s, "in"))
		return IFM_DIR_INGRESS;
	if (!strcmp(s, "egress") || !strcmp(s, "out"))
		return IFM_DIR_EGRESS;
	if (!strcmp(s, "both"))
		return IFM_DIR_BOTH;
	return 0;
}

const char *ifm_dir_name(enum ifm_dir dir)
{
	switch (dir) {
	case IFM_DIR_INGRESS:
		return "ingress";
	case IFM_DIR_EGRESS:
		return "egress";
	case IFM_DIR_BOTH:
		return "both";
	}
	return "?";
}

unsigned int ifm_name_hash(const char *name)
{
	unsigned int h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

bool ifm_spec_number(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long long n;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		return false;
	*out = (unsigned long)n;
	return true;
}

const char *ifm_spec_sample(const char *v, unsigned int *out)
{
	unsigned long n;

	if (!ifm_spec_number(v, 1, IFM_SAMPLE_MAX, &n))
		return "not a whole number from 1 to 2147483647";
	*out = (unsigned int)n;
	return NULL;
}

const char *ifm_spec_yes_no(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "no")) {
		*out = v[0] == 'y';
		return NULL;
	}
	return "not yes or no";
}

const char *ifm_spec_snaplen(const char *v, unsigned int *out)
{
	unsigned long n;

	if (!ifm_spec_number(v, IFM_SNAPLEN_MIN, IFM_SNAPLEN_MAX, &n))
		return "not a number of bytes from 14 (the Ethernet header) to 65535";
	*out = (unsigned int)n;
	return NULL;
}

/* A whole or decimal number and its unit: the digits as a fraction
 * num/den, the rest in *unit. False when there are no digits or too many. */
static bool decimal(const char *v, unsigned long long *num, unsigned long long *den,
		    const char **unit)
{
	const char *p = v;
	bool digits = false, point = false;

	*num = 0;
	*den = 1;
	for (; *p; p++) {
		if (*p == '.' && !point) {
			point = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		digits = true;
		if (*num > 99999999999ULL || (point && *den >= 1000000000ULL))
			return false; /* 12 digits before, 9 after: more than any rate */
		*num = *num * 10 + (unsigned long long)(*p - '0');
		if (point)
			*den *= 10;
	}
	*unit = p;
	return digits && v[0] != '.' && p[-1] != '.';
}

const char *ifm_spec_rate(const char *v, unsigned long long *bits)
{
	static const struct {
		const char *unit;
		unsigned long long mult;     /* bits per second of one unit */
	} units[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
		{ "tbit", 1000000000000ULL }, { "kibit", 1024 }, { "mibit", 1048576 },
		{ "gibit", 1073741824 }, { "bps", 8 }, { "kbps", 8000 }, { "mbps", 8000000 },
		{ "gbps", 8000000000ULL },
	};
	const char *range = "not a rate from 8kbit to 100gbit (a number and a unit: bit, kbit, "
			    "mbit, gbit, or bps, kbps, mbps, gbps for bytes)";
	unsigned long long num, den;
	const char *unit;
	size_t ulen;

	if (!v || !decimal(v, &num, &den, &unit))
		return range;
	ulen = strlen(unit);
	if (ulen >= 2 && !strcmp(unit + ulen - 2, "/s"))
		ulen -= 2;
	if (!ulen)
		return "needs a unit (bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps for bytes): "
		       "tc reads a bare number as bytes per second";
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		long double b;

		if (strlen(units[i].unit) != ulen || strncasecmp(unit, units[i].unit, ulen))
			continue;
		b = (long double)num * (long double)units[i].mult / (long double)den;
		if (b < (long double)IFM_RATE_MIN || b > (long double)IFM_RATE_MAX)
			return range;
		*bits = (unsigned long long)(b + 0.5L);
		return NULL;
	}
	return "unknown unit (bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps for bytes)";
}

const char *ifm_spec_burst(const char *v, unsigned int *bytes)
{
	const char *range = "not a number of bytes from 2048 to 256mb (k/kb, m/mb: 1024, "
			    "1048576 bytes)";
	unsigned long long n = 0, mult = 1;
	const char *p = v;

	if (!v || *v < '0' || *v > '9')
		return range;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > 0xffffffffULL)
			return range;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (!strcasecmp(p, "k") || !strcasecmp(p, "kb"))
		mult = 1024;
	else if (!strcasecmp(p, "m") || !strcasecmp(p, "mb"))
		mult = 1048576;
	else if (*p)
		return range;
	n *= mult;
	if (n < IFM_BURST_MIN || n > IFM_BURST_MAX)
		return range;
	*bytes = (unsigned int)n;
	return NULL;
}

unsigned int ifm_burst_default(unsigned long long bits)
{
	unsigned long long b = bits / 8 / 20;

	if (b < IFM_BURST_GSO)
		b = IFM_BURST_GSO;
	return b > IFM_BURST_MAX ? IFM_BURST_MAX : (unsigned int)b;
}

const char *ifm_spec_port(const char *v, unsigned int *out)
{
	unsigned long n;

	if (!ifm_spec_number(v, 1, 65535, &n))
		return "not a port from 1 to 65535";
	*out = (unsigned int)n;
	return NULL;
}

const char *ifm_spec_dir(const char *v, enum ifm_dir *out)
{
	*out = ifm_dir_parse(v);
	return *out ? NULL : "not ingress, egress or both";
}

const char *ifm_spec_tunnel_id(const char *v, char *source, enum ifm_dir *dir,
			       unsigned long *id)
{
	const char *eq = v ? strrchr(v, '=') : NULL, *colon;
	char name[64];
	size_t n;

	if (!eq)
		return "not SOURCE[:DIRECTION]=ID";
	if (!ifm_spec_number(eq + 1, 0, 4294967295UL, id))
		return "the id is not a number from 0 to 4294967295";
	colon = memchr(v, ':', (size_t)(eq - v));
	n = (size_t)((colon ? colon : eq) - v);
	if (n >= sizeof(name))
		return "interface name longer than 15 characters";
	memcpy(name, v, n);
	name[n] = '\0';
	if (ifm_ifname_problem(name))
		return ifm_ifname_problem(name);
	*dir = IFM_DIR_BOTH;
	if (colon) {
		char d[16];
		size_t dn = (size_t)(eq - colon - 1);

		if (dn >= sizeof(d))
			return "the direction is not ingress, egress or both";
		memcpy(d, colon + 1, dn);
		d[dn] = '\0';
		if (!(*dir = ifm_dir_parse(d)))
			return "the direction is not ingress, egress or both";
	}
	memcpy(source, name, n + 1);
	return NULL;
}

const char *ifm_spec_match(const char *v)
{
	if (!v || !*v)
		return "needs a tcpdump expression";
	if (strlen(v) > IFM_MATCH_MAX)
		return "longer than 1023 bytes";
	return NULL;
}

const char *ifm_spec_addr(const char *v, int *family, unsigned char *bytes)
{
	unsigned char buf[16] = { 0 };

	*family = inet_pton(AF_INET, v, buf) == 1 ? AF_INET
		: inet_pton(AF_INET6, v, buf) == 1 ? AF_INET6 : 0;
	if (bytes)
		memcpy(bytes, buf, sizeof(buf));
	return *family ? NULL : "not an IPv4 or IPv6 address";
}

int ifm_spec_names(const char *value, int max, bool drop_repeats, const char *self,
		   const char *self_what, struct ifm_names *out)
{
	char *save = NULL;

	memset(out, 0, sizeof(*out));
	out->buf = strdup(value ? value : "");
	out->v = calloc(strlen(out->buf) / 2 + 1, sizeof(*out->v));
	if (!out->buf || !out->v)
		return -ENOMEM;
	for (char *w = strtok_r(out->buf, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		const char *problem = ifm_ifname_problem(w);
		bool dup = false;

		if (problem || (self && !strcmp(w, self))) {
			snprintf(out->word, sizeof(out->word), "%.40s", w);
			if (problem)
				snprintf(out->why, sizeof(out->why), "%s", problem);
			else
				snprintf(out->why, sizeof(out->why), "that is %s", self_what);
			return -EINVAL;
		}
		for (int i = 0; i < out->n; i++)
			dup |= !strcmp(out->v[i], w);
		if (dup && drop_repeats)
			continue;
		if (out->n == max) {
			snprintf(out->why, sizeof(out->why), "more than %d interfaces", max);
			return -EINVAL;
		}
		out->v[out->n++] = w;
	}
	if (!out->n) {
		snprintf(out->why, sizeof(out->why), "no interface named");
		return -EINVAL;
	}
	return 0;
}

const char *ifm_names_problem(const struct ifm_names *n, const char *field, char *buf,
			      size_t len)
{
	if (n->word[0])
		snprintf(buf, len, "%s '%s': %s", field, n->word, n->why);
	else
		snprintf(buf, len, "%s: %s", field, n->why);
	return buf;
}

void ifm_names_free(struct ifm_names *n)
{
	free(n->buf);
	free(n->v);
	memset(n, 0, sizeof(*n));
}

bool ifm_name_listed(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

bool ifm_addr_is_zero(const unsigned char *a)
{
	static const unsigned char zero[16];

	return !memcmp(a, zero, sizeof(zero));
}

#define MASTER_PREFIX "@master:"

enum ifm_source_kind ifm_source_kind(const char *w)
{
	if (w[0] == '!')
		return IFM_SRC_EXCLUDE;
	if (w[0] == '@')
		return IFM_SRC_MASTER;
	return strpbrk(w, "*?[") ? IFM_SRC_GLOB : IFM_SRC_NAME;
}

/* every '[' closes: fnmatch would take an open one as a plain character */
static bool brackets_close(const char *w)
{
	for (const char *p = w; *p; p++) {
		if (*p != '[')
			continue;
		p++;
		if (*p == '!' || *p == '^')
			p++;
		if (*p == ']')
			p++;
		while (*p && *p != ']')
			p++;
		if (!*p)
			return false;
	}
	return true;
}

const char *ifm_spec_source_word(const char *w)
{
	if (!w || !*w)
		return "empty source";
	switch (ifm_source_kind(w)) {
	case IFM_SRC_NAME:
		return ifm_ifname_problem(w);
	case IFM_SRC_EXCLUDE:
		if (!w[1])
			return "'!' needs a name or pattern to exclude";
		if (w[1] == '!')
			return "an exclusion of an exclusion";
		return ifm_spec_source_word(w + 1);
	case IFM_SRC_MASTER:
		if (strncmp(w, MASTER_PREFIX, strlen(MASTER_PREFIX)))
			return "a pattern starting with '@' is @master:BRIDGE";
		if (strpbrk(w + strlen(MASTER_PREFIX), "*?["))
			return "the bridge of @master: is a name, not a glob";
		return ifm_ifname_problem(w + strlen(MASTER_PREFIX));
	case IFM_SRC_GLOB:
		if (strlen(w) > 63)
			return "pattern longer than 63 characters";
		switch (bad_chars(w)) {
		case BAD_CONTROL:
			return "pattern contains a control character";
		case BAD_SEPARATOR:
			return "pattern contains '/', ':' or white space";
		}
		if (!brackets_close(w))
			return "pattern has a '[' without its ']'";
		return NULL;
	}
	return "not a source";
}

bool ifm_source_pattern_matches(const char *pat, const char *name, const char *master)
{
	switch (ifm_source_kind(pat)) {
	case IFM_SRC_NAME:
		return !strcmp(pat, name);
	case IFM_SRC_GLOB:
		return fnmatch(pat, name, 0) == 0;
	case IFM_SRC_MASTER:
		return master && !strcmp(pat + strlen(MASTER_PREFIX), master);
	case IFM_SRC_EXCLUDE:
		break;
	}
	return false;
}

bool ifm_sources_match(const char *const *pats, int n, const char *name, const char *master)
{
	bool in = false;

	for (int i = 0; i < n; i++) {
		if (ifm_source_kind(pats[i]) == IFM_SRC_EXCLUDE) {
			if (ifm_source_pattern_matches(pats[i] + 1, name, master))
				return false;
		} else if (!in) {
			in = ifm_source_pattern_matches(pats[i], name, master);
		}
	}
	return in;
}
