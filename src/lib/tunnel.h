/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Remote collectors: tunnel devices that sessions mirror into. Each tunnel
 * type is one ops struct in a file of its own (tunnel_vxlan.c, tunnel_gre.c)
 * and one entry of ifm_tunnel_types[] (tunnel.c); everything else -- the
 * command line, the config file, check, the alias -- reads the table.
 */
#ifndef IFMIRROR_TUNNEL_H
#define IFMIRROR_TUNNEL_H

#include "ifmirror.h"

struct nl_msg;
struct nlattr;

#define IFM_ETH_HDR 14

struct ifm_tunnel_spec {
	const char *name;
	const char *type;        /* an ifm_tunnel_ops type: "vxlan", "gretap", "erspan", "geneve" */
	const char *remote;      /* IPv4 or IPv6 address, as text */
	const char *local;       /* NULL: chosen by the kernel */
	const char *dev;         /* underlay device, NULL: by route */
	unsigned long id;        /* the type's id: vni, key, session id */
	bool has_id;
	unsigned int dstport;    /* types with a UDP port; 0: their default */
	unsigned int snaplen;    /* 0: whole frames */
	const char *of;          /* a per-id device of this tunnel (apply's "ids ="), or NULL */
	unsigned long long rate; /* copy budget, bits per second; 0: none */
	unsigned int burst;      /* bytes; 0: derived from the rate */
	unsigned int version;   /* erspan: 1 or 2; 0: 1 */
	unsigned int hwid;      /* erspan v2 hardware id */
	bool has_hwid;
	enum ifm_dir erspan_dir;   /* erspan v2 direction bit: IFM_DIR_INGRESS (0 on the wire) or IFM_DIR_EGRESS (1); 0: ingress */
};

#define IFM_ERSPAN_HWID_MAX 63   /* 6 bits in the ERSPAN type III header */

/* a spec's addresses, as bytes, and the kind it makes */
struct ifm_tunnel_addrs {
	const char *kind;         /* rtnl kind for the family */
	int family;
	unsigned char remote[16], local[16];
	bool has_local;
	unsigned int dstport;     /* the default filled in */
};

struct ifm_tunnel_ops;

/* what a link says about itself, for headroom warnings and `tunnel up` */
struct ifm_tunnel_info {
	int ifindex;
	char name[IFM_IFNAMSIZ];
	char kind[16];            /* rtnl kind */
	const struct ifm_tunnel_ops *ops;   /* NULL: no tunnel of ours */
	const char *type;         /* ops->type, or NULL */
	int family;               /* of the underlay; 0 when unknown */
	unsigned char remote[16], local[16];
	int link;                 /* IFLA_LINK / the tunnel's underlay device, 0 */
	int master;               /* the bridge it is a port of, 0 */
	unsigned int mtu, flags;
	unsigned int overhead;    /* underlay MTU - the tunnel MTU the kernel picks */
	bool df;                  /* outer DF set: oversize copies are dropped */
	uint32_t id;
	bool has_id;
	unsigned int dstport;
	unsigned int version;     /* erspan's */
	unsigned int hwid;        /* erspan version 2's */
	enum ifm_dir erspan_dir;  /* erspan version 2's direction bit: ingress or egress */
	char alias[IFM_ALIAS_MAX];
};

struct ifm_headroom {
	char underlay[IFM_IFNAMSIZ];
	unsigned int underlay_mtu;   /* the smaller of the device's and its route's MTU */
	unsigned int frame;          /* the largest frame sent into the tunnel */
	unsigned int need;           /* the underlay MTU that carries it whole */
	unsigned int snaplen;        /* the longest frame the underlay carries whole */
	bool fits;
};

