// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror apply, flush: being written */
#include "ifmirror.h"

int cmd_apply(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	ifm_err("apply: not built yet");
	return IFM_EXIT_RUNTIME;
}

int cmd_flush(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	ifm_err("flush: not built yet");
	return IFM_EXIT_RUNTIME;
}
