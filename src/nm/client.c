// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libnm, made synchronous: every call that changes something goes through
 * libnm's asynchronous API and a loop on the default main context until its
 * callback ran (the synchronous variants are deprecated and block D-Bus
 * signal processing).
 */
#include "client.h"

#include <stdio.h>
#include <string.h>

struct wait {
	bool done;
	GAsyncResult *res;
};

static void on_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct wait *w = data;

	(void)src;
	w->res = g_object_ref(res);
	w->done = true;
}

static GAsyncResult *wait_for(struct wait *w)
{
	while (!w->done)
		g_main_context_iteration(NULL, TRUE);
	return w->res;
}

static int fail(GError *e, char **err)
{
	if (err)
		*err = g_strdup(e ? e->message : "failed");
	g_clear_error(&e);
	return -1;
}

NMClient *nmm_client_open(void)
{
	GError *e = NULL;
	NMClient *c = nm_client_new(NULL, &e);

	if (!c) {
		ifm_err("NetworkManager: not running (cannot reach the system D-Bus: %s)",
			e ? e->message : "unknown error");
		g_clear_error(&e);
		return NULL;
	}
	if (!nm_client_get_nm_running(c)) {
		ifm_err("NetworkManager: not running (it is not on the system D-Bus)");
		g_object_unref(c);
		return NULL;
	}
	return c;
}

bool nmm_nm_at_least(NMClient *c, unsigned int major, unsigned int minor)
{
	const char *v = nm_client_get_version(c);
	unsigned int ma = 0, mi = 0;

	if (!v || sscanf(v, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

NMRemoteConnection *nmm_find_by_id(NMClient *c, const char *id)
{
	const GPtrArray *all = nm_client_get_connections(c);

	for (guint i = 0; i < all->len; i++) {
		NMRemoteConnection *rc = all->pdata[i];

		if (!g_strcmp0(nm_connection_get_id(NM_CONNECTION(rc)), id))
			return rc;
	}
	return NULL;
}

NMRemoteConnection *nmm_find_connection(NMClient *c, const char *name)
{
	const GPtrArray *all = nm_client_get_connections(c);
	NMRemoteConnection *found = NULL;
	int n = 0;

	for (guint i = 0; i < all->len; i++) {
		NMConnection *conn = all->pdata[i];

		if (!g_strcmp0(nm_connection_get_uuid(conn), name) ||
		    !g_strcmp0(nm_connection_get_path(conn), name))
			return NM_REMOTE_CONNECTION(conn);
	}
	for (guint i = 0; i < all->len; i++) {
		NMConnection *conn = all->pdata[i];

		if (!g_strcmp0(nm_connection_get_id(conn), name)) {
			found = NM_REMOTE_CONNECTION(conn);
			n++;
		}
	}
	if (n == 0) {
		ifm_err("%s: no such connection profile in NetworkManager", name);
		return NULL;
	}
	if (n > 1) {
		ifm_err("%s: %d connection profiles have this name; give the UUID", name, n);
		return NULL;
	}
	return found;
}

NMDevice *nmm_active_device(NMClient *c, NMRemoteConnection *rc)
{
	const GPtrArray *acs = nm_client_get_active_connections(c);
	const char *uuid = nm_connection_get_uuid(NM_CONNECTION(rc));

	for (guint i = 0; i < acs->len; i++) {
		NMActiveConnection *ac = acs->pdata[i];
		const GPtrArray *devs;

		if (g_strcmp0(nm_active_connection_get_uuid(ac), uuid))
			continue;
		devs = nm_active_connection_get_devices(ac);
		if (devs && devs->len)
			return devs->pdata[0];
	}
	return NULL;
}

const char *nmm_connection_iface(NMClient *c, NMRemoteConnection *rc)
{
	const char *ifname = nm_connection_get_interface_name(NM_CONNECTION(rc));
	NMDevice *dev;

	if (ifname && *ifname)
		return ifname;
	dev = nmm_active_device(c, rc);
	return dev ? nm_device_get_iface(dev) : NULL;
}

int nmm_update(NMRemoteConnection *rc, NMConnection *conn, char **err)
{
	struct wait w = { 0 };
	GError *e = NULL;
	GVariant *out;

	/* no storage flag: the profile stays where it is (on disk, or in memory) */
	nm_remote_connection_update2(rc, nm_connection_to_dbus(conn, NM_CONNECTION_SERIALIZE_ALL),
				     NM_SETTINGS_UPDATE2_FLAG_NONE, NULL, NULL, on_done, &w);
	out = nm_remote_connection_update2_finish(rc, wait_for(&w), &e);
	g_object_unref(w.res);
	if (!out)
		return fail(e, err);
	g_variant_unref(out);
	return 0;
}

int nmm_add(NMClient *c, NMConnection *conn, char **err)
{
	struct wait w = { 0 };
	GError *e = NULL;
	NMRemoteConnection *rc;

	nm_client_add_connection2(c, nm_connection_to_dbus(conn, NM_CONNECTION_SERIALIZE_ALL),
				  NM_SETTINGS_ADD_CONNECTION2_FLAG_TO_DISK, NULL, TRUE, NULL, on_done,
				  &w);
	rc = nm_client_add_connection2_finish(c, wait_for(&w), NULL, &e);
	g_object_unref(w.res);
	if (!rc)
		return fail(e, err);
	g_object_unref(rc);
	return 0;
}

int nmm_delete(NMRemoteConnection *rc, char **err)
{
	struct wait w = { 0 };
	GError *e = NULL;
	gboolean ok;

	nm_remote_connection_delete_async(rc, NULL, on_done, &w);
	ok = nm_remote_connection_delete_finish(rc, wait_for(&w), &e);
	g_object_unref(w.res);
	return ok ? 0 : fail(e, err);
}

int nmm_reapply_user(NMDevice *dev, NMConnection *conn, char **err)
{
	struct wait w = { 0 }, w2 = { 0 };
	GError *e = NULL;
	NMConnection *applied;
	NMSetting *user;
	guint64 version = 0;
	gboolean ok;

	nm_device_get_applied_connection_async(dev, 0, NULL, on_done, &w);
	applied = nm_device_get_applied_connection_finish(dev, wait_for(&w), &version, &e);
	g_object_unref(w.res);
	if (!applied)
		return fail(e, err);
	user = nm_connection_get_setting(conn, NM_TYPE_SETTING_USER);
	if (user)
		nm_connection_add_setting(applied, nm_setting_duplicate(user));
	else
		nm_connection_remove_setting(applied, NM_TYPE_SETTING_USER);
	nm_device_reapply_async(dev, applied, version, 0, NULL, on_done, &w2);
	ok = nm_device_reapply_finish(dev, wait_for(&w2), &e);
	g_object_unref(w2.res);
	g_object_unref(applied);
	return ok ? 0 : fail(e, err);
}

const char *nmm_user_lookup(const char *key, void *conn)
{
	NMSettingUser *u = nmm_setting_user(conn);

	return u ? nm_setting_user_get_data(u, key) : NULL;
}

void nmm_shell_quote(GString *s, const char *word)
{
	bool plain = *word != '\0';

	for (const char *p = word; *p && plain; p++)
		plain = g_ascii_isalnum(*p) || strchr("-_.:/@%+=,", *p);
	if (plain) {
		g_string_append(s, word);
		return;
	}
	g_string_append_c(s, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			g_string_append(s, "'\\''");
		else
			g_string_append_c(s, *p);
	}
	g_string_append_c(s, '\'');
}
