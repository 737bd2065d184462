/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libnm helpers for ifmirror-nm: synchronous wrappers and look-ups. */
#ifndef IFMIRROR_NM_CLIENT_H
#define IFMIRROR_NM_CLIENT_H

#include <NetworkManager.h>

#include "ifmirror-nm.h"

/* NULL, with "ifmirror-nm: NetworkManager: not running ..." printed */
NMClient *nmm_client_open(void);
/* 0 when the daemon's version is at least major.minor */
bool nmm_nm_at_least(NMClient *c, unsigned int major, unsigned int minor);
/* by UUID, D-Bus path or id (an ambiguous id is an error); errors printed */
NMRemoteConnection *nmm_find_connection(NMClient *c, const char *name);
/* by id only, NULL when there is none (no error printed) */
NMRemoteConnection *nmm_find_by_id(NMClient *c, const char *id);
/* the device the connection is active on, or NULL */
NMDevice *nmm_active_device(NMClient *c, NMRemoteConnection *rc);
/* the interface the profile is bound to (interface-name, or its active device) */
const char *nmm_connection_iface(NMClient *c, NMRemoteConnection *rc);

/* synchronous, error text in *err (g_free it) */
int nmm_update(NMRemoteConnection *rc, NMConnection *conn, char **err);
int nmm_add(NMClient *c, NMConnection *conn, char **err);
int nmm_delete(NMRemoteConnection *rc, char **err);
/* Device.Reapply of the applied connection with the user setting of conn */
int nmm_reapply_user(NMDevice *dev, NMConnection *conn, char **err);

static inline NMSettingUser *nmm_setting_user(NMConnection *c)
{
	NMSetting *s = nm_connection_get_setting(c, NM_TYPE_SETTING_USER);

	return s ? NM_SETTING_USER(s) : NULL;
}

/* where profile and collector put what they made */
enum nmm_output { OUT_PRINT, OUT_KEYFILE, OUT_COMMIT };

/* conn as a keyfile at path ("-": standard output), mode 0600, written whole
 * or not at all; errors name what */
/* --print or --commit: sets *out and counts it (they exclude each other) */
bool nmm_output_flag(const char *arg, enum nmm_output *out, int *nout);
int nmm_keyfile_write(NMConnection *conn, const char *path, const char *what);

/* the value of a user data key of a connection (lookup function) */
const char *nmm_user_lookup(const char *key, void *conn);

/* 'single quoted' for a shell, into a GString */
void nmm_shell_quote(GString *s, const char *word);

#endif
