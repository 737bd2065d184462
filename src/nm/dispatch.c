// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror-nm dispatch IFACE ACTION
 *
 * The executor behind the NetworkManager dispatcher script (a shim that
 * execs it, in dispatcher.d and pre-down.d). NetworkManager runs it with the
 * interface and the action as arguments and describes the connection in the
 * environment (CONNECTION_UUID, CONNECTION_FILENAME, CONNECTION_DBUS_PATH,
 * DEVICE_IFACE, and from 1.46 on the user data as CONNECTION_USER_*).
 *
 * up, reapply  the profile's sessions (dispatcher mode): applied, or deferred
 *              while the destination does not exist; on reapply, sessions the
 *              profile no longer names are removed. A collector bridge is
 *              completed (sink, ports without learning). On up, always:
 *              refresh the interface (pending sessions that wait for it,
 *              sessions whose deleted destination had its name, a returning
 *              collector port) and set up a collector port NetworkManager
 *              attached.
 * pre-down,    the sessions the connection's up applied (recorded under
 * down         /run/ifmirror/nm), else the ones the profile names, are
 *              removed; after a collector bridge went down, the sink the
 *              dispatcher added is deleted.
 *
 * Anything else, and a profile without ifmirror data and nothing recorded,
 * returns at once. The exit status is always 0 (NetworkManager ignores it; a
 * mirror must never hurt an activation); errors go to standard error, one
 * line each.
 */
#include "ifmirror-nm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

enum action { A_UP, A_REAPPLY, A_PRE_DOWN, A_DOWN };

static const char *const keys[] = { NMM_KEY_TO,        NMM_KEY_DIRECTION, NMM_KEY_MATCH,
				    NMM_KEY_SAMPLE,    NMM_KEY_MODE,      NMM_KEY_NATIVE,
				    NMM_KEY_COLLECTOR, NMM_KEY_SINK,      NMM_KEY_SINKKIND };
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct values {
	char *v[NKEYS];
	const char *source;     /* where they were read */
	/* trust (ifmirror-nm(8), TRUST): what is known of the profile */
	bool perms_known;       /* its connection.permissions were read */
	bool private_;          /* ... and name users: a profile users may edit */
	bool file_known;        /* its file was looked at (or it has none) */
	char untrusted[300];    /* why it is not trusted, "" */
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *values_lookup(const char *key, void *arg)
{
	struct values *vals = arg;

	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i], key))
			return vals->v[i];
	return NULL;
}

static void values_free(struct values *vals)
{
	for (size_t i = 0; i < NKEYS; i++)
		g_free(vals->v[i]);
}

/* NetworkManager >= 1.46 passes the user data itself */
static bool from_env(struct values *vals)
{
	bool any = false;

	for (size_t i = 0; i < NKEYS; i++) {
		char name[128];
		const char *v;

		nmm_env_name(keys[i], name, sizeof(name));
		v = getenv(name);
		if (v) {
			vals->v[i] = g_strdup(v);
			any = true;
		}
	}
	if (any)
		vals->source = "environment";
	return any;
}

/* the file a profile is stored in: trusted (root's), else why not */
static void check_file(struct values *vals, const char *path)
{
	int fd;

	vals->file_known = true;
	if (!path || !*path)
		return; /* in memory only: NetworkManager's, judged by its permissions */
	fd = nmm_profile_file_open(path, vals->untrusted, sizeof(vals->untrusted));
	if (fd >= 0)
		close(fd);
}

