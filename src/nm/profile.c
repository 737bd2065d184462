// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror-nm profile CONNECTION --to DEST [--direction D] [--mode M]
 *                     [--print | --keyfile FILE | --commit] [--remove] [-q]
 *
 * Puts a mirror into a NetworkManager connection profile, or takes it out:
 *
 * native      the profile's own tc setting: a clsact qdisc and one matchall
 *             filter per hook with "mirred egress mirror dev DEST". NM applies
 *             it on activation, and fails the activation when it cannot.
 * dispatcher  no tc setting (so NM leaves tc alone); the session is user data
 *             (ifmirror.to, ifmirror.direction) that the dispatcher script
 *             applies with the ifmirror core when the connection comes up.
 * auto        the dispatcher: native fails the source's whole activation
 *             whenever DEST is missing then, which nothing rules out when the
 *             profile is written. Native only when asked for (--mode native),
 *             refused or warned about where it cannot work (native.c).
 *
 * A profile with connection.permissions is private to users, who may edit
 * it: the dispatcher ignores ifmirror data there, so no mirror goes into it.
 *
 * Native mode also writes user data (ifmirror.mode=native, ifmirror.to,
 * ifmirror.direction, ifmirror.native = what it added to the tc setting), so
 * that --remove takes out exactly what was added and leaves the profile as
 * it was before.
 */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>


static void usage_hint(void)
{
	ifm_err("see %s --help", ifm_report_prog());
}

static int parse(int argc, char *argv[], struct opts *o)
{
	const char *problem;
	int nout = 0;

	memset(o, 0, sizeof(*o));
	o->mode = NMM_MODE_AUTO;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		const char *eq = strchr(a, '=');
		char opt[32];

		snprintf(opt, sizeof(opt), "%.*s", eq && a[0] == '-' ? (int)(eq - a) : 31, a);
		if (!strcmp(opt, "--to") || !strcmp(opt, "--direction") || !strcmp(opt, "--mode") ||
		    !strcmp(opt, "--keyfile") || !strcmp(opt, "--match") || !strcmp(opt, "--sample")) {
			if (eq && a[0] == '-')
				v = eq + 1;
			else if (i + 1 < argc)
				v = argv[++i];
			if (!v || !*v) {
				ifm_err("profile: %s needs a value", opt);
				return -1;
			}
		}
		if (!strcmp(opt, "--to")) {
			char *buf = NULL, *names[NMM_MAX_DEST];
			int n = 0;

			int r = nmm_split_names("profile", "--to", v, &buf, names, NMM_MAX_DEST, &n,
						NULL);

			if (r < 0 || n == 0) {
				if (r == 0)
					ifm_err("profile: --to: no interface named");
				free(buf);
				return -1;
			}
			for (int j = 0; j < n; j++) {
				bool dup = false;

				for (int k = 0; k < o->nto; k++)
					dup |= !strcmp(o->to[k], names[j]);
				if (dup)
					continue;
				if (o->nto == NMM_MAX_DEST) {
					ifm_err("profile: more than %d destinations", NMM_MAX_DEST);
					free(buf);
					return -1;
				}
				o->to[o->nto++] = names[j];
			}
			for (int j = 0; j < NMM_MAX_DEST; j++) {
				if (!o->to_bufs[j]) {
					o->to_bufs[j] = buf;
					break;
				}
			}
		} else if (!strcmp(opt, "--direction")) {
			if ((problem = ifm_spec_dir(v, &o->dir))) {
				ifm_err("profile: --direction '%.20s': %s", v, problem);
				return -1;
			}
		} else if (!strcmp(opt, "--match")) {
			/* checked here, so a typo never reaches the profile */
			if ((problem = ifm_spec_match(v))) {
				ifm_err("profile: --match: %s", problem);
				return -1;
			}
			if (ifm_match_check(v, 1, "profile: --match") < 0)
				return -1;
			o->match = v;
		} else if (!strcmp(opt, "--sample")) {
			if ((problem = ifm_spec_sample(v, &o->sample))) {
				ifm_err("profile: --sample '%.20s': %s", v, problem);
				return -1;
			}
		} else if (!strcmp(opt, "--mode")) {
			if (!strcmp(v, "native"))
				o->mode = NMM_MODE_NATIVE;
			else if (!strcmp(v, "dispatcher"))
				o->mode = NMM_MODE_DISPATCHER;
			else if (!strcmp(v, "auto"))
				o->mode = NMM_MODE_AUTO;
			else {
				ifm_err("profile: --mode '%.20s': not native, dispatcher or auto", v);
				return -1;
			}
		} else if (!strcmp(opt, "--keyfile")) {
			o->out = OUT_KEYFILE;
			o->keyfile = v;
			nout++;
		} else if (nmm_output_flag(a, &o->out, &nout)) {
			continue;
		} else if (!strcmp(a, "--remove")) {
			o->remove = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (a[0] == '-' && a[1]) {
			ifm_err("profile: unknown option '%.40s'", a);
			usage_hint();
			return -1;
		} else if (o->conn) {
			ifm_err("profile: unexpected argument '%.40s'", a);
			return -1;
		} else {
			o->conn = a;
		}
	}
	if (!o->conn || !*o->conn) {
		ifm_err("profile: needs a CONNECTION (its name, UUID or D-Bus path)");
		return -1;
	}
	if (nout > 1) {
		ifm_err("profile: --print, --keyfile and --commit exclude each other");
		return -1;
	}
	if (!o->nto && !o->remove) {
		ifm_err("profile: needs --to DEST");
		return -1;
	}
	if (o->remove && (o->dir || o->mode != NMM_MODE_AUTO || o->match || o->sample)) {
		ifm_err("profile: --remove takes no --direction, --mode, --match or --sample");
		return -1;
	}
	return 0;
}

