// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror-nm collector BRIDGE --port IFACE [--port IFACE]... [--sink NAME]
 *                       [--print | --keyfile DIR | --commit] [--remove] [-q]
 *
 * NetworkManager profiles for a failover collector bridge (see
 * `ifmirror collector`):
 *   BRIDGE            bridge, no STP, no multicast snooping, no IPv4/IPv6,
 *                     its ports activated with it; user data
 *                     ifmirror.collector (the ports) and ifmirror.sink
 *   BRIDGE-port-IFACE each port: ethernet, port of BRIDGE
 *   NAME              the always-up sink: a dummy profile, where the kernel
 *                     has dummy devices. Where it has none, NetworkManager
 *                     cannot make one, and the dispatcher adds an ifb device
 *                     as the sink when the bridge comes up (ifmirror.sinkkind
 *                     says which).
 * What NetworkManager has no setting for (learning off and flooding on the
 * ports, no ARP) the dispatcher does when the bridge and its ports come up.
 */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct copts {
	const char *bridge, *sink;
	const char *ports[NMM_MAX_PORTS];
	int nports;
	enum nmm_output out;
	const char *dir;
	bool remove, quiet;
	char sink_buf[IFM_IFNAMSIZ];
};

static int parse(int argc, char *argv[], struct copts *o)
{
	const char *problem;
	int nout = 0;

	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--port") || !strcmp(a, "--sink") || !strcmp(a, "--keyfile")) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				ifm_err("collector: %s needs a value", a);
				return -1;
			}
			if (!strcmp(a, "--keyfile")) {
				o->out = OUT_KEYFILE;
				o->dir = argv[++i];
				nout++;
				continue;
			}
			if ((problem = ifm_ifname_problem(argv[i + 1]))) {
				ifm_err("collector: %s '%.40s': %s", a, argv[i + 1], problem);
				return -1;
			}
			if (!strcmp(a, "--sink")) {
				o->sink = argv[++i];
			} else if (o->nports == NMM_MAX_PORTS) {
				ifm_err("collector: at most %d ports", NMM_MAX_PORTS);
				return -1;
			} else {
				o->ports[o->nports++] = argv[++i];
			}
		} else if (nmm_output_flag(a, &o->out, &nout)) {
			continue;
		} else if (!strcmp(a, "--remove")) {
			o->remove = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (a[0] == '-' && a[1]) {
			ifm_err("collector: unknown option '%.40s' (see %s --help)", a, ifm_report_prog());
			return -1;
		} else if (o->bridge) {
			ifm_err("collector: unexpected argument '%.40s'", a);
			return -1;
		} else {
			o->bridge = a;
		}
	}
	if (!o->bridge) {
		ifm_err("collector: needs a BRIDGE name");
		return -1;
	}
	if ((problem = ifm_ifname_problem(o->bridge))) {
		ifm_err("collector: '%.40s': %s", o->bridge, problem);
		return -1;
	}
	if (nout > 1) {
		ifm_err("collector: --print, --keyfile and --commit exclude each other");
		return -1;
	}
	if (o->remove && o->out == OUT_KEYFILE) {
		ifm_err("collector: --remove deletes profiles: --print or --commit, not --keyfile");
		return -1;
	}
	if (!o->nports && !o->remove) {
		ifm_err("collector: needs --port IFACE");
		return -1;
	}
	if (!o->sink) {
		ifm_sink_default_name(o->bridge, o->sink_buf);
		o->sink = o->sink_buf;
	}
	for (int i = 0; i < o->nports; i++) {
		if (!strcmp(o->ports[i], o->bridge) || !strcmp(o->ports[i], o->sink)) {
			ifm_err("collector: %s: a port cannot be the bridge or its sink", o->ports[i]);
			return -1;
		}
	}
	if (!strcmp(o->sink, o->bridge)) {
		ifm_err("collector: %s: the sink cannot be the bridge itself", o->sink);
		return -1;
	}
	return 0;
}

static NMConnection *base(const char *id, const char *type, const char *ifname,
			  const char *master)
{
	NMConnection *c = nm_simple_connection_new();
	NMSetting *s = nm_setting_connection_new();
	char *uuid = nm_utils_uuid_generate();

	g_object_set(s, NM_SETTING_CONNECTION_ID, id, NM_SETTING_CONNECTION_UUID, uuid,
		     NM_SETTING_CONNECTION_TYPE, type, NM_SETTING_CONNECTION_INTERFACE_NAME, ifname,
		     NM_SETTING_CONNECTION_AUTOCONNECT, TRUE, NULL);
	if (master)
		g_object_set(s, NM_SETTING_CONNECTION_MASTER, master,
			     NM_SETTING_CONNECTION_SLAVE_TYPE, NM_SETTING_BRIDGE_SETTING_NAME, NULL);
	nm_connection_add_setting(c, s);
	g_free(uuid);
	return c;
}

