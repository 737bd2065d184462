/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ifmirror command: one function per subcommand, and the config file. */
#ifndef IFMIRROR_CLI_H
#define IFMIRROR_CLI_H

#include "plan.h"

#include <stdio.h>

/* What `up`, `down` and `status` take after the subcommand. */
struct ifm_opts {
	const char *source;
	const char *dest;        /* --to */
	enum ifm_dir dir;        /* --direction, default both */
	bool json;               /* --json */
	bool prometheus;         /* status --prometheus: the Prometheus text format */
	const char *textfile;    /* status --textfile DIR: into DIR/ifmirror.prom */
	const char *config;      /* status --config FILE: what its patterns match */
	bool quiet;              /* -q, --quiet */
	bool defer;              /* --defer: remember it while a device is missing */
	const char *match;       /* --match EXPR (tcpdump syntax) */
	unsigned int sample;     /* --sample N: one frame in N; 1: all */
	unsigned long id;        /* --id N: into DEST's device of that id */
	bool has_id;
};

enum ifm_cmd_kind { IFM_ARGS_UP, IFM_ARGS_DOWN, IFM_ARGS_STATUS };

/*
 * Parses argv (argv[0] is the subcommand). On a usage error returns -1 and
 * writes a one-line reason (without the "ifmirror: " prefix) into err.
 */
int ifm_parse_opts(enum ifm_cmd_kind kind, int argc, char *argv[],
		   struct ifm_opts *o, char *err, size_t errlen);


/* "--opt value" or "--opt=value": the value; NULL when argv[*i] is another
 * option, or when the value is missing (then *missing, if given, is set) */
const char *cli_opt_value(int argc, char *argv[], int *i, const char *opt, bool *missing);
/* "CMD SUB: needs NEEDS" when name is NULL, "CMD SUB: 'NAME': why" when it is
 * no interface name: -1, reported */
int cli_name(const char *cmd, const char *sub, const char *needs, const char *name);
/* arg is opt, or "opt=..." */
bool cli_is_opt(const char *arg, const char *opt);

int cmd_up(int argc, char *argv[]);
int cmd_down(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);
int cmd_collector(int argc, char *argv[]);
int cmd_refresh(int argc, char *argv[]);
int cmd_ifupdown_hook(int argc, char *argv[]);
int cmd_tunnel(int argc, char *argv[]);
int cmd_check(int argc, char *argv[]);
int cmd_apply(int argc, char *argv[]);
/* every --match of a config, compiled before the lock (apply, watch) */
int apply_compile_matches(const struct ifm_config *c);
int cmd_flush(int argc, char *argv[]);
int cmd_watch(int argc, char *argv[]);

/* /etc/ifmirror.conf: every error reported as "FILE:LINE: ..."; -errno when any */
int ifm_config_load(const char *path, struct ifm_config *c);
/* the same from an open file, without the check of its owner and mode */
int ifm_config_parse(FILE *f, const char *path, struct ifm_config *c);
void ifm_config_free(struct ifm_config *c);

/* ifupdown: a stanza's mirror options (IF_MIRROR_*) for the interface IFACE */
struct ifm_ifupdown_opts {
	const char *iface;
	struct ifm_names to;
	enum ifm_dir dir;
	const char *match;
	unsigned int sample;
	struct ifm_collector_spec collector;
	struct ifm_names ports;
	bool is_collector;
};
/* reads IF_MIRROR_* from the environment; -EINVAL with the reason reported */
int ifm_ifupdown_read(struct ifm_ifupdown_opts *o);
void ifm_ifupdown_free(struct ifm_ifupdown_opts *o);

/* s as a JSON string, quotes included, on standard output */
/* a JSON string of any bytes, valid UTF-8 (see json.c) */
void ifm_json_str(const char *s);
size_t ifm_utf8_len(const unsigned char *s);

#endif
