// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command line of up, down and status, and the option helpers every
 * command shares. Each value is judged by the spec module (lib/spec.c).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int usage_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -1;
}

/* "FIELD 'VALUE': why" */
static int field_err(char *err, size_t errlen, const char *field, const char *v, const char *why)
{
	snprintf(err, errlen, "%s '%.40s': %s", field, v, why);
	return -1;
}

const char *cli_opt_value(int argc, char *argv[], int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);

	if (missing)
		*missing = false;
	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], opt))
		return NULL;
	if (*i + 1 >= argc) {
		if (missing)
			*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int cli_name(const char *cmd, const char *sub, const char *needs, const char *name)
{
	const char *problem;

	if (!name) {
		ifm_err("%s%s%s: needs %s", cmd, sub ? " " : "", sub ? sub : "", needs);
		return -1;
	}
	if ((problem = ifm_ifname_problem(name))) {
		ifm_err("%s%s%s: '%.40s': %s", cmd, sub ? " " : "", sub ? sub : "", name, problem);
		return -1;
	}
	return 0;
}

bool cli_is_opt(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

int ifm_parse_opts(enum ifm_cmd_kind kind, int argc, char *argv[],
		   struct ifm_opts *o, char *err, size_t errlen)
{
	const char *problem;
	bool sample_seen = false;

	memset(o, 0, sizeof(*o));
	o->dir = IFM_DIR_BOTH;
	o->sample = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;

		if (cli_is_opt(a, "--to") && kind != IFM_ARGS_STATUS) {
			v = cli_opt_value(argc, argv, &i, "--to", NULL);
			if (!v)
				return usage_err(err, errlen, "%s needs a destination interface", "--to");
			if (o->dest)
				return usage_err(err, errlen, "%s given twice", "--to");
			o->dest = v;
		} else if (cli_is_opt(a, "--direction") && kind == IFM_ARGS_UP) {
			v = cli_opt_value(argc, argv, &i, "--direction", NULL);
			if (!v)
				return usage_err(err, errlen, "%s needs ingress, egress or both", "--direction");
			if ((problem = ifm_spec_dir(v, &o->dir)))
				return field_err(err, errlen, "--direction", v, problem);
		} else if (!strcmp(a, "--json") && kind == IFM_ARGS_STATUS) {
			o->json = true;
		} else if (!strcmp(a, "--prometheus") && kind == IFM_ARGS_STATUS) {
			o->prometheus = true;
		} else if (cli_is_opt(a, "--textfile") && kind == IFM_ARGS_STATUS) {
			v = cli_opt_value(argc, argv, &i, "--textfile", NULL);
			if (!v || !*v)
				return usage_err(err, errlen, "%s needs a directory (node_exporter's "
						 "--collector.textfile.directory)", "--textfile");
			if (o->textfile)
				return usage_err(err, errlen, "%s given twice", "--textfile");
			o->textfile = v;
		} else if (cli_is_opt(a, "--config") && kind == IFM_ARGS_STATUS) {
			v = cli_opt_value(argc, argv, &i, "--config", NULL);
			if (!v || !*v)
				return usage_err(err, errlen, "%s needs a file", "--config");
			o->config = v;
		} else if (cli_is_opt(a, "--match") && kind == IFM_ARGS_UP) {
			v = cli_opt_value(argc, argv, &i, "--match", NULL);
			if (!v || !*v)
				return usage_err(err, errlen, "%s needs a tcpdump expression", "--match");
			if (o->match)
				return usage_err(err, errlen, "%s given twice", "--match");
			if ((problem = ifm_spec_match(v)))
				return usage_err(err, errlen, "--match: %s", problem);
			o->match = v;
		} else if (cli_is_opt(a, "--sample") && kind == IFM_ARGS_UP) {
			v = cli_opt_value(argc, argv, &i, "--sample", NULL);
			if (!v)
				return usage_err(err, errlen, "%s needs a number N (one frame in N)",
						 "--sample");
			if (sample_seen)
				return usage_err(err, errlen, "%s given twice", "--sample");
			sample_seen = true;
			if ((problem = ifm_spec_sample(v, &o->sample)))
				return field_err(err, errlen, "--sample", v, problem);
		} else if (cli_is_opt(a, "--id") && kind == IFM_ARGS_UP) {
			v = cli_opt_value(argc, argv, &i, "--id", NULL);
			if (!v)
				return usage_err(err, errlen, "%s needs a number (VNI, key or session id)",
						 "--id");
			if (o->has_id)
				return usage_err(err, errlen, "%s given twice", "--id");
			if (!ifm_spec_number(v, 0, 4294967295UL, &o->id))
				return field_err(err, errlen, "--id", v, "not a number from 0 to 4294967295");
			o->has_id = true;
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
	if (o->has_id && o->defer)
		return usage_err(err, errlen, "%s needs the tunnel now: not with --defer", "--id");
	/* up names one device, now; a pattern is a standing rule, kept by
	 * apply and watch from the file (a device whose name has '*', '?', '['
	 * or starts with '!' or '@' is left to the file too, as "[*]x") */
	if (o->source && kind == IFM_ARGS_UP && ifm_source_kind(o->source) != IFM_SRC_NAME) {
		snprintf(err, errlen,
			 "'%.40s' is a source pattern: up takes one device; patterns go in "
			 "the config file, for apply and watch", o->source);
		return -1;
	}
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

