/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/ifmirror.conf, parsed and checked; see ifmirror.conf(5). */
#ifndef IFMIRROR_CONFIG_H
#define IFMIRROR_CONFIG_H

#include "ifmirror.h"

#define IFM_CONF_MAX_SOURCES 4096

struct ifm_conf_session {
	char name[64];
	int line, source_line, to_line, match_line;
	char **sources;          /* nsources names */
	int nsources;
	char to[IFM_IFNAMSIZ];
	enum ifm_dir dir;
	char *match;
	unsigned int sample;
};

struct ifm_conf_collector {
	char name[IFM_IFNAMSIZ];
	int line;
	char *ports[16];
	int nports;
	char sink[IFM_IFNAMSIZ];
	unsigned int snaplen;
};

struct ifm_conf_tunnel {
	char name[IFM_IFNAMSIZ];
	int line, id_line;
	char type[8];
	char remote[64], local[64];
	char dev[IFM_IFNAMSIZ];
	char id_key[12];         /* "vni", "key", "session-id" or "" */
	unsigned long id;
	unsigned int dstport, snaplen;
};

struct ifm_config {
	char path[512];
	struct ifm_conf_session *sessions;
	struct ifm_conf_collector *collectors;
	struct ifm_conf_tunnel *tunnels;
	int nsessions, ncollectors, ntunnels;
	int cap_sessions, cap_collectors, cap_tunnels;
};

/* Prints every error as "ifmirror: FILE:LINE: ..."; -errno when any. */
int ifm_config_load(const char *path, struct ifm_config *c);
void ifm_config_free(struct ifm_config *c);

#endif
