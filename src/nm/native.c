// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Native mode: the profile's own tc setting (a clsact qdisc, one matchall
 * filter per hook with "mirred egress mirror dev DEST"), taken out again
 * exactly as it was put in; and the choice between it and the dispatcher
 * (what stands against native mode, which is made only when asked for).
 */
#include "profile.h"
#include "probe.h"

#include <stdio.h>
#include <string.h>
#include <linux/pkt_sched.h>

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

bool nmm_listed(char *const *names, int n, const char *name)
{
	return ifm_name_listed((const char *const *)names, n, name);
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
void nmm_strip_native(NMConnection *conn, char *const *dests, int ndest, const char *added)
{
	NMSettingTCConfig *tc = nm_connection_get_setting_tc_config(conn);
	bool left_on_clsact = false;

	if (!tc)
		return;
	for (guint i = nm_setting_tc_config_get_num_tfilters(tc); i-- > 0;) {
		NMTCTfilter *f = nm_setting_tc_config_get_tfilter(tc, i);
		const char *d = native_filter_dest(f, NULL);

		if (d && nmm_listed(dests, ndest, d))
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
const char *nmm_tc_conflict(NMConnection *conn, char *buf, size_t len)
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

int nmm_add_native(NMConnection *conn, const char *dest, enum ifm_dir dir, char *added,
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

char *nmm_tc_list(NMConnection *conn, bool qdiscs)
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

bool nmm_tc_equal(NMConnection *a, NMConnection *b)
{
	NMSetting *x = NM_SETTING(nm_connection_get_setting_tc_config(a));
	NMSetting *y = NM_SETTING(nm_connection_get_setting_tc_config(b));

	if (!x || !y)
		return x == y;
	return nm_setting_compare(x, y, NM_SETTING_COMPARE_FLAG_EXACT);
}

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
		    nmm_listed(c->dests, c->ndest, d.name))
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

enum obstacle nmm_native_obstacle(struct ctx *c, char *why, size_t len)
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
	if ((conflict = nmm_tc_conflict(c->bare, buf, sizeof(buf)))) {
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

