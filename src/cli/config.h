/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Between the reader of /etc/ifmirror.conf (config.c) and its keys (config_keys.c). */
#ifndef IFMIRROR_CLI_CONFIG_H
#define IFMIRROR_CLI_CONFIG_H

#include "cli.h"

#define IFM_CONF_MAX_KEYS 32    /* in one section; no section has half as many */

struct ifm_conf_parser {
	struct ifm_config *c;
	const char *path;
	int line;
	int errors;
	enum { NONE, SESSION, COLLECTOR, TUNNEL } kind;
	void *section;
	char seen[IFM_CONF_MAX_KEYS][32];   /* keys of the current section (no known key is longer) */
	int nseen;
	bool broken;             /* in a section whose header was reported */
};

/* "FILE:LINE: ..." reported, and counted */
void ifm_conf_error(struct ifm_conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ifm_conf_session_key(struct ifm_conf_parser *p, struct ifm_conf_session *s, const char *k,
			  char *v);
void ifm_conf_collector_key(struct ifm_conf_parser *p, struct ifm_conf_collector *c,
			    const char *k, char *v);
void ifm_conf_tunnel_key(struct ifm_conf_parser *p, struct ifm_conf_tunnel *t, const char *k,
			 char *v);

/* AF_INET, AF_INET6, or 0 when v is no address */
int ifm_conf_address_family(const char *v);

#endif
