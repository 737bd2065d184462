// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror check: being written */
#include "ifmirror.h"

int cmd_check(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	ifm_err("check: not built yet");
	return IFM_EXIT_RUNTIME;
}
