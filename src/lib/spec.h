/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every field of a spec, judged once for every front end (argv, the config
 * file, ifupdown's IF_MIRROR_*, NetworkManager's user data). A judge takes
 * the text as given and returns NULL, or the reason it is refused; the front
 * end names the field and the value around it ("FIELD 'VALUE': reason").
 * Nothing is ever cut short: a value too long is refused.
 */
#ifndef IFMIRROR_SPEC_H
#define IFMIRROR_SPEC_H

#include <stdbool.h>
#include <stddef.h>

enum ifm_dir {
	IFM_DIR_INGRESS = 1,
	IFM_DIR_EGRESS = 2,
	IFM_DIR_BOTH = IFM_DIR_INGRESS | IFM_DIR_EGRESS,
};

/* Exit codes: the contract with hooks and scripts. */
enum {
	IFM_EXIT_OK = 0,
	IFM_EXIT_RUNTIME = 1,
	IFM_EXIT_USAGE = 2,
};

/*
 * The kernel's rule (dev_valid_name): 1..15 bytes, not "." or "..", no '/',
 * ':' or white space. Returns NULL when valid, else the reason.
 */
const char *ifm_ifname_problem(const char *name);

/* "ingress", "egress", "both" -> enum; 0 when unknown. */
enum ifm_dir ifm_dir_parse(const char *s);
const char *ifm_dir_name(enum ifm_dir dir);

#define IFM_SAMPLE_MAX 2147483647UL
#define IFM_SNAPLEN_MIN 14       /* the Ethernet header */
#define IFM_SNAPLEN_MAX 65535
#define IFM_MATCH_MAX 1023       /* bytes of a --match expression (it is recorded) */

/* A whole decimal number in [lo, hi]: digits only, no sign, no overflow. */
bool ifm_spec_number(const char *v, unsigned long lo, unsigned long hi, unsigned long *out);
/* --sample N: one frame in N */
const char *ifm_spec_sample(const char *v, unsigned int *out);
/* "yes" or "no", nothing else */
const char *ifm_spec_yes_no(const char *v, bool *out);
/* --snaplen BYTES */
const char *ifm_spec_snaplen(const char *v, unsigned int *out);
/*
 * --rate BITS[/s]: a copy budget, in bits per second, with a unit as tc
 * writes them: bit, kbit, mbit, gbit, tbit (powers of 1000), kibit, mibit,
 * gibit (of 1024), or bytes per second as bps, kbps, mbps, gbps; a whole or
 * decimal number ("1.5gbit"), "/s" allowed after the unit. A bare number is
 * refused (tc reads it as bytes, a reader may not). From 8kbit to 100gbit.
 */
#define IFM_RATE_MIN 8000ULL                 /* bits per second */
#define IFM_RATE_MAX 100000000000ULL
const char *ifm_spec_rate(const char *v, unsigned long long *bits);
/*
 * --burst BYTES: what the budget lets pass at once; a number of bytes, or
 * with k/kb or m/mb (1024, 1024*1024, as tc). From 2048 (a whole frame and
 * more) to 256 MiB.
 */
#define IFM_BURST_MIN 2048U
#define IFM_BURST_MAX (256U << 20)
const char *ifm_spec_burst(const char *v, unsigned int *bytes);
/* The burst when none is given: 50 ms of the rate (a shaper that gets the
 * CPU late still spends the budget), at least IFM_BURST_GSO, at most
 * IFM_BURST_MAX. */
unsigned int ifm_burst_default(unsigned long long bits);
/* One GSO packet whole: up to 64 KiB of payload, plus the headers the kernel
 * counts once per segment (qdisc_pkt_len: about 3 KiB at MSS 1448), with room.
 * act_police charges a GSO packet at its full length and lets nothing larger
 * than the burst conform, so with a smaller burst police never copies a TCP
 * bulk sender's data at all, only its small frames (measured: 32 KiB at
 * 10mbit passed 0.82 of the budget, all of it ACKs); tbf would cut each such
 * packet into segments (tbf_segment), which costs the source. */
#define IFM_BURST_GSO (128U << 10)
/* --dstport N (a UDP port) */
const char *ifm_spec_port(const char *v, unsigned int *out);
/* --direction */
const char *ifm_spec_dir(const char *v, enum ifm_dir *out);
/*
 * One entry of a tunnel's per-source ids ("ids ="): SOURCE[:DIRECTION]=ID,
 * e.g. "eth0:ingress=101" (DIRECTION ingress, egress or both; none: both).
 * ID is 0 to 4294967295 here; the tunnel type's own range is its judge's.
 * source holds IFM_IFNAMSIZ (16) bytes.
 */
const char *ifm_spec_tunnel_id(const char *v, char *source, enum ifm_dir *dir,
			       unsigned long *id);
/* --match EXPR: text only; libpcap judges the expression (ifm_match_check) */
const char *ifm_spec_match(const char *v);
/* an IPv4 or IPv6 address: its family (AF_INET, AF_INET6) and bytes (16) */
const char *ifm_spec_addr(const char *v, int *family, unsigned char *bytes);

/*
 * A list of interface names, separated by spaces, tabs or commas: each
 * judged, at most max, none equal to self (may be NULL; self_what says what
 * it is), repeats dropped when asked. On a refusal (-EINVAL), why says it and
 * word is the name refused ("" when none). ifm_names_free() always.
 */
struct ifm_names {
	char *buf;
	char **v;
	int n;
	char word[48];
	char why[64];
};
int ifm_spec_names(const char *value, int max, bool drop_repeats, const char *self,
		   const char *self_what, struct ifm_names *out);
void ifm_names_free(struct ifm_names *n);
/* "FIELD 'WORD': why" or "FIELD: why" */
const char *ifm_names_problem(const struct ifm_names *n, const char *field, char *buf,
			      size_t len);

/*
 * A source word of the config file: a device name, a shell glob on names
 * ("tap*", "vnet?", "eth[0-3]": fnmatch), every port of a bridge
 * ("@master:vmbr0"), or an exclusion ("!tapmgmt0", "!tap9*", "!@master:br1")
 * of what the other patterns match. A word with '*', '?' or '[' is a glob, one
 * starting with '@' or '!' a pattern: a device whose name has them is named by
 * a glob ("[@]x", "[]!]x", "[*]x").
 */
enum ifm_source_kind { IFM_SRC_NAME, IFM_SRC_GLOB, IFM_SRC_MASTER, IFM_SRC_EXCLUDE };
enum ifm_source_kind ifm_source_kind(const char *w);
/* NULL, or why w is no source word */
const char *ifm_spec_source_word(const char *w);
/* Does one pattern (a glob or @master:B, not an exclusion) match the device?
 * master: the name of the bridge it is a port of, or NULL. */
bool ifm_source_pattern_matches(const char *pat, const char *name, const char *master);
/* Is the device matched by a pattern of pats[0..n) and by none of its exclusions? */
bool ifm_sources_match(const char *const *pats, int n, const char *name, const char *master);

/* name is one of names[0..n) */
bool ifm_name_listed(const char *const *names, int n, const char *name);
/* 16 bytes of zeros (an unset or unusable address) */
bool ifm_addr_is_zero(const unsigned char *a);

/* 32-bit FNV-1a of a device name: what the action cookie remembers. */
unsigned int ifm_name_hash(const char *name);

#endif