/* a keyfile profile: its [user] group, and its permissions */
static bool from_keyfile(struct values *vals, const char *path, bool data)
{
	char why[300], buf[65536], *perms;
	GKeyFile *kf;
	ssize_t n;
	int fd;

	if (!path || !g_str_has_suffix(path, ".nmconnection"))
		return false;
	fd = nmm_profile_file_open(path, why, sizeof(why));
	if (fd < 0) {
		/* judged here; the data (to say whose it was) over D-Bus */
		vals->file_known = true;
		snprintf(vals->untrusted, sizeof(vals->untrusted), "%s", why);
		return false;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	vals->file_known = true;
	if (n < 0 || n == (ssize_t)sizeof(buf) - 1)
		return false;
	buf[n] = '\0';
	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, buf, (gsize)n, G_KEY_FILE_NONE, NULL)) {
		g_key_file_unref(kf);
		return false;
	}
	perms = g_key_file_get_string(kf, "connection", "permissions", NULL);
	vals->perms_known = true;
	vals->private_ = perms && *perms && strspn(perms, "; \t") != strlen(perms);
	g_free(perms);
	for (size_t i = 0; data && i < NKEYS; i++)
		vals->v[i] = g_key_file_get_string(kf, "user", keys[i], NULL);
	g_key_file_unref(kf);
	if (data)
		vals->source = "keyfile";
	return true;
}

/* any other profile: its settings over D-Bus */
static bool from_dbus(struct values *vals, const char *path, const char *uuid, bool complain,
		      bool want_data)
{
	GDBusConnection *bus;
	GVariant *r = NULL, *settings = NULL, *user = NULL, *data = NULL, *con = NULL, *perms;
	GError *e = NULL;
	char *obj = NULL;
	bool ok = false;

	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &e);
	if (!bus)
		goto out;
	if (path) {
		obj = g_strdup(path);
	} else {
		r = g_dbus_connection_call_sync(bus, "org.freedesktop.NetworkManager",
						"/org/freedesktop/NetworkManager/Settings",
						"org.freedesktop.NetworkManager.Settings",
						"GetConnectionByUuid", g_variant_new("(s)", uuid),
						G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 10000,
						NULL, &e);
		if (!r)
			goto out;
		g_variant_get(r, "(o)", &obj);
		g_variant_unref(r);
	}
	r = g_dbus_connection_call_sync(bus, "org.freedesktop.NetworkManager", obj,
					"org.freedesktop.NetworkManager.Settings.Connection",
					"GetSettings", NULL, G_VARIANT_TYPE("(a{sa{sv}})"),
					G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &e);
	if (!r)
		goto out;
	ok = true;
	settings = g_variant_get_child_value(r, 0);
	con = g_variant_lookup_value(settings, "connection", G_VARIANT_TYPE("a{sv}"));
	perms = con ? g_variant_lookup_value(con, "permissions", G_VARIANT_TYPE("as")) : NULL;
	vals->perms_known = true;
	vals->private_ = perms && g_variant_n_children(perms) > 0;
	if (perms)
		g_variant_unref(perms);
	if (!vals->file_known) {
		GVariant *fr = g_dbus_connection_call_sync(
			bus, "org.freedesktop.NetworkManager", obj, "org.freedesktop.DBus.Properties",
			"Get", g_variant_new("(ss)", "org.freedesktop.NetworkManager.Settings.Connection",
					     "Filename"), G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE,
			10000, NULL, NULL);
		GVariant *fv = NULL;

		if (fr)
			g_variant_get(fr, "(v)", &fv);
		if (fv && g_variant_is_of_type(fv, G_VARIANT_TYPE_STRING))
			check_file(vals, g_variant_get_string(fv, NULL));
		else
			snprintf(vals->untrusted, sizeof(vals->untrusted),
				 "NetworkManager did not say where it is stored");
		if (fv)
			g_variant_unref(fv);
		if (fr)
			g_variant_unref(fr);
	}
	if (!want_data)
		goto out;
	vals->source = "D-Bus";
	user = g_variant_lookup_value(settings, "user", G_VARIANT_TYPE("a{sv}"));
	if (user)
		data = g_variant_lookup_value(user, "data", G_VARIANT_TYPE("a{ss}"));
	for (size_t i = 0; data && i < NKEYS; i++) {
		const char *v;

		if (g_variant_lookup(data, keys[i], "&s", &v))
			vals->v[i] = g_strdup(v);
	}
