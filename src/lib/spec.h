/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure parts of the command line: names, directions, option parsing.
 * Nothing here touches the kernel, so tests/unit links it alone.
 */
#ifndef IFMIRROR_ARGS_H
#define IFMIRROR_ARGS_H

#include <stdbool.h>
#include <stddef.h>

enum ifm_dir {
	IFM_DIR_INGRESS = 1,
	IFM_DIR_EGRESS = 2,
	IFM_DIR_BOTH = IFM_DIR_INGRESS | IFM_DIR_EGRESS,
};

/* Exit codes: the contract with hooks and scripts. */
enum {
	IFM_EXIT_OK = 0,
	IFM_EXIT_RUNTIME = 1,
	IFM_EXIT_USAGE = 2,
};

/*
 * The kernel's rule (dev_valid_name): 1..15 bytes, not "." or "..", no '/',
 * ':' or white space. Returns NULL when valid, else the reason.
 */
const char *ifm_ifname_problem(const char *name);

/* "ingress", "egress", "both" -> enum; 0 when unknown. */
enum ifm_dir ifm_dir_parse(const char *s);
const char *ifm_dir_name(enum ifm_dir dir);

/* What `up`, `down` and `status` take after the subcommand. */
struct ifm_opts {
	const char *source;
	const char *dest;        /* --to */
	enum ifm_dir dir;        /* --direction, default both */
	bool json;               /* --json */
	bool quiet;              /* -q, --quiet */
	bool defer;              /* --defer: remember it while a device is missing */
	const char *match;       /* --match EXPR (tcpdump syntax) */
	unsigned int sample;     /* --sample N: one frame in N; 1: all */
};

enum ifm_cmd_kind { IFM_ARGS_UP, IFM_ARGS_DOWN, IFM_ARGS_STATUS };

/*
 * Parses argv (argv[0] is the subcommand). On a usage error returns -1 and
 * writes a one-line reason (without the "ifmirror: " prefix) into err.
 */
int ifm_parse_opts(enum ifm_cmd_kind kind, int argc, char *argv[],
		   struct ifm_opts *o, char *err, size_t errlen);

/* 32-bit FNV-1a of a device name: what the action cookie remembers. */
unsigned int ifm_name_hash(const char *name);

#endif
