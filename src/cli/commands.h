/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command table both programs' main() walk; --help is made from it. */
#ifndef IFMIRROR_COMMANDS_H
#define IFMIRROR_COMMANDS_H

#include <stdbool.h>

struct ifm_command {
	const char *name;
	int (*fn)(int argc, char *argv[]);   /* argv[0] is the command's name */
	const char *help;                    /* its lines of --help */
	bool own_help;                       /* -h among its arguments is not --help */
};

/* Sets the report sink's label, then runs the command argv[1] names. */
int ifm_commands_main(const char *prog, const struct ifm_command *commands, int argc,
		      char *argv[]);

#endif
