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
 * auto        native only where it cannot hurt: this kernel has clsact and
 *             matchall, NM is 1.28 or newer, one destination, nothing on the
 *             hooks NM would have to share or delete, a destination that
 *             exists and does not come and go with a profile. Otherwise the
 *             dispatcher, and it says why.
 *
 * Native mode also writes user data (ifmirror.mode=native, ifmirror.to,
 * ifmirror.direction, ifmirror.native = what it added to the tc setting), so
 * that --remove takes out exactly what was added and leaves the profile as
 * it was before.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>

#define PARENT_INGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)   /* ffff:fff2 */
#define PARENT_EGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)     /* ffff:fff3 */

enum output { OUT_PRINT, OUT_KEYFILE, OUT_COMMIT };

struct opts {
	const char *conn;
	char *to[NMM_MAX_DEST];
	int nto;
	char *to_bufs[NMM_MAX_DEST];
	enum ifm_dir dir;             /* 0: keep the profile's, else both */
	enum nmm_mode mode;
	enum output out;
	const char *keyfile;
	const char *match;            /* --match: only the dispatcher can carry it */
	unsigned int sample;          /* --sample: likewise */
	bool remove, quiet;
};

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
		} else if (!strcmp(a, "--print")) {
			o->out = OUT_PRINT;
			nout++;
		} else if (!strcmp(a, "--commit")) {
			o->out = OUT_COMMIT;
			nout++;
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

/* ---- the tc setting ---- */

/* "mirred egress mirror dev X" on a clsact hook, matchall: what native adds */
static const char *native_filter_dest(NMTCTfilter *f, enum ifm_dir *dir)
{
	NMTCAction *a = nm_tc_tfilter_get_action(f);
	GVariant *dev;
	guint32 parent = nm_tc_tfilter_get_parent(f);

	if (parent != PARENT_INGRESS && parent != PARENT_EGRESS)
		return NULL;
	if (g_strcmp0(nm_tc_tfilter_get_kind(f), "matchall") || !a ||
	    g_strcmp0(nm_tc_action_get_kind(a), "mirred") ||
	    !nm_tc_action_get_attribute(a, "egress") || !nm_tc_action_get_attribute(a, "mirror") ||
	    nm_tc_action_get_attribute(a, "ingress") || nm_tc_action_get_attribute(a, "redirect"))
		return NULL;
	dev = nm_tc_action_get_attribute(a, "dev");
	if (!dev || !g_variant_is_of_type(dev, G_VARIANT_TYPE_STRING))
		return NULL;
	if (dir)
		*dir = parent == PARENT_INGRESS ? IFM_DIR_INGRESS : IFM_DIR_EGRESS;
	return g_variant_get_string(dev, NULL);
}

static bool listed(char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static bool on_clsact(guint32 parent)
{
	return parent == PARENT_INGRESS || parent == PARENT_EGRESS;
}

/*
 * Takes native mode's filters to the given destinations out of the tc
 * setting, then the clsact qdisc and the setting itself where native mode
 * had added them ("added" from ifmirror.native; "" for a profile changed by
 * hand from --print's nmcli lines: then what is left empty goes too).
 */
static void strip_native(NMConnection *conn, char *const *dests, int ndest, const char *added)
{
	NMSettingTCConfig *tc = nm_connection_get_setting_tc_config(conn);
	bool left_on_clsact = false;

	if (!tc)
		return;
	for (guint i = nm_setting_tc_config_get_num_tfilters(tc); i-- > 0;) {
		NMTCTfilter *f = nm_setting_tc_config_get_tfilter(tc, i);
		const char *d = native_filter_dest(f, NULL);

		if (d && listed(dests, ndest, d))
			nm_setting_tc_config_remove_tfilter(tc, i);
		else if (on_clsact(nm_tc_tfilter_get_parent(f)))
			left_on_clsact = true;
	}
	if (!left_on_clsact && (!*added || !strcmp(added, "qdisc") || !strcmp(added, "setting"))) {
		for (guint i = nm_setting_tc_config_get_num_qdiscs(tc); i-- > 0;) {
			NMTCQdisc *q = nm_setting_tc_config_get_qdisc(tc, i);

			if (!g_strcmp0(nm_tc_qdisc_get_kind(q), "clsact"))
				nm_setting_tc_config_remove_qdisc(tc, i);
		}
	}
	if ((!*added || !strcmp(added, "setting")) && !nm_setting_tc_config_get_num_qdiscs(tc) &&
	    !nm_setting_tc_config_get_num_tfilters(tc))
		nm_connection_remove_setting(conn, NM_TYPE_SETTING_TC_CONFIG);
}

/* Why native mode cannot go into this profile's tc setting, or NULL. */
static const char *tc_conflict(NMConnection *conn, char *buf, size_t len)
{
	NMSettingTCConfig *tc = nm_connection_get_setting_tc_config(conn);

	if (!tc)
		return NULL;
	for (guint i = 0; i < nm_setting_tc_config_get_num_qdiscs(tc); i++) {
		NMTCQdisc *q = nm_setting_tc_config_get_qdisc(tc, i);

		if (!g_strcmp0(nm_tc_qdisc_get_kind(q), "ingress")) {
			snprintf(buf, len, "its tc setting has an ingress qdisc, which cannot be "
				 "beside clsact");
			return buf;
		}
	}
	for (guint i = 0; i < nm_setting_tc_config_get_num_tfilters(tc); i++) {
		NMTCTfilter *f = nm_setting_tc_config_get_tfilter(tc, i);

		if (on_clsact(nm_tc_tfilter_get_parent(f))) {
			snprintf(buf, len, "its tc setting has a filter of its own on a clsact hook, "
				 "and NetworkManager keeps one filter per hook");
			return buf;
		}
	}
	return NULL;
}

static int add_native(NMConnection *conn, const char *dest, enum ifm_dir dir, char *added,
		      size_t addedlen)
{
	NMSettingTCConfig *tc = nm_connection_get_setting_tc_config(conn);
	bool has_clsact = false;
	GError *e = NULL;

	if (!tc) {
		tc = NM_SETTING_TC_CONFIG(nm_setting_tc_config_new());
		nm_connection_add_setting(conn, NM_SETTING(tc));
		snprintf(added, addedlen, "setting");
	}
	for (guint i = 0; i < nm_setting_tc_config_get_num_qdiscs(tc); i++)
		has_clsact |= !g_strcmp0(nm_tc_qdisc_get_kind(nm_setting_tc_config_get_qdisc(tc, i)),
					 "clsact");
	if (!has_clsact) {
		NMTCQdisc *q = nm_utils_tc_qdisc_from_str("clsact", &e);

		if (!q)
			goto fail;
		nm_setting_tc_config_add_qdisc(tc, q);
		nm_tc_qdisc_unref(q);
		if (!*added)
			snprintf(added, addedlen, "qdisc");
	}
	if (!*added)
		snprintf(added, addedlen, "filters");
	for (int d = IFM_DIR_INGRESS; d <= IFM_DIR_EGRESS; d <<= 1) {
		char *s;
		NMTCTfilter *f;

		if (!(dir & d))
			continue;
		s = g_strdup_printf("parent %s matchall action mirred egress mirror dev %s",
				    d == IFM_DIR_INGRESS ? "ffff:fff2" : "ffff:fff3", dest);
		f = nm_utils_tc_tfilter_from_str(s, &e);
		g_free(s);
		if (!f)
			goto fail;
		nm_setting_tc_config_add_tfilter(tc, f);
		nm_tc_tfilter_unref(f);
	}
	return 0;
fail:
	ifm_err("%s: cannot build the tc setting: %s", dest, e ? e->message : "?");
	g_clear_error(&e);
	return -1;
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

/* ---- the choice of mode ---- */

enum obstacle {
	OK_NATIVE,
	HOST,        /* this kernel or this NM cannot carry it: activation would fail */
	EXPRESS,     /* NM's tc setting cannot say it */
	RISK,        /* it would work now, but could fail an activation later or delete tc */
	MISSING,     /* DEST does not exist now: activation would fail now */
};

struct ctx {
	struct opts *o;
	NMClient *client;
	NMRemoteConnection *rc;
	char *name;                /* the connection's id */
	char *iface;               /* its interface, may be NULL */
	struct nmm_config cur;     /* its ifmirror.* data now */
	NMConnection *bare;        /* the profile without ifmirror's part */
	char *dests[NMM_MAX_DEST]; /* the sessions wanted */
	int ndest;
	enum ifm_dir dir;
};

static bool dest_from_profile(NMClient *c, const char *dest, char *why, size_t len)
{
	const GPtrArray *all = nm_client_get_connections(c);

	for (guint i = 0; i < all->len; i++) {
		NMConnection *conn = all->pdata[i];

		if (!g_strcmp0(nm_connection_get_interface_name(conn), dest) &&
		    nm_connection_is_virtual(conn)) {
			snprintf(why, len, "%s is created by the %s profile '%s' and comes and goes "
				 "with it, which NetworkManager's mirror does not follow (only the "
				 "dispatcher re-points a session)", dest,
				 nm_connection_get_connection_type(conn), nm_connection_get_id(conn));
			return true;
		}
	}
	return false;
}

/* What the source device has on its hooks that NM's tc setting would delete */
static bool foreign_tc(struct ifm_nl *nl, const char *iface, struct ctx *c, char *why,
		       size_t len)
{
	struct ifm_link src;
	struct ifm_dev_tc t;
	bool foreign = false;

	if (!iface || ifm_link_get(nl, iface, &src) < 0 || ifm_dev_tc_scan(nl, src.ifindex, &t) < 0)
		return false;
	if (t.q.root_handle && (t.q.root_handle >> 16) != IFM_PRIO_MAJOR) {
		snprintf(why, len, "%s has a root qdisc (%s %x:) that a tc setting would make "
			 "NetworkManager delete on activation", iface,
			 t.q.root_kind[0] ? t.q.root_kind : "?", t.q.root_handle >> 16);
		foreign = true;
	}
	for (size_t i = 0; i < t.nf && !foreign; i++) {
		const struct ifm_filter *f = &t.f[i];
		struct ifm_link d;

		if (ifm_filter_is_ours(f) && f->act.ifindex &&
		    ifm_link_by_index(nl, f->act.ifindex, &d) == 0 &&
		    listed(c->dests, c->ndest, d.name))
			continue; /* this profile's own session, moving to NM */
		snprintf(why, len, "%s has tc filters (%s on its %s qdisc) that a tc setting would "
			 "make NetworkManager delete on activation", iface,
			 ifm_filter_is_ours(f) ? "another ifmirror session" : "not ifmirror's",
			 t.q.ingress_kind[0] ? t.q.ingress_kind : "root");
		foreign = true;
	}
	ifm_dev_tc_free(&t);
	return foreign;
}

static enum obstacle native_obstacle(struct ctx *c, char *why, size_t len)
{
	struct nmm_kernel k;
	struct ifm_nl nl;
	struct ifm_link d;
	enum obstacle ob = OK_NATIVE;
	const char *conflict;
	char buf[200];

	if (c->o->match || c->o->sample > 1) {
		snprintf(why, len, "NetworkManager's tc filters cannot select (--match) or sample "
			 "(--sample) traffic; the dispatcher can");
		return EXPRESS;
	}
	if (c->ndest > 1) {
		snprintf(why, len, "%d destinations: NetworkManager's tc setting keeps one filter "
			 "per hook, so it can carry one", c->ndest);
		return EXPRESS;
	}
	if ((conflict = tc_conflict(c->bare, buf, sizeof(buf)))) {
		snprintf(why, len, "%s", conflict);
		return EXPRESS;
	}
	nmm_probe_kernel(&k);
	if (!k.probed) {
		snprintf(why, len, "cannot ask the kernel whether it has clsact and matchall (%s)",
			 k.why);
		return HOST;
	}
	if (!k.clsact) {
		snprintf(why, len, "the kernel has no clsact qdisc (sch_ingress), which "
			 "NetworkManager's mirror needs; NetworkManager would fail the activation");
		return HOST;
	}
	if (!k.matchall) {
		snprintf(why, len, "the kernel has no matchall classifier (cls_matchall), the only "
			 "one NetworkManager's tc setting can use; NetworkManager would fail the "
			 "activation");
		return HOST;
	}
	if (!nmm_nm_at_least(c->client, 1, 28)) {
		snprintf(why, len, "NetworkManager %s is older than 1.28 and has no clsact qdisc",
			 nm_client_get_version(c->client));
		return HOST;
	}
	if (ifm_nl_open(&nl) < 0) {
		snprintf(why, len, "cannot open rtnetlink to look at %s", c->dests[0]);
		return HOST;
	}
	if (ifm_link_get(&nl, c->dests[0], &d) < 0) {
		snprintf(why, len, "%s does not exist now, and NetworkManager fails the activation "
			 "while a mirror's destination is missing", c->dests[0]);
		ob = MISSING;
	} else if (ifm_is_collector(&d)) {
		snprintf(why, len, "%s is an ifmirror collector bridge, which only the dispatcher "
			 "re-points sessions into when it is re-created", c->dests[0]);
		ob = RISK;
	} else if (dest_from_profile(c->client, c->dests[0], why, len)) {
		ob = RISK;
	} else if (!nm_connection_get_setting_tc_config(NM_CONNECTION(c->rc)) &&
		   foreign_tc(&nl, c->iface, c, why, len)) {
		/* (a profile with a tc setting has NM own the device's tc already) */
		ob = RISK;
	}
	ifm_nl_close(&nl);
	if (ob == OK_NATIVE)
		snprintf(why, len, "the kernel has clsact and matchall, and NetworkManager %s "
			 "applies the mirror itself", nm_client_get_version(c->client));
	return ob;
}

/* ---- output ---- */

static char *tc_list(NMConnection *conn, bool qdiscs)
{
	NMSettingTCConfig *tc = nm_connection_get_setting_tc_config(conn);
	GString *s = g_string_new(NULL);
	guint n;

	n = !tc ? 0 : qdiscs ? nm_setting_tc_config_get_num_qdiscs(tc)
			     : nm_setting_tc_config_get_num_tfilters(tc);
	for (guint i = 0; i < n; i++) {
		char *str = qdiscs ? nm_utils_tc_qdisc_to_str(nm_setting_tc_config_get_qdisc(tc, i), NULL)
				   : nm_utils_tc_tfilter_to_str(nm_setting_tc_config_get_tfilter(tc, i),
								NULL);

		if (str) {
			g_string_append_printf(s, "%s%s", s->len ? ", " : "", str);
			g_free(str);
		}
	}
	return g_string_free(s, FALSE);
}

static bool tc_equal(NMConnection *a, NMConnection *b)
{
	NMSetting *x = NM_SETTING(nm_connection_get_setting_tc_config(a));
	NMSetting *y = NM_SETTING(nm_connection_get_setting_tc_config(b));

	if (!x || !y)
		return x == y;
	return nm_setting_compare(x, y, NM_SETTING_COMPARE_FLAG_EXACT);
}

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

	if (!tc_equal(old, conn)) {
		g_string_append(s, "nmcli connection modify ");
		nmm_shell_quote(s, uuid);
		if (!nm_connection_get_setting_tc_config(conn)) {
			g_string_append(s, " remove tc");
		} else {
			char *q = tc_list(conn, true), *f = tc_list(conn, false);

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

static int write_keyfile(const char *path, NMConnection *conn)
{
	GError *e = NULL;
	GKeyFile *kf = nm_keyfile_write(conn, NM_KEYFILE_HANDLER_FLAGS_NONE, NULL, NULL, &e);
	gsize len = 0;
	char *data;
	int ret = 0;

	if (!kf) {
		ifm_err("%s: cannot make a keyfile: %s", path, e ? e->message : "?");
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
		if (!o.remove || (o.nto && !listed(o.to, o.nto, c.cur.to[i])))
			c.dests[c.ndest++] = c.cur.to[i];
	if (!o.remove) {
		for (int i = 0; i < o.nto && c.ndest < NMM_MAX_DEST; i++)
			if (!listed(c.dests, c.ndest, o.to[i]))
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
		strip_native(conn, c.cur.to, c.cur.nto, c.cur.native_added);
	else if (!c.cur.any)
		strip_native(conn, o.to, o.nto, "");
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
		} else {
			ob = native_obstacle(&c, why, sizeof(why));
			if (o.mode == NMM_MODE_AUTO) {
				mode = ob == OK_NATIVE ? NMM_MODE_NATIVE : NMM_MODE_DISPATCHER;
			} else {
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
	}

	/* the new profile */
	if (c.ndest) {
		dl = g_string_new(NULL);
		describe(&c, dl);
		if (mode == NMM_MODE_NATIVE) {
			char conflict[200];

			if (tc_conflict(conn, conflict, sizeof(conflict))) {
				ifm_err("%s: native mode: %s", c.name, conflict);
				goto out;
			}
			if (add_native(conn, c.dests[0], c.dir, added, sizeof(added)) < 0)
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
		if (write_keyfile(o.keyfile, conn) < 0)
			goto out;
		if (!o.quiet && strcmp(o.keyfile, "-"))
			printf("%s: keyfile written to %s (NetworkManager loads it from "
			       "/etc/NetworkManager/system-connections/ with 'nmcli connection "
			       "load FILE')\n", c.name, o.keyfile);
		ret = IFM_EXIT_OK;
		break;
	case OUT_COMMIT: {
		NMDevice *dev = nmm_active_device(c.client, c.rc);
		bool tc_changed = !tc_equal(NM_CONNECTION(c.rc), conn);
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