static void opts_free(struct opts *o)
{
	for (int j = 0; j < NMM_MAX_DEST; j++)
		free(o->to_bufs[j]);
}

/* ---- user data ---- */

static const char *const all_keys[] = { NMM_KEY_TO, NMM_KEY_DIRECTION, NMM_KEY_MODE,
					NMM_KEY_NATIVE, NMM_KEY_MATCH, NMM_KEY_SAMPLE };

static void set_user(NMConnection *conn, const char *key, const char *val)
{
	NMSettingUser *u = nmm_setting_user(conn);

	if (!u && !val)
		return;
	if (!u) {
		u = NM_SETTING_USER(nm_setting_user_new());
		nm_connection_add_setting(conn, NM_SETTING(u));
	}
	nm_setting_user_set_data(u, key, val, NULL);
}

static void drop_empty_user(NMConnection *conn)
{
	NMSettingUser *u = nmm_setting_user(conn);
	guint n = 0;

	if (u) {
		nm_setting_user_get_keys(u, &n);
		if (n == 0)
			nm_connection_remove_setting(conn, NM_TYPE_SETTING_USER);
	}
}

/* ---- the choice of mode: native.c ---- */

/* ---- output ---- */

static bool user_equal(NMConnection *a, NMConnection *b)
{
	NMSetting *x = NM_SETTING(nmm_setting_user(a));
	NMSetting *y = NM_SETTING(nmm_setting_user(b));

	if (!x || !y)
		return x == y;
	return nm_setting_compare(x, y, NM_SETTING_COMPARE_FLAG_EXACT);
}

static void print_changes(struct ctx *c, NMConnection *old, NMConnection *conn)
{
	const char *uuid = nm_connection_get_uuid(conn);
	const char *file = nm_remote_connection_get_filename(c->rc);
	GString *s = g_string_new(NULL);

	if (!nmm_tc_equal(old, conn)) {
		g_string_append(s, "nmcli connection modify ");
		nmm_shell_quote(s, uuid);
		if (!nm_connection_get_setting_tc_config(conn)) {
			g_string_append(s, " remove tc");
		} else {
			char *q = nmm_tc_list(conn, true), *f = nmm_tc_list(conn, false);

			g_string_append(s, " tc.qdiscs ");
			nmm_shell_quote(s, q);
			g_string_append(s, " tc.tfilters ");
			nmm_shell_quote(s, f);
			g_free(q);
			g_free(f);
		}
		g_string_append_c(s, '\n');
	}
	if (!user_equal(old, conn)) {
		NMSettingUser *u = nmm_setting_user(conn);
		bool any = false;

		g_string_append_printf(s, "# nmcli cannot set user data: the [user] group of the "
				       "keyfile%s%s, then 'nmcli connection reload'\n",
				       file && *file ? " " : "", file && *file ? file : "");
		for (size_t i = 0; u && i < G_N_ELEMENTS(all_keys); i++)
			any |= nm_setting_user_get_data(u, all_keys[i]) != NULL;
		if (any) {
			g_string_append(s, "[user]\n");
			for (size_t i = 0; i < G_N_ELEMENTS(all_keys); i++) {
				const char *v = nm_setting_user_get_data(u, all_keys[i]);

				if (v)
					g_string_append_printf(s, "%s=%s\n", all_keys[i], v);
			}
		} else {
			g_string_append(s, "# has no ifmirror.* lines any more: delete them\n");
		}
	}
	fputs(s->str, stdout);
	g_string_free(s, TRUE);
}

/* ---- the command ---- */

