// SPDX-License-Identifier: GPL-2.0-or-later
#include "spec.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define IFM_IFNAMSIZ 16

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
	for (const char *p = name; *p; p++) {
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return "interface name contains '/', ':' or white space";
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "interface name contains a control character";
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

static int usage_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -1;
}

/* Accepts "--opt value" and "--opt=value"; returns the value or NULL. */
static const char *opt_value(int argc, char *argv[], int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (!strcmp(argv[*i], opt)) {
		if (*i + 1 >= argc)
			return NULL;
		return argv[++*i];
	}
	return NULL;
}

static bool is_opt(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

int ifm_parse_opts(enum ifm_cmd_kind kind, int argc, char *argv[],
		   struct ifm_opts *o, char *err, size_t errlen)
{
	const char *problem;

	memset(o, 0, sizeof(*o));
	o->dir = IFM_DIR_BOTH;
	o->sample = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;

		if (is_opt(a, "--to") && kind != IFM_ARGS_STATUS) {
			v = opt_value(argc, argv, &i, "--to");
			if (!v)
				return usage_err(err, errlen, "%s needs a destination interface", "--to");
			if (o->dest)
				return usage_err(err, errlen, "%s given twice", "--to");
			o->dest = v;
		} else if (is_opt(a, "--direction") && kind == IFM_ARGS_UP) {
			v = opt_value(argc, argv, &i, "--direction");
			if (!v)
				return usage_err(err, errlen, "%s needs ingress, egress or both", "--direction");
			o->dir = ifm_dir_parse(v);
			if (!o->dir)
				return usage_err(err, errlen,
						 "--direction '%s': not ingress, egress or both", v);
		} else if (!strcmp(a, "--json") && kind == IFM_ARGS_STATUS) {
			o->json = true;
		} else if (is_opt(a, "--match") && kind == IFM_ARGS_UP) {
			v = opt_value(argc, argv, &i, "--match");
			if (!v || !*v)
				return usage_err(err, errlen, "%s needs a tcpdump expression", "--match");
			o->match = v;
		} else if (is_opt(a, "--sample") && kind == IFM_ARGS_UP) {
			char *end;
			unsigned long n;

			v = opt_value(argc, argv, &i, "--sample");
			if (!v)
				return usage_err(err, errlen, "%s needs a number N (one frame in N)",
						 "--sample");
			n = strtoul(v, &end, 10);
			if (*v < '1' || *v > '9' || *end || n > 0x7fffffff)
				return usage_err(err, errlen,
						 "--sample '%s': not a whole number from 1 to 2147483647", v);
			o->sample = (unsigned int)n;
		} else if (!strcmp(a, "--defer") && kind == IFM_ARGS_UP) {
			o->defer = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_err(err, errlen, "unknown option '%s' (see ifmirror --help)", a);
		} else if (!o->source) {
			o->source = a;
		} else {
			return usage_err(err, errlen, "unexpected argument '%s'", a);
		}
	}

	if (!o->source && kind != IFM_ARGS_STATUS)
		return usage_err(err, errlen, "%s needs a SOURCE interface", argv[0]);
	if (!o->dest && kind == IFM_ARGS_UP)
		return usage_err(err, errlen, "%s needs --to DEST", argv[0]);
	if (o->source && (problem = ifm_ifname_problem(o->source))) {
		snprintf(err, errlen, "'%.40s': %s", o->source, problem);
		return -1;
	}
	if (o->dest && (problem = ifm_ifname_problem(o->dest))) {
		snprintf(err, errlen, "'%.40s': %s", o->dest, problem);
		return -1;
	}
	if (o->source && o->dest && !strcmp(o->source, o->dest)) {
		snprintf(err, errlen, "%s: source and destination are the same interface",
			 o->source);
		return -1;
	}
	return 0;
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