static void no_ip(NMConnection *c)
{
	NMSetting *s4 = nm_setting_ip4_config_new(), *s6 = nm_setting_ip6_config_new();

	g_object_set(s4, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP4_CONFIG_METHOD_DISABLED, NULL);
	g_object_set(s6, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP6_CONFIG_METHOD_DISABLED, NULL);
	nm_connection_add_setting(c, s4);
	nm_connection_add_setting(c, s6);
}

struct profile {
	NMConnection *conn;
	const char *what;       /* "bridge", "port", "sink" */
	char id[64];
	NMRemoteConnection *existing;
};

static int build(const struct copts *o, bool dummy, struct profile *p, int *n)
{
	NMConnection *c;
	NMSetting *s;
	NMSettingUser *u;
	GString *ports = g_string_new(NULL);
	GError *e = NULL;

	*n = 0;
	c = base(o->bridge, NM_SETTING_BRIDGE_SETTING_NAME, o->bridge, NULL);
	g_object_set(nm_connection_get_setting_connection(c),
		     NM_SETTING_CONNECTION_AUTOCONNECT_SLAVES, NM_SETTING_CONNECTION_AUTOCONNECT_SLAVES_YES,
		     NULL);
	s = nm_setting_bridge_new();
	g_object_set(s, NM_SETTING_BRIDGE_STP, FALSE, NM_SETTING_BRIDGE_MULTICAST_SNOOPING, FALSE,
		     NULL);
	nm_connection_add_setting(c, s);
	no_ip(c);
	for (int i = 0; i < o->nports; i++)
		g_string_append_printf(ports, "%s%s", i ? " " : "", o->ports[i]);
	u = NM_SETTING_USER(nm_setting_user_new());
	nm_setting_user_set_data(u, NMM_KEY_COLLECTOR, ports->str, NULL);
	nm_setting_user_set_data(u, NMM_KEY_SINK, o->sink, NULL);
	nm_setting_user_set_data(u, NMM_KEY_SINKKIND, dummy ? "profile" : "ifmirror", NULL);
	nm_connection_add_setting(c, NM_SETTING(u));
	g_string_free(ports, TRUE);
	p[*n] = (struct profile){ .conn = c, .what = "bridge" };
	snprintf(p[(*n)++].id, sizeof(p->id), "%s", o->bridge);

	for (int i = 0; i < o->nports; i++) {
		char id[64];

		snprintf(id, sizeof(id), "%s-port-%s", o->bridge, o->ports[i]);
		c = base(id, NM_SETTING_WIRED_SETTING_NAME, o->ports[i], o->bridge);
		nm_connection_add_setting(c, nm_setting_wired_new());
		p[*n] = (struct profile){ .conn = c, .what = "port" };
		snprintf(p[(*n)++].id, sizeof(p->id), "%s", id);
	}
	if (dummy) {
		c = base(o->sink, NM_SETTING_DUMMY_SETTING_NAME, o->sink, o->bridge);
		nm_connection_add_setting(c, nm_setting_dummy_new());
		p[*n] = (struct profile){ .conn = c, .what = "sink" };
		snprintf(p[(*n)++].id, sizeof(p->id), "%s", o->sink);
	}
	for (int i = 0; i < *n; i++) {
		if (!nm_connection_normalize(p[i].conn, NULL, NULL, &e)) {
			ifm_err("%s: cannot build the %s profile: %s", p[i].id, p[i].what,
				e ? e->message : "?");
			g_clear_error(&e);
			return -1;
		}
	}
	return 0;
}

/*
 * An existing profile of this collector, as ifmirror-nm makes it: the bridge
 * with our data; a port of it named BRIDGE-port-IFACE for its interface
 * IFACE; the sink, a dummy profile named for the sink, a port of it. Another
 * profile that is a port of the bridge is the user's own.
 */
