// SPDX-License-Identifier: GPL-2.0-or-later
/* main() of both programs: the command table, --help made from it, --version. */
#include "commands.h"
#include "ifmirror.h"

#include <stdio.h>
#include <string.h>

static void usage(const char *prog, const struct ifm_command *commands)
{
	printf("Usage: %s COMMAND [ARGS]\n\n", prog);
	for (const struct ifm_command *c = commands; c->name; c++)
		fputs(c->help, stdout);
	printf("\n"
	       "  -h, --help      this text\n"
	       "  -V, --version   the version\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime error, 2 usage error.\n"
	       "See %s(8).\n", prog);
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

int ifm_commands_main(const char *prog, const struct ifm_command *commands, int argc,
		      char *argv[])
{
	ifm_report_set(&(struct ifm_report){ .prog = prog });
	if (argc < 2) {
		ifm_err("no command given (see %s --help)", prog);
		return IFM_EXIT_USAGE;
	}
	if (is_help(argv[1]) || !strcmp(argv[1], "help")) {
		usage(prog, commands);
		return IFM_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, IFMIRROR_VERSION);
		return IFM_EXIT_OK;
	}
	for (const struct ifm_command *c = commands; c->name; c++) {
		if (strcmp(argv[1], c->name))
			continue;
		for (int j = 2; j < argc && !c->own_help; j++) {
			if (is_help(argv[j])) {
				usage(prog, commands);
				return IFM_EXIT_OK;
			}
		}
		return c->fn(argc - 1, argv + 1);
	}
	ifm_err("unknown command '%.40s' (see %s --help)", argv[1], prog);
	return IFM_EXIT_USAGE;
}