out:
	if (e) {
		/* on down the profile may be gone (deleted, or generated for an
		 * external device): what up applied is in the record */
		char *remote = g_dbus_error_get_remote_error(e);

		/* deleted meanwhile: nothing to apply */
		if (remote && (strstr(remote, "InvalidConnection") || strstr(remote, "UnknownMethod") ||
			       strstr(remote, "UnknownObject")))
			complain = false;
		g_free(remote);
		if (complain)
			ifm_err("%s: cannot read the profile from NetworkManager: %s",
				uuid ? uuid : obj, e->message);
		g_clear_error(&e);
	}
	if (data)
		g_variant_unref(data);
	if (con)
		g_variant_unref(con);
	if (user)
		g_variant_unref(user);
	if (settings)
		g_variant_unref(settings);
	if (r)
		g_variant_unref(r);
	g_free(obj);
	if (bus)
		g_object_unref(bus);
	return ok;
}

/* why root must not act on the profile's ifmirror data, or NULL (it has none,
 * or it is trusted): see ifmirror-nm(8), TRUST */
static const char *untrusted(const struct values *vals)
{
	bool any = false;

	for (size_t i = 0; i < NKEYS; i++)
		any |= vals->v[i] != NULL;
	if (!any)
		return NULL;
	if (vals->untrusted[0])
		return vals->untrusted;
	if (!vals->perms_known)
		return "cannot read its connection.permissions";
	if (vals->private_)
		return "it is private to users (connection.permissions), who may edit it";
	return NULL;
}

static bool recorded(const struct nmm_record *r, const char *dest)
{
	for (int i = 0; i < r->ndest; i++)
		if (!strcmp(r->dest[i], dest))
			return true;
	return false;
}

/* a collector port or sink that NetworkManager attached: no learning, flooding, quiet */
static void collector_port(struct ifm_nl *nl, const char *iface)
{
	struct ifm_link l, br;
	bool is_sink;

	if (ifm_link_get(nl, iface, &l) < 0 || !l.master || ifm_link_by_index(nl, l.master, &br) < 0)
		return;
	if (!ifm_is_collector(&br))
		return;
	is_sink = ifm_collector_sink_is(&br, iface);
	if (!is_sink && !ifm_collector_has_port(&br, iface))
		return;
	if (is_sink && !ifm_is_sink(&l)) {
		char alias[64];

		ifm_sink_mark(br.name, alias, sizeof(alias));
		ifm_link_set_alias(nl, l.ifindex, alias);
	}
	if (ifm_port_attach(nl, &l, br.ifindex) < 0)
		ifm_err("%s: cannot set up %s as a collector port", br.name, iface);
}

/* The bridge NetworkManager made becomes an ifmirror collector. */
static void collector_up(struct ifm_nl *nl, const char *iface, const struct nmm_config *c,
			 struct nmm_record *rec)
{
	struct ifm_collector_spec spec = { .bridge = iface, .nports = c->nports };
	struct ifm_link br, sink;
	char alias[IFM_ALIAS_MAX], sname[IFM_IFNAMSIZ];
	bool nm_sink = !strcmp(c->sinkkind, "profile");

	if (ifm_link_get(nl, iface, &br) < 0 || !br.is_bridge) {
		ifm_err("%s: %s names ports, but %s is not a bridge", iface, NMM_KEY_COLLECTOR, iface);
		return;
	}
	if (c->sink[0])
		snprintf(sname, sizeof(sname), "%s", c->sink);
	else
		ifm_sink_default_name(iface, sname);
	spec.sink = sname;
	for (int i = 0; i < c->nports; i++)
		spec.ports[i] = c->ports[i];
	if (ifm_collector_mark_format(sname, spec.ports, c->nports, alias, sizeof(alias)) < 0) {
		ifm_err("%s: %s: the names of its ports are too long together to be recorded in "
			"the bridge's alias (%d bytes at most)", iface, NMM_KEY_COLLECTOR,
			IFM_ALIAS_MAX - 1);
		return;
	}
	if (strcmp(br.alias, alias) && ifm_link_set_alias(nl, br.ifindex, alias) < 0) {
		ifm_err("%s: cannot mark the bridge as a collector", iface);
		return;
	}
	if (ifm_link_get(nl, sname, &sink) == 0) {
		if (!ifm_is_sink(&sink)) {
			ifm_sink_mark(iface, alias, sizeof(alias));
			ifm_link_set_alias(nl, sink.ifindex, alias);
		}
	} else if (nm_sink) {
		/* NetworkManager activates the sink's dummy profile after the bridge */
		ifm_link_quiet_up(nl, &br);
		for (int i = 0; i < c->nports; i++)
			collector_port(nl, c->ports[i]);
		ifm_refresh(nl, iface);
		return;
	}
	if (ifm_collector_up(nl, &spec) == 0 && !nm_sink)
		snprintf(rec->bridge_sink, sizeof(rec->bridge_sink), "%s", sname);
}