static bool ours(NMConnection *c, const char *what, const char *bridge, const char *sink)
{
	NMSettingConnection *s = nm_connection_get_setting_connection(c);
	const char *id = nm_connection_get_id(c), *ifname = nm_connection_get_interface_name(c);
	char want[64];

	if (!strcmp(what, "bridge"))
		return nmm_user_lookup(NMM_KEY_COLLECTOR, c) != NULL;
	if (!s || g_strcmp0(nm_setting_connection_get_master(s), bridge) || !id || !ifname)
		return false;
	if (!strcmp(what, "sink"))
		return nm_connection_is_type(c, NM_SETTING_DUMMY_SETTING_NAME) && !strcmp(id, sink) &&
		       !strcmp(ifname, sink);
	snprintf(want, sizeof(want), "%s-port-%s", bridge, ifname);
	return nm_connection_is_type(c, NM_SETTING_WIRED_SETTING_NAME) && !strcmp(id, want);
}

static bool private_profile(NMConnection *c)
{
	NMSettingConnection *s = nm_connection_get_setting_connection(c);

	return s && nm_setting_connection_get_num_permissions(s) > 0;
}

static void print_add(const struct profile *p)
{
	NMConnection *c = p->conn;
	NMSettingConnection *s = nm_connection_get_setting_connection(c);
	GString *out = g_string_new("nmcli connection add type ");
	NMSettingUser *u = nmm_setting_user(c);

	g_string_append_printf(out, "%s con-name ",
			       nm_connection_is_type(c, NM_SETTING_WIRED_SETTING_NAME)
				       ? "ethernet" : nm_connection_get_connection_type(c));
	nmm_shell_quote(out, p->id);
	g_string_append(out, " ifname ");
	nmm_shell_quote(out, nm_connection_get_interface_name(c));
	if (nm_setting_connection_get_master(s)) {
		g_string_append(out, " master ");
		nmm_shell_quote(out, nm_setting_connection_get_master(s));
		g_string_append(out, " slave-type bridge");
	} else {
		g_string_append(out, " connection.autoconnect-slaves yes bridge.stp no "
			       "bridge.multicast-snooping no ipv4.method disabled ipv6.method disabled");
	}
	g_string_append(out, " autoconnect yes\n");
	if (u) {
		guint n = 0;
		const char *const *keys = nm_setting_user_get_keys(u, &n);

		g_string_append_printf(out, "# nmcli cannot set user data: add to the [user] group "
				       "of %s's keyfile, then 'nmcli connection reload'\n[user]\n",
				       p->id);
		for (guint i = 0; i < n; i++)
			g_string_append_printf(out, "%s=%s\n", keys[i],
					       nm_setting_user_get_data(u, keys[i]));
	}
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
}

static int write_keyfile(const char *dir, const struct profile *p)
{
	char *path = g_strdup_printf("%s/%s.nmconnection", dir, p->id);
	int r = nmm_keyfile_write(p->conn, path, p->id);

	g_free(path);
	return r;
}

