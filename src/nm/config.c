// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ifmirror.* user data of a connection profile, and the record of what a
 * connection's dispatcher run applied.
 *
 * The record (/run/ifmirror/nm/UUID) is what makes `down` reliable: the
 * profile may have lost its user data while the connection was active
 * (`ifmirror-nm profile --remove --commit`, a hand-edited keyfile, a deleted
 * profile), and NetworkManager 1.42 passes dispatcher scripts no user data at
 * all, so `down` removes what `up` applied, whatever the profile says now.
 */
#include "ifmirror-nm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *nmm_mode_name(enum nmm_mode m)
{
	static const char *const names[] = {
		[NMM_MODE_AUTO] = "auto",
		[NMM_MODE_DISPATCHER] = "dispatcher",
		[NMM_MODE_NATIVE] = "native",
	};

	return (unsigned int)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

int nmm_split_names(const char *what, const char *key, const char *value, char **buf,
		    char **out, int max, int *n, const char *iface)
{
	struct ifm_names names;
	char why[160];
	int r = ifm_spec_names(value, max, true, iface, "the connection's own interface", &names);

	*n = 0;
	free(*buf);
	*buf = NULL;
	if (r < 0) {
		if (r == -EINVAL)
			ifm_err("%s: %s", what, ifm_names_problem(&names, key, why, sizeof(why)));
		ifm_names_free(&names);
		return -1;
	}
	/* the names live in the buffer, which the caller now owns */
	for (int i = 0; i < names.n; i++)
		out[(*n)++] = names.v[i];
	*buf = names.buf;
	free(names.v);
	return 0;
}

int nmm_config_read(struct nmm_config *c, nmm_lookup_fn lookup, void *arg, const char *what,
		    const char *iface)
{
	const char *to = lookup(NMM_KEY_TO, arg), *dir = lookup(NMM_KEY_DIRECTION, arg);
	const char *mode = lookup(NMM_KEY_MODE, arg), *native = lookup(NMM_KEY_NATIVE, arg);
	const char *ports = lookup(NMM_KEY_COLLECTOR, arg), *sink = lookup(NMM_KEY_SINK, arg);
	const char *sinkkind = lookup(NMM_KEY_SINKKIND, arg);
	const char *match = lookup(NMM_KEY_MATCH, arg), *sample = lookup(NMM_KEY_SAMPLE, arg);
	const char *problem;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->mode = NMM_MODE_DISPATCHER;
	c->any = to || dir || mode || native || ports || sink || sinkkind || match || sample;
	if (match && *match) {
		char mwhat[128];

		snprintf(mwhat, sizeof(mwhat), "%s: %s", what, NMM_KEY_MATCH);
		if ((problem = ifm_spec_match(match))) {
			ifm_err("%s: %s: %s", what, NMM_KEY_MATCH, problem);
			ret = -1;
		} else if (ifm_match_check(match, 1, mwhat) < 0) {
			ret = -1; /* libpcap's reason printed */
		} else {
			c->match = strdup(match);
		}
	}
	c->sample = 1;
	if (sample && *sample && (problem = ifm_spec_sample(sample, &c->sample))) {
		ifm_err("%s: %s '%.20s': %s", what, NMM_KEY_SAMPLE, sample, problem);
		ret = -1;
	}
	if (to && nmm_split_names(what, NMM_KEY_TO, to, &c->to_buf, c->to, NMM_MAX_DEST, &c->nto,
				  iface) < 0)
		ret = -1;
	if (dir && *dir && (problem = ifm_spec_dir(dir, &c->dir))) {
		ifm_err("%s: %s '%.20s': %s", what, NMM_KEY_DIRECTION, dir, problem);
		ret = -1;
	}
	if (mode && *mode) {
		if (!strcmp(mode, "native")) {
			c->mode = NMM_MODE_NATIVE;
		} else if (strcmp(mode, "dispatcher")) {
			ifm_err("%s: %s '%.20s': not native or dispatcher", what, NMM_KEY_MODE, mode);
			ret = -1;
		}
	}
	if (native && strcmp(native, "setting") && strcmp(native, "qdisc") &&
	    strcmp(native, "filters")) {
		ifm_err("%s: %s '%.20s': not setting, qdisc or filters", what, NMM_KEY_NATIVE, native);
		ret = -1;
	} else if (native) {
		snprintf(c->native_added, sizeof(c->native_added), "%s", native);
	}
	if (ports && nmm_split_names(what, NMM_KEY_COLLECTOR, ports, &c->ports_buf, c->ports,
				     NMM_MAX_PORTS, &c->nports, iface) < 0)
		ret = -1;
	if (sink && *sink) {
		if ((problem = ifm_ifname_problem(sink))) {
			ifm_err("%s: %s '%.40s': %s", what, NMM_KEY_SINK, sink, problem);
			ret = -1;
		} else {
			snprintf(c->sink, sizeof(c->sink), "%s", sink);
		}
	}
	if (sinkkind && strcmp(sinkkind, "profile") && strcmp(sinkkind, "ifmirror")) {
		ifm_err("%s: %s '%.20s': not profile or ifmirror", what, NMM_KEY_SINKKIND, sinkkind);
		ret = -1;
	} else if (sinkkind) {
		snprintf(c->sinkkind, sizeof(c->sinkkind), "%s", sinkkind);
	}
	return ret;
}

void nmm_config_free(struct nmm_config *c)
{
	free(c->match);
	c->match = NULL;
	free(c->to_buf);
	free(c->ports_buf);
	c->to_buf = c->ports_buf = NULL;
	c->nto = c->nports = 0;
}

/*
 * NetworkManager >= 1.46: lower case letters become upper case, upper case
 * ones get a '_' before them, digits stay, '.' becomes "__", anything else
 * '_' and three octal digits.
 */
void nmm_env_name(const char *key, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "CONNECTION_USER_");

	for (const unsigned char *p = (const unsigned char *)key; *p && n + 5 < len; p++) {
		if (islower(*p) || isdigit(*p))
			buf[n++] = (char)toupper(*p);
		else if (isupper(*p))
			n += (size_t)snprintf(buf + n, len - n, "_%c", *p);
		else if (*p == '.')
			n += (size_t)snprintf(buf + n, len - n, "__");
		else
			n += (size_t)snprintf(buf + n, len - n, "_%03o", *p);
	}
	buf[n < len ? n : len - 1] = '\0';
}

