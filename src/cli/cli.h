/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ifmirror command: one function per subcommand, and the config file. */
#ifndef IFMIRROR_CLI_H
#define IFMIRROR_CLI_H

#include "plan.h"

int cmd_up(int argc, char *argv[]);
int cmd_down(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);
int cmd_collector(int argc, char *argv[]);
int cmd_refresh(int argc, char *argv[]);
int cmd_ifupdown_hook(int argc, char *argv[]);
int cmd_tunnel(int argc, char *argv[]);
int cmd_check(int argc, char *argv[]);
int cmd_apply(int argc, char *argv[]);
int cmd_flush(int argc, char *argv[]);

/* /etc/ifmirror.conf: every error reported as "FILE:LINE: ..."; -errno when any */
int ifm_config_load(const char *path, struct ifm_config *c);
void ifm_config_free(struct ifm_config *c);

/* s as a JSON string, quotes included, on standard output */
void ifm_json_str(const char *s);

#endif