int nmm_cmd_collector(int argc, char *argv[])
{
	struct copts o;
	struct profile p[NMM_MAX_PORTS + 2];
	struct nmm_kernel k;
	NMClient *client = NULL;
	int n = 0, ret = IFM_EXIT_RUNTIME;
	bool dummy;

	if (parse(argc, argv, &o) < 0)
		return IFM_EXIT_USAGE;
	if (o.out == OUT_KEYFILE && !g_file_test(o.dir, G_FILE_TEST_IS_DIR)) {
		ifm_err("%s: not a directory (collector --keyfile writes one keyfile per profile "
			"there)", o.dir);
		return IFM_EXIT_USAGE;
	}
	if (o.out == OUT_COMMIT || o.remove || o.out == OUT_PRINT) {
		client = nmm_client_open();
		if (!client)
			return IFM_EXIT_RUNTIME;
	}
	nmm_probe_kernel(&k);
	dummy = k.probed ? k.dummy : true;
	if (!o.remove && build(&o, dummy, p, &n) < 0)
		goto out;
	if (o.remove) {
		/* the profiles ifmirror-nm made: the bridge, its ports, the sink
		 * (the one the bridge's data names); a user's own port profile of
		 * the bridge, or one private to users, is left alone */
		const GPtrArray *all = nm_client_get_connections(client);
		const char *sink = o.sink;

		for (guint i = 0; i < all->len; i++) {
			NMConnection *c = all->pdata[i];

			if (!g_strcmp0(nm_connection_get_id(c), o.bridge) &&
			    ours(c, "bridge", o.bridge, NULL) && nmm_user_lookup(NMM_KEY_SINK, c))
				sink = nmm_user_lookup(NMM_KEY_SINK, c);
		}
		for (guint i = 0; i < all->len && n < NMM_MAX_PORTS + 2; i++) {
			NMConnection *c = all->pdata[i];
			const char *id = nm_connection_get_id(c);

			if (private_profile(c)) {
				if (!g_strcmp0(id, o.bridge) || ours(c, "port", o.bridge, sink) ||
				    ours(c, "sink", o.bridge, sink))
					ifm_notice("%s: private to users (connection.permissions); "
						   "not deleting it", id);
				continue;
			}
			if (!g_strcmp0(id, o.bridge) && ours(c, "bridge", o.bridge, NULL))
				p[n] = (struct profile){ .what = "bridge" };
			else if (ours(c, "port", o.bridge, sink))
				p[n] = (struct profile){ .what = "port" };
			else if (ours(c, "sink", o.bridge, sink))
				p[n] = (struct profile){ .what = "sink" };
			else
				continue;
			p[n].existing = NM_REMOTE_CONNECTION(c);
			snprintf(p[n++].id, sizeof(p->id), "%s", id);
		}
		if (!n && !o.quiet)
			printf("%s: no collector profiles to remove\n", o.bridge);
	} else if (client) {
		for (int i = 0; i < n; i++) {
			NMRemoteConnection *rc = nmm_find_by_id(client, p[i].id);

			if (rc && !ours(NM_CONNECTION(rc), p[i].what, o.bridge, o.sink)) {
				ifm_err("%s: a profile of this name exists and is not this collector's "
					"%s; not touching it", p[i].id, p[i].what);
				goto out;
			}
			if (rc && private_profile(NM_CONNECTION(rc))) {
				ifm_err("%s: the profile is private to users (connection.permissions), "
					"who may edit it: the dispatcher would ignore a collector in "
					"it; not touching it", p[i].id);
				goto out;
			}
			p[i].existing = rc;
		}
	}
	if (!o.remove && !o.quiet)
		printf("%s%s: the sink %s is %s\n", o.out == OUT_PRINT ? "# " : "", o.bridge, o.sink,
		       dummy ? "a dummy profile"
			     : "an ifb device the dispatcher adds when the bridge comes up (the "
			       "kernel has no dummy devices, which NetworkManager needs for a "
			       "dummy profile)");

	for (int i = 0; i < n; i++) {
		char *err = NULL;
		int r = 0;

		switch (o.out) {
		case OUT_PRINT:
			if (o.remove) {
				printf("nmcli connection delete %s\n",
				       nm_connection_get_uuid(NM_CONNECTION(p[i].existing)));
			} else if (p[i].existing) {
				printf("# %s exists; it becomes:\n", p[i].id);
				printf("nmcli connection delete %s\n",
				       nm_connection_get_uuid(NM_CONNECTION(p[i].existing)));
				print_add(&p[i]);
			} else {
				print_add(&p[i]);
			}
			break;
		case OUT_KEYFILE:
			r = o.remove ? 0 : write_keyfile(o.dir, &p[i]);
			if (!r && !o.quiet && !o.remove)
				printf("%s: %s profile written to %s/%s.nmconnection\n", p[i].id,
				       p[i].what, o.dir, p[i].id);
			break;
		case OUT_COMMIT:
			if (o.remove) {
				r = nmm_delete(p[i].existing, &err);
			} else if (p[i].existing) {
				/* keep its UUID: the same profile, changed */
				g_object_set(nm_connection_get_setting_connection(p[i].conn),
					     NM_SETTING_CONNECTION_UUID,
					     nm_connection_get_uuid(NM_CONNECTION(p[i].existing)), NULL);
				r = nmm_update(p[i].existing, p[i].conn, &err);
			} else {
				r = nmm_add(client, p[i].conn, &err);
			}
			if (r < 0) {
				ifm_err("%s: NetworkManager refused the %s profile: %s", p[i].id,
					p[i].what, err);
				g_free(err);
			} else if (!o.quiet) {
				printf("%s: %s profile %s\n", p[i].id, p[i].what,
				       o.remove ? "deleted" : p[i].existing ? "updated" : "added");
			}
			break;
		}
		if (r < 0)
			goto out;
	}
	if (o.out == OUT_COMMIT && !o.remove && !o.quiet)
		printf("%s: activate it with: nmcli connection up %s\n", o.bridge, o.bridge);
	ret = IFM_EXIT_OK;
out:
	if (!o.remove)
		for (int i = 0; i < n; i++)
			g_object_unref(p[i].conn);
	if (client)
		g_object_unref(client);
	return ret;
}
