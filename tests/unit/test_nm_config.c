// SPDX-License-Identifier: GPL-2.0-or-later
/* NetworkManager user data (ifmirror.* keys) turned into specs (nm/config.c). */
#include "ifmirror-nm.h"
#include "check.h"

#include <string.h>

static char errors[2048];

static void collect(enum ifm_level level, const char *text, void *arg)
{
	(void)arg;
	if (level == IFM_LEVEL_ERROR)
		snprintf(errors + strlen(errors), sizeof(errors) - strlen(errors), "%s\n", text);
}

/* user data as "key=value" strings, NULL-ended */
static const char *lookup(const char *key, void *arg)
{
	for (const char *const *kv = arg; *kv; kv++)
		if (!strncmp(*kv, key, strlen(key)) && (*kv)[strlen(key)] == '=')
			return *kv + strlen(key) + 1;
	return NULL;
}

static int read_data(struct nmm_config *c, const char *const *data)
{
	errors[0] = '\0';
	return nmm_config_read(c, lookup, (void *)data, "conn", "eth0");
}

int main(void)
{
	static const char *const good[] = { "ifmirror.to=br0 vx0,br0", "ifmirror.direction=ingress",
					     "ifmirror.match=tcp", "ifmirror.sample=3",
					     "ifmirror.mode=native", "ifmirror.native=qdisc", NULL };
	static const char *const bad[] = { "ifmirror.to=eth0", "ifmirror.sample=0",
					   "ifmirror.direction=up", "ifmirror.mode=fast",
					   "ifmirror.sinkkind=a-value-longer-than-fifteen", NULL };
	static const char *const none[] = { "other.key=1", NULL };
	static const char *const coll[] = { "ifmirror.collector=eth1 eth2", "ifmirror.sink=s0",
					    "ifmirror.sinkkind=profile", NULL };
	struct nmm_config c;
	char env[128];

	ifm_report_set(&(struct ifm_report){ .prog = "test", .line = collect });
	CHECK(read_data(&c, good) == 0);
	CHECK(c.any && c.nto == 2 && !strcmp(c.to[0], "br0") && !strcmp(c.to[1], "vx0") &&
	      c.dir == IFM_DIR_INGRESS && !strcmp(c.match, "tcp") && c.sample == 3 &&
	      c.mode == NMM_MODE_NATIVE && !strcmp(c.native_added, "qdisc"));
	nmm_config_free(&c);

	CHECK(read_data(&c, bad) == -1);
	CHECK(strstr(errors, "conn: ifmirror.to 'eth0': that is the connection's own interface") &&
	      strstr(errors, "ifmirror.sample '0': not a whole number") &&
	      strstr(errors, "ifmirror.direction 'up': not ingress, egress or both") &&
	      strstr(errors, "ifmirror.mode 'fast': not native or dispatcher") &&
	      strstr(errors, "ifmirror.sinkkind 'a-value-longer-than-'"));
	CHECK(c.sinkkind[0] == '\0' && c.sample == 1);   /* refused, not cut */
	nmm_config_free(&c);

	CHECK(read_data(&c, none) == 0 && !c.any && c.nto == 0 && c.mode == NMM_MODE_DISPATCHER);
	nmm_config_free(&c);
	CHECK(read_data(&c, coll) == 0 && c.nports == 2 && !strcmp(c.sink, "s0") &&
	      !strcmp(c.sinkkind, "profile"));
	nmm_config_free(&c);

	nmm_env_name("ifmirror.to", env, sizeof(env));
	CHECK(!strcmp(env, "CONNECTION_USER_IFMIRROR__TO"));
	nmm_env_name("a.B-c", env, sizeof(env));
	CHECK(!strcmp(env, "CONNECTION_USER_A___B_055C"));
	return CHECK_DONE("nm_config");
}