struct ifm_tunnel_ops {
	const char *type;            /* --type, "type =", the alias */
	const char *kind4, *kind6;   /* rtnl kinds over IPv4 and IPv6 underlays */
	const char *module4, *module6;
	bool module_adds_devices;    /* loading it adds devices: check does not */
	const char *id_key;          /* --vni / "vni =" / "vni=" in the alias */
	const char *id_words;        /* in descriptions: "vni", "session id" */
	unsigned long id_max;
	bool id_required;
	unsigned int dstport_default;   /* 0: it takes no --dstport */
	/* the kernel binds its MTU to the route's device even without --dev */
	bool mtu_by_route;
	/* the kind has no local address / no underlay device (geneve) */
	bool no_local, no_dev;
	/* over IPv6 the kind sends nothing without a local address (ip6gre:
	 * the kernel's transmit check wants one): tunnel up picks the route's */
	bool local6_needed;
	/* it has versions (erspan: --erspan-version, --hwid, --erspan-dir) */
	bool versions;
	/* IFLA_INFO_DATA of a new link; dev: the underlay's ifindex or 0 */
	int (*build)(struct nl_msg *msg, const struct ifm_tunnel_spec *t,
		     const struct ifm_tunnel_addrs *a, int dev);
	/* fills addresses, id, link, df, overhead from IFLA_INFO_DATA (may be NULL) */
	void (*parse)(struct nlattr *data, struct ifm_tunnel_info *ti);
	/* it cuts frames longer than its own MTU itself */
	bool cuts_to_mtu;
	/* what becomes of a copy the underlay cannot carry; NULL (or a NULL
	 * hook): dropped with DF, else sent as IP fragments */
	const char *(*oversize)(const struct ifm_tunnel_info *ti, const struct ifm_headroom *h,
				char *buf, size_t len);
};

/* every type, NULL-terminated */
extern const struct ifm_tunnel_ops *const ifm_tunnel_types[];
const struct ifm_tunnel_ops *ifm_tunnel_type(const char *type);
/* "vxlan, gretap, erspan or geneve" */
const char *ifm_tunnel_type_list(void);
/* each type's id key through fmt (given key, then type), joined by ", " */
const char *ifm_tunnel_id_list(char *buf, size_t len, const char *fmt)
	__attribute__((format(printf, 3, 0)));
/* the types that take a UDP port: "vxlan or geneve" */
const char *ifm_tunnel_udp_types(void);

/* the version a spec asks for: 1 or 2 for types with versions, else 0 */
unsigned int ifm_tunnel_spec_version(const struct ifm_tunnel_spec *t);
/* ", version 2, hwid 7, direction egress" for erspan version 2, else "" */
const char *ifm_tunnel_version_text(unsigned int version, unsigned int hwid, enum ifm_dir dir,
				    char *buf, size_t len);

int ifm_tunnel_up(struct ifm_nl *nl, const struct ifm_tunnel_spec *t);
int ifm_tunnel_down(struct ifm_nl *nl, const char *name);
/* tunnel_ids.c: tunnel's device of one id (NAME-ID into name, IFM_IFNAMSIZ),
 * made like the tunnel but for its id when missing */
int ifm_tunnel_id_up(struct ifm_nl *nl, const char *tunnel, unsigned long id, char *name,
		     size_t len);
/* NULL, or why the spec cannot be (buf holds it when it needs the values) */
const char *ifm_tunnel_spec_problem(const struct ifm_tunnel_spec *t, char *buf, size_t len);

int ifm_tnl_link(struct ifm_nl *nl, const char *name, int ifindex, struct ifm_tunnel_info *ti);
/* kind is one of a tunnel type's rtnl kinds */
bool ifm_tnl_kind(const char *kind);
int ifm_tnl_links(struct ifm_nl *nl, struct ifm_tunnel_info **out, size_t *n);
/* the kernel module of an rtnl kind */
const char *ifm_tunnel_module(const char *kind);
/* can the kernel make one (in a scratch namespace)? */
int ifm_tunnel_probe(struct ifm_nl *nl, const struct ifm_tunnel_ops *ops, int family);

/* ---- headroom.c: can the underlay carry a frame whole? ---- */
int ifm_tunnel_headroom(struct ifm_nl *nl, const struct ifm_tunnel_info *ti, unsigned int frame,
			struct ifm_headroom *h);
/* the arithmetic alone, for an underlay MTU already known */
/* The source address the kernel would use toward dst (family's bytes), over
 * oif when not 0: RTM_GETROUTE's RTA_PREFSRC, into src (16 bytes). 0, or
 * -EADDRNOTAVAIL when the route has none, -ENETUNREACH or -errno */
int ifm_route_source(struct ifm_nl *nl, int family, const unsigned char *dst, int oif,
		     unsigned char *src);
void ifm_headroom_compute(const struct ifm_tunnel_info *ti, unsigned int underlay_mtu,
			  unsigned int frame, struct ifm_headroom *h);
void ifm_headroom_text(const struct ifm_tunnel_info *ti, const struct ifm_headroom *h,
		       const char *from, char *buf, size_t len);

#endif