static void collector_down(struct ifm_nl *nl, const char *iface, const char *sname)
{
	struct ifm_link sink, br;

	if (!sname[0] || ifm_link_get(nl, sname, &sink) < 0 || !ifm_is_sink_of(&sink, iface))
		return;
	if (ifm_link_get(nl, iface, &br) == 0 && sink.master == br.ifindex)
		return; /* the bridge is still there: leave its sink */
	if (ifm_link_delete(nl, sink.ifindex) == 0)
		printf("%s: sink %s deleted\n", iface, sname);
}

int nmm_cmd_dispatch(int argc, char *argv[])
{
	static const char *const names[] = { "up", "reapply", "pre-down", "down" };
	struct values vals = { 0 };
	struct nmm_config c;
	struct nmm_record rec, newrec = { 0 };
	const char *iface, *uuid = env("CONNECTION_UUID"), *problem, *why;
	const char *file = env("CONNECTION_FILENAME"), *dbus = env("CONNECTION_DBUS_PATH");
	enum ifm_dir dir;
	struct ifm_nl nl;
	bool have_rec, any;
	int act = -1, lock;

	if (argc != 3) {
		ifm_err("dispatch: expected IFACE ACTION (run by NetworkManager's dispatcher)");
		return IFM_EXIT_USAGE;
	}
	for (int i = 0; i < 4; i++)
		if (!strcmp(argv[2], names[i]))
			act = i;
	if (act < 0)
		return IFM_EXIT_OK; /* dhcp4-change, hostname, connectivity-change, vpn-*, ... */
	iface = env("DEVICE_IFACE");
	if (!iface)
		iface = argv[1];
	if (!iface || !*iface || !strcmp(iface, "none") || ifm_ifname_problem(iface))
		return IFM_EXIT_OK;

	/* NetworkManager's in-memory profiles of devices it does not manage have no user data */
	if (from_env(&vals)) {
		/* the data came with the profile: its permissions and file still decide */
		if (!from_keyfile(&vals, file, false) && !vals.untrusted[0]) {
			if (file && !vals.file_known)
				check_file(&vals, file);
			if (!vals.untrusted[0] && (uuid || dbus))
				from_dbus(&vals, dbus, uuid, act <= A_REAPPLY, false);
		}
	} else if (!env("CONNECTION_EXTERNAL") && !from_keyfile(&vals, file, true)) {
		if (file && !vals.file_known)
			check_file(&vals, file);
		if (uuid || dbus)
			from_dbus(&vals, dbus, uuid, act <= A_REAPPLY, true);
	}
	if ((why = untrusted(&vals))) {
		ifm_err("%s: profile '%s': its ifmirror data is ignored: %s", iface,
			env("CONNECTION_ID") ? env("CONNECTION_ID") : uuid ? uuid : "?", why);
		values_free(&vals);
		memset(&vals, 0, sizeof(vals));
	}
	if (nmm_config_read(&c, values_lookup, &vals, iface, iface) < 0 && act <= A_REAPPLY) {
		ifm_err("%s: the profile's ifmirror data has errors: no mirror applied", iface);
		c.nto = 0;
		c.nports = 0;
	}
	have_rec = nmm_record_read(uuid, &rec);
	any = c.nto || c.nports || have_rec;
	if (!any && act != A_UP) {
		nmm_config_free(&c);
		values_free(&vals);
		return IFM_EXIT_OK;
	}
	dir = c.dir ? c.dir : IFM_DIR_BOTH;

	/* the profile's match was compiled by nmm_config_read, before the lock */
	if (act == A_UP)
		ifm_refresh_prepare(iface);
	lock = ifm_begin(&nl);
	if (lock < 0)
		goto out;
	snprintf(newrec.iface, sizeof(newrec.iface), "%s", iface);
	switch (act) {
	case A_UP:
	case A_REAPPLY:
		if (c.mode == NMM_MODE_NATIVE)
			c.nto = 0; /* NetworkManager's own tc setting carries them */
		/* what an earlier up applied and the profile no longer names */
		for (int i = 0; have_rec && i < rec.ndest; i++) {
			bool keep = false;

			for (int j = 0; j < c.nto; j++)
				keep |= !strcmp(c.to[j], rec.dest[i]);
			if (!keep || strcmp(rec.iface, iface)) {
				ifm_mirror_down_hook(&nl, rec.iface, rec.dest[i]);
				ifm_pending_del(rec.iface, rec.dest[i]);
			}
		}
		for (int i = 0; i < c.nto; i++) {
			struct ifm_session_spec sp = { .source = iface, .dest = c.to[i], .dir = dir,
						       .match = c.match, .sample = c.sample };
			struct ifm_link l;

			snprintf(newrec.dest[newrec.ndest++], IFM_IFNAMSIZ, "%s", c.to[i]);
			if (ifm_link_get(&nl, c.to[i], &l) == -ENODEV) {
				if (ifm_pending_add_spec(&sp) == 0)
					printf("%s: %s mirror to %s deferred until %s exists\n", iface,
					       ifm_dir_name(dir), c.to[i], c.to[i]);
				continue;
			}
			ifm_mirror_up_spec(&nl, &sp);
		}
		if (c.nports)
			collector_up(&nl, iface, &c, &newrec);
		else if (have_rec && rec.bridge_sink[0])
			snprintf(newrec.bridge_sink, sizeof(newrec.bridge_sink), "%s", rec.bridge_sink);
		if (act == A_UP) {
			ifm_refresh(&nl, iface);
			collector_port(&nl, iface);
		}
		if (uuid)
			nmm_record_write(uuid, &newrec);
		break;
	case A_PRE_DOWN:
	case A_DOWN:
		if (have_rec && !strcmp(rec.iface, iface)) {
			for (int i = 0; i < rec.ndest; i++) {
				ifm_mirror_down_hook(&nl, iface, rec.dest[i]);
				ifm_pending_del(iface, rec.dest[i]);
			}
		}
		/* without a record (its up ran before the dispatcher script was there) */
		for (int i = 0; c.mode != NMM_MODE_NATIVE && i < c.nto; i++) {
			bool was;

			if (have_rec && recorded(&rec, c.to[i]))
				continue;
			if ((problem = ifm_ifname_problem(c.to[i])))
				continue;
			was = ifm_quiet_set(true);
			ifm_mirror_down_hook(&nl, iface, c.to[i]);
			ifm_quiet_set(was);
			ifm_pending_del(iface, c.to[i]);
		}
		if (act == A_DOWN) {
			collector_down(&nl, iface, have_rec ? rec.bridge_sink : "");
			if (uuid)
				nmm_record_delete(uuid);
		} else if (uuid && have_rec) {
			/* the sessions are gone; the sink goes after the bridge, on down */
			rec.ndest = 0;
			nmm_record_write(uuid, &rec);
		}
		break;
	}
	ifm_end(&nl, lock);
out:
	nmm_config_free(&c);
	values_free(&vals);
	fflush(stdout);
	return IFM_EXIT_OK;
}