/* ---- the record ---- */

/*
 * RUN_DIR/nm/UUID, opened through marks.c like every file under the run
 * directory: relative to the checked directory, no symlink followed, a plain
 * file only.
 */
static bool uuid_ok(const char *uuid)
{
	if (!uuid || !*uuid || strlen(uuid) > 64)
		return false;
	for (const char *p = uuid; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != '-')
			return false;
	return true;
}

bool nmm_record_read(const char *uuid, struct nmm_record *r)
{
	char word[64], key[16];
	FILE *f;

	memset(r, 0, sizeof(*r));
	if (!uuid_ok(uuid))
		return false;
	f = ifm_run_fopen("nm", uuid, false);
	if (!f)
		return false;
	while (fscanf(f, "%15s %63s", key, word) == 2) {
		if (ifm_ifname_problem(word))
			continue;
		if (!strcmp(key, "source"))
			snprintf(r->iface, sizeof(r->iface), "%.15s", word);
		else if (!strcmp(key, "dest") && r->ndest < NMM_MAX_DEST)
			snprintf(r->dest[r->ndest++], IFM_IFNAMSIZ, "%.15s", word);
		else if (!strcmp(key, "sink"))
			snprintf(r->bridge_sink, sizeof(r->bridge_sink), "%.15s", word);
	}
	fclose(f);
	return r->iface[0] != '\0';
}

int nmm_record_write(const char *uuid, const struct nmm_record *r)
{
	char tmp[80];
	FILE *f;
	int ok;

	if (!uuid_ok(uuid))
		return -EINVAL;
	if (r->ndest == 0 && !r->bridge_sink[0]) {
		nmm_record_delete(uuid);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", uuid);
	f = ifm_run_fopen("nm", tmp, true);
	if (!f)
		return -errno;
	fprintf(f, "source %s\n", r->iface);
	for (int i = 0; i < r->ndest; i++)
		fprintf(f, "dest %s\n", r->dest[i]);
	if (r->bridge_sink[0])
		fprintf(f, "sink %s\n", r->bridge_sink);
	ok = fflush(f) == 0;
	if (fclose(f) != 0 || !ok || ifm_run_rename("nm", tmp, uuid) < 0) {
		ifm_run_unlink("nm", tmp);
		return -EIO;
	}
	return 0;
}

void nmm_record_delete(const char *uuid)
{
	if (uuid_ok(uuid))
		ifm_run_unlink("nm", uuid);
}
