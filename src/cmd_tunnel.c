// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror tunnel up|down: being written */
#include "ifmirror.h"

int cmd_tunnel(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	ifm_err("tunnel: not built yet");
	return IFM_EXIT_RUNTIME;
}
