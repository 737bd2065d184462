// SPDX-License-Identifier: GPL-2.0-or-later
/* A connection profile as a keyfile: what --keyfile of profile and collector writes. */
#include "client.h"

#include <stdio.h>
#include <string.h>

bool nmm_output_flag(const char *arg, enum nmm_output *out, int *nout)
{
	if (strcmp(arg, "--print") && strcmp(arg, "--commit"))
		return false;
	*out = !strcmp(arg, "--print") ? OUT_PRINT : OUT_COMMIT;
	(*nout)++;
	return true;
}

int nmm_keyfile_write(NMConnection *conn, const char *path, const char *what)
{
	GError *e = NULL;
	GKeyFile *kf = nm_keyfile_write(conn, NM_KEYFILE_HANDLER_FLAGS_NONE, NULL, NULL, &e);
	gsize len = 0;
	char *data;
	int ret = 0;

	if (!kf) {
		ifm_err("%s: cannot make a keyfile: %s", what, e ? e->message : "?");
		g_clear_error(&e);
		return -1;
	}
	data = g_key_file_to_data(kf, &len, NULL);
	if (!strcmp(path, "-")) {
		fwrite(data, 1, len, stdout);
	} else if (!g_file_set_contents_full(path, data, (gssize)len,
					     G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e)) {
		/* NetworkManager ignores keyfiles that others may read or write */
		ifm_err("%s: %s", path, e ? e->message : "cannot write");
		g_clear_error(&e);
		ret = -1;
	}
	g_free(data);
	g_key_file_unref(kf);
	return ret;
}
