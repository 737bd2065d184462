// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror apply [--config FILE] [--dry-run] [-q]
 * ifmirror flush [-q]
 *
 * The command lines only; apply.c and flush.c in the library do the work.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/ifmirror.conf"

/*
 * Every expression of the file, compiled before the lock (libpcap's time
 * holds up no other command; the library finds them done): a bad one is
 * told as the library would tell it, and nothing is applied.
 */
int apply_compile_matches(const struct ifm_config *c)
{
	int errors = 0;

	for (int i = 0; i < c->nsessions; i++) {
		const struct ifm_conf_session *cs = &c->sessions[i];
		char what[600];

		if (!cs->match)
			continue;
		snprintf(what, sizeof(what), "%s:%d: match", c->path, cs->match_line);
		if (ifm_match_check(cs->match, cs->sample, what) < 0)
			errors++;
	}
	return errors ? -EINVAL : 0;
}

int cmd_apply(int argc, char *argv[])
{
	const char *path = DEFAULT_CONFIG;
	struct ifm_apply_result res;
	struct ifm_config c;
	struct ifm_nl nl;
	bool dry = false, quiet = false;
	int lock, r, ret = IFM_EXIT_RUNTIME;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n")) {
			dry = true;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else {
			ifm_err("apply: unexpected argument '%.40s' (see ifmirror --help)", argv[i]);
			return IFM_EXIT_USAGE;
		}
	}
	ifm_quiet_set(quiet);
	if (ifm_config_load(path, &c) < 0)
		return IFM_EXIT_RUNTIME;
	if (apply_compile_matches(&c) < 0) {
		ifm_config_free(&c);
		return IFM_EXIT_RUNTIME;
	}
	lock = ifm_begin(&nl);
	if (lock < 0) {
		ifm_config_free(&c);
		return IFM_EXIT_RUNTIME;
	}
	r = ifm_apply(&nl, &c, dry, &res);
	if (r < 0 && r != -EINVAL && r != -ELOOP)
		ifm_err("%s: not applied completely: %s", path,
			r == -EIO ? "some sessions failed (see above)" : strerror(-r));
	if (r == 0 && !dry && !quiet) {
		if (!nl.changes)
			printf("%s: %d session%s, nothing to change\n", path, res.sessions,
			       res.sessions == 1 ? "" : "s");
		else
			printf("%s: %d added, %d changed, %d removed\n", path, res.added, res.changed,
			       res.removed);
	} else if (r == 0 && dry && !quiet) {
		printf("%s: dry run, nothing was changed\n", path);
	}
	if (r == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	ifm_config_free(&c);
	return ret;
}

int cmd_flush(int argc, char *argv[])
{
	struct ifm_nl nl;
	bool quiet = false;
	int lock, r, sessions, devices;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else {
			ifm_err("flush: unexpected argument '%.40s'", argv[i]);
			return IFM_EXIT_USAGE;
		}
	}
	ifm_quiet_set(quiet);
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	r = ifm_flush(&nl, &sessions, &devices);
	if (r == 0 && !quiet)
		printf(sessions || nl.changes ? "flushed: %d mirror filters on %d devices\n"
					      : "nothing to flush\n", sessions, devices);
	else if (r < 0)
		ifm_err("flush: %s", strerror(-r));
	ifm_end(&nl, lock);
	return r == 0 ? IFM_EXIT_OK : IFM_EXIT_RUNTIME;
}
