// SPDX-License-Identifier: GPL-2.0-or-later
/* ifupdown's environment (IF_MIRROR_*) turned into specs (cli/ifupdown.c). */
#include "cli.h"
#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

static char errors[2048];

static void collect(enum ifm_level level, const char *text, void *arg)
{
	(void)arg;
	if (level == IFM_LEVEL_ERROR)
		snprintf(errors, sizeof(errors), "%s", text);
}

static const char *const vars[] = { "IF_MIRROR_TO", "IF_MIRROR_DIRECTION", "IF_MIRROR_COLLECTOR",
				    "IF_MIRROR_SINK", "IF_MIRROR_SAMPLE", "IF_MIRROR_SNAPLEN",
				    "IF_MIRROR_MATCH" };

/* "NAME=value" pairs, NULL-ended */
static int read_env(struct ifm_ifupdown_opts *o, ...)
{
	va_list ap;
	const char *kv;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	va_start(ap, o);
	while ((kv = va_arg(ap, const char *)))
		putenv((char *)kv);
	va_end(ap);
	memset(o, 0, sizeof(*o));
	o->iface = "eth0";
	errors[0] = '\0';
	return ifm_ifupdown_read(o);
}

int main(void)
{
	struct ifm_ifupdown_opts o;
	static char longlist[600];

	ifm_report_set(&(struct ifm_report){ .prog = "test", .line = collect });
	CHECK(read_env(&o, "IF_MIRROR_TO=br0 vx0", "IF_MIRROR_DIRECTION=egress",
		       "IF_MIRROR_SAMPLE=10", NULL) == 0);
	CHECK(o.to.n == 2 && !strcmp(o.to.v[1], "vx0") && o.dir == IFM_DIR_EGRESS && o.sample == 10 &&
	      !o.is_collector);
	ifm_ifupdown_free(&o);

	CHECK(read_env(&o, "IF_MIRROR_COLLECTOR=eth1,eth2", "IF_MIRROR_SINK=s0",
		       "IF_MIRROR_SNAPLEN=128", NULL) == 0);
	CHECK(o.is_collector && o.collector.nports == 2 && !strcmp(o.collector.ports[1], "eth2") &&
	      !strcmp(o.collector.sink, "s0") && o.collector.snaplen == 128 &&
	      !strcmp(o.collector.bridge, "eth0") && o.to.n == 0);
	ifm_ifupdown_free(&o);

	CHECK(read_env(&o, "IF_MIRROR_TO=br0", "IF_MIRROR_SAMPLE=zero", NULL) == -EINVAL &&
	      !strcmp(errors, "eth0: mirror-sample 'zero': not a whole number from 1 to 2147483647"));
	ifm_ifupdown_free(&o);
	CHECK(read_env(&o, "IF_MIRROR_TO=eth0", NULL) == -EINVAL &&
	      !strcmp(errors, "eth0: mirror-to 'eth0': that is the interface itself"));
	ifm_ifupdown_free(&o);
	CHECK(read_env(&o, "IF_MIRROR_DIRECTION=in", NULL) == -EINVAL &&
	      !strcmp(errors, "eth0: mirror-direction 'in' without mirror-to"));
	ifm_ifupdown_free(&o);
	CHECK(read_env(&o, "IF_MIRROR_TO=br0", "IF_MIRROR_DIRECTION=up", NULL) == -EINVAL &&
	      strstr(errors, "not ingress, egress or both"));
	ifm_ifupdown_free(&o);
	CHECK(read_env(&o, "IF_MIRROR_SNAPLEN=100", NULL) == -EINVAL &&
	      strstr(errors, "without mirror-collector"));
	ifm_ifupdown_free(&o);
	CHECK(read_env(&o, "IF_MIRROR_COLLECTOR=eth1", "IF_MIRROR_SINK=a/b", NULL) == -EINVAL &&
	      strstr(errors, "mirror-sink 'a/b'"));
	ifm_ifupdown_free(&o);
	/* a list longer than the old 255-byte buffer: read whole, its last name judged too */
	snprintf(longlist, sizeof(longlist), "IF_MIRROR_TO=");
	for (int i = 0; i < 15; i++)
		snprintf(longlist + strlen(longlist), sizeof(longlist) - strlen(longlist),
			 "dest-number-%02d ", i);
	snprintf(longlist + strlen(longlist), sizeof(longlist) - strlen(longlist),
		 "a-name-too-long-x");
	CHECK(read_env(&o, longlist, NULL) == -EINVAL && strstr(errors, "'a-name-too-long-x'"));
	ifm_ifupdown_free(&o);
	return CHECK_DONE("ifupdown");
}