static void describe(struct ctx *c, GString *s)
{
	for (int i = 0; i < c->ndest; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", c->dests[i]);
}

int nmm_cmd_profile(int argc, char *argv[])
{
	struct opts o;
	struct ctx c = { 0 };
	NMConnection *conn = NULL;
	enum nmm_mode mode = NMM_MODE_DISPATCHER;
	enum obstacle ob = OK_NATIVE;
	char why[400] = "", added[16] = "";
	GString *dl = NULL;
	int ret = IFM_EXIT_RUNTIME;

	if (parse(argc, argv, &o) < 0) {
		opts_free(&o);
		return IFM_EXIT_USAGE;
	}
	c.o = &o;
	c.client = nmm_client_open();
	if (!c.client)
		goto out;
	c.rc = nmm_find_connection(c.client, o.conn);
	if (!c.rc)
		goto out;
	/* copies: the remote connection changes under us once NM signals an update */
	c.name = g_strdup(nm_connection_get_id(NM_CONNECTION(c.rc)));
	/* the dispatcher ignores ifmirror data of profiles users may edit */
	if (!o.remove && nm_connection_get_setting_connection(NM_CONNECTION(c.rc)) &&
	    nm_setting_connection_get_num_permissions(
		    nm_connection_get_setting_connection(NM_CONNECTION(c.rc))) > 0) {
		ifm_err("%s: the profile is private to users (connection.permissions), who may "
			"edit it: the dispatcher would ignore a mirror in it", c.name);
		goto out;
	}
	c.iface = g_strdup(nmm_connection_iface(c.client, c.rc));
	for (int i = 0; i < o.nto; i++) {
		if (c.iface && !strcmp(o.to[i], c.iface)) {
			ifm_err("%s: --to %s: that is the connection's own interface; a mirror "
				"needs another destination", c.name, o.to[i]);
			ret = IFM_EXIT_USAGE;
			goto out;
		}
	}
	if (nmm_config_read(&c.cur, nmm_user_lookup, NM_CONNECTION(c.rc), c.name, c.iface) < 0)
		ifm_err("%s: notice: the profile's ifmirror data has errors; it is replaced", c.name);

	/* the sessions wanted */
	for (int i = 0; i < c.cur.nto; i++)
		if (!o.remove || (o.nto && !nmm_listed(o.to, o.nto, c.cur.to[i])))
			c.dests[c.ndest++] = c.cur.to[i];
	if (!o.remove) {
		for (int i = 0; i < o.nto && c.ndest < NMM_MAX_DEST; i++)
			if (!nmm_listed(c.dests, c.ndest, o.to[i]))
				c.dests[c.ndest++] = o.to[i];
	}
	c.dir = o.dir ? o.dir : c.cur.dir ? c.cur.dir : IFM_DIR_BOTH;

	/*
	 * The profile without ifmirror's part: native mode's tc entries (the
	 * ones it recorded, or, in a profile without ifmirror data, the exact
	 * lines --print gave for these destinations) and the ifmirror.* keys.
	 */
	conn = nm_simple_connection_new_clone(NM_CONNECTION(c.rc));
	if (c.cur.mode == NMM_MODE_NATIVE)
		nmm_strip_native(conn, c.cur.to, c.cur.nto, c.cur.native_added);
	else if (!c.cur.any)
		nmm_strip_native(conn, o.to, o.nto, "");
	for (size_t i = 0; i < G_N_ELEMENTS(all_keys); i++)
		set_user(conn, all_keys[i], NULL);
	c.bare = conn;

	/* the mode */
	if (c.ndest) {
		if (o.remove) {
			mode = c.cur.mode;
		} else if (o.mode == NMM_MODE_DISPATCHER) {
			mode = NMM_MODE_DISPATCHER;
			snprintf(why, sizeof(why), "as asked");
		} else if (o.mode == NMM_MODE_AUTO) {
			/* a native mirror whose destination is missing at activation
			 * fails the source's whole activation: auto never risks it */
			mode = NMM_MODE_DISPATCHER;
			snprintf(why, sizeof(why), "auto never chooses native mode, with which "
				 "NetworkManager fails the connection's whole activation while the "
				 "destination is missing (--mode native asks for it)");
		} else {
			ob = nmm_native_obstacle(&c, why, sizeof(why));
			mode = NMM_MODE_NATIVE;
			if (ob == EXPRESS ||
			    (o.out == OUT_COMMIT && (ob == HOST || ob == MISSING))) {
				ifm_err("%s: native mode: %s%s", c.name, why,
					ob == EXPRESS ? "" : " (use --mode dispatcher here; "
					"--print and --keyfile make profiles for other hosts)");
				goto out;
			}
			if (ob != OK_NATIVE) {
				ifm_warn("%s: native mode: %s", c.name, why);
				snprintf(why, sizeof(why), "as asked, despite the warning");
			} else {
				snprintf(why, sizeof(why), "as asked");
			}
		}
	}

	/* the new profile */
	if (c.ndest) {
		dl = g_string_new(NULL);
		describe(&c, dl);
		if (mode == NMM_MODE_NATIVE) {
			char conflict[200];

			if (nmm_tc_conflict(conn, conflict, sizeof(conflict))) {
				ifm_err("%s: native mode: %s", c.name, conflict);
				goto out;
			}
			if (nmm_add_native(conn, c.dests[0], c.dir, added, sizeof(added)) < 0)
				goto out;
			set_user(conn, NMM_KEY_MODE, "native");
			set_user(conn, NMM_KEY_NATIVE, added);
		}
		set_user(conn, NMM_KEY_TO, dl->str);
		set_user(conn, NMM_KEY_DIRECTION, ifm_dir_name(c.dir));
		set_user(conn, NMM_KEY_MATCH, o.match);
		if (o.sample > 1) {
			char n[16];

			snprintf(n, sizeof(n), "%u", o.sample);
			set_user(conn, NMM_KEY_SAMPLE, n);
		} else {
			set_user(conn, NMM_KEY_SAMPLE, NULL);
		}
	}
	drop_empty_user(conn);

	if (c.ndest && !o.remove && !o.quiet) {
		/* a keyfile on standard output gets it to itself */
		FILE *info = o.out == OUT_KEYFILE && !strcmp(o.keyfile, "-") ? stderr : stdout;

		fprintf(info, "%s%s: %s mode: %s\n", o.out == OUT_PRINT ? "# " : "", c.name,
			nmm_mode_name(mode), why);
	}
	if (nm_connection_compare(conn, NM_CONNECTION(c.rc), NM_SETTING_COMPARE_FLAG_EXACT) &&
	    o.out != OUT_KEYFILE) {
		if (!o.quiet)
			printf("%s%s: unchanged\n", o.out == OUT_PRINT ? "# " : "", c.name);
		ret = IFM_EXIT_OK;
		goto out;
	}
	switch (o.out) {
	case OUT_PRINT:
		print_changes(&c, NM_CONNECTION(c.rc), conn);
		ret = IFM_EXIT_OK;
		break;
	case OUT_KEYFILE:
		if (nmm_keyfile_write(conn, o.keyfile, o.keyfile) < 0)
			goto out;
		if (!o.quiet && strcmp(o.keyfile, "-"))
			printf("%s: keyfile written to %s (NetworkManager loads it from "
			       "/etc/NetworkManager/system-connections/ with 'nmcli connection "
			       "load FILE')\n", c.name, o.keyfile);
		ret = IFM_EXIT_OK;
		break;
	case OUT_COMMIT: {
		NMDevice *dev = nmm_active_device(c.client, c.rc);
		bool tc_changed = !nmm_tc_equal(NM_CONNECTION(c.rc), conn);
		char *err = NULL;

		if (nmm_update(c.rc, conn, &err) < 0) {
			ifm_err("%s: NetworkManager refused the change: %s", c.name, err);
			g_free(err);
			goto out;
		}
		if (!o.quiet) {
			if (o.remove && !c.ndest)
				printf("%s: mirror removed from the profile\n", c.name);
			else
				printf("%s: mirror to %s (%s, %s mode) saved in the profile\n", c.name,
				       dl ? dl->str : "", ifm_dir_name(c.dir), nmm_mode_name(mode));
		}
		ret = IFM_EXIT_OK;
		if (!dev)
			break;
		if (tc_changed) {
			printf("%s: active on %s: NetworkManager applies tc settings only on "
			       "activation; to apply it now: nmcli connection up %s\n", c.name,
			       nm_device_get_iface(dev), nm_connection_get_uuid(conn));
		} else if (nmm_reapply_user(dev, conn, &err) < 0) {
			printf("%s: active on %s, but NetworkManager did not reapply it (%s); to apply "
			       "it now: nmcli connection up %s\n", c.name, nm_device_get_iface(dev),
			       err, nm_connection_get_uuid(conn));
			g_free(err);
		} else if (!o.quiet) {
			printf("%s: reapplied on %s (the dispatcher changes the mirror now)\n", c.name,
			       nm_device_get_iface(dev));
		}
		break;
	}
	}
out:
	if (dl)
		g_string_free(dl, TRUE);
	if (conn)
		g_object_unref(conn);
	nmm_config_free(&c.cur);
	g_free(c.name);
	g_free(c.iface);
	if (c.client)
		g_object_unref(c.client);
	opts_free(&o);
	return ret;
}
