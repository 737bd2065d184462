// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --match and --sample (lib/match.c): programs from libpcap, rewritten so a
 * frame whose VLAN tag the kernel moved into the skb's metadata is judged as
 * a capture would judge it. Each program is run here by a small classic BPF
 * interpreter on frames with and without such a tag.
 */
#include "ifmirror.h"
#include "check.h"

#include <errno.h>
#include <string.h>
#include <linux/filter.h>
#include <netlink/msg.h>

struct frame {
	unsigned char b[128];
	unsigned int len;
	bool tag;                  /* the outer tag is in the metadata */
	unsigned int tci, tpid;
};

static unsigned int load(const struct frame *f, unsigned int k, unsigned int size, bool *oob)
{
	unsigned int v = 0;

	if (k >= (unsigned int)SKF_AD_OFF) {
		switch (k - (unsigned int)SKF_AD_OFF) {
		case SKF_AD_VLAN_TAG: return f->tci;
		case SKF_AD_VLAN_TAG_PRESENT: return f->tag;
		case SKF_AD_VLAN_TPID: return f->tpid;
		case SKF_AD_RANDOM: return 7;
		}
		*oob = true;
		return 0;
	}
	if (k + size > f->len) {
		*oob = true;
		return 0;
	}
	for (unsigned int i = 0; i < size; i++)
		v = v << 8 | f->b[k + i];
	return v;
}

/* the return value of the program, 0 when it rejects (or reads past the end) */
static unsigned int run(const struct ifm_match *m, const struct frame *f)
{
	unsigned int a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	bool oob = false;

	for (unsigned int pc = 0; pc < m->len && !oob; pc++) {
		const struct sock_filter *in = &m->insns[pc];
		unsigned int size = BPF_SIZE(in->code) == BPF_W ? 4 : BPF_SIZE(in->code) == BPF_H ? 2 : 1;
		unsigned int src = BPF_SRC(in->code) == BPF_X ? x : in->k;

		switch (BPF_CLASS(in->code)) {
		case BPF_LD:
			if (BPF_MODE(in->code) == BPF_ABS)
				a = load(f, in->k, size, &oob);
			else if (BPF_MODE(in->code) == BPF_IND)
				a = load(f, x + in->k, size, &oob);
			else if (BPF_MODE(in->code) == BPF_LEN)
				a = f->len;
			else if (BPF_MODE(in->code) == BPF_IMM)
				a = in->k;
			else if (BPF_MODE(in->code) == BPF_MEM)
				a = mem[in->k];
			break;
		case BPF_LDX:
			if (BPF_MODE(in->code) == BPF_MSH)
				x = 4 * (load(f, in->k, 1, &oob) & 0xf);
			else if (BPF_MODE(in->code) == BPF_LEN)
				x = f->len;
			else if (BPF_MODE(in->code) == BPF_IMM)
				x = in->k;
			else if (BPF_MODE(in->code) == BPF_MEM)
				x = mem[in->k];
			break;
		case BPF_ST:
			mem[in->k] = a;
			break;
		case BPF_STX:
			mem[in->k] = x;
			break;
		case BPF_ALU:
			switch (BPF_OP(in->code)) {
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			case BPF_MUL: a *= src; break;
			case BPF_DIV: a = src ? a / src : 0; break;
			case BPF_MOD: a = src ? a % src : 0; break;
			case BPF_AND: a &= src; break;
			case BPF_OR: a |= src; break;
			case BPF_LSH: a <<= src; break;
			case BPF_RSH: a >>= src; break;
			case BPF_NEG: a = -a; break;
			}
			break;
		case BPF_JMP:
			if (BPF_OP(in->code) == BPF_JA) {
				pc += in->k;
			} else {
				bool t = BPF_OP(in->code) == BPF_JEQ ? a == src
				       : BPF_OP(in->code) == BPF_JGT ? a > src
				       : BPF_OP(in->code) == BPF_JGE ? a >= src : (a & src) != 0;

				pc += t ? in->jt : in->jf;
			}
			break;
		case BPF_RET:
			return BPF_RVAL(in->code) == BPF_A ? a : in->k;
		case BPF_MISC:
			if (BPF_MISCOP(in->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
	return 0;
}

/* Ethernet + IPv4 + TCP to port 443; with an in-band 802.1Q tag when inband_vid */
static struct frame tcp_frame(unsigned int inband_vid)
{
	struct frame f = { .len = 0 };
	unsigned char *p = f.b;

	memset(p, 0xaa, 12);
	p += 12;
	if (inband_vid) {
		*p++ = 0x81; *p++ = 0x00; *p++ = (unsigned char)(inband_vid >> 8); *p++ = inband_vid & 0xff;
	}
	*p++ = 0x08; *p++ = 0x00;                          /* IPv4 */
	*p++ = 0x45; *p++ = 0; *p++ = 0; *p++ = 40;        /* version, IHL 5, length 40 */
	memset(p, 0, 4); p += 4;                           /* id, flags, fragment 0 */
	*p++ = 64; *p++ = 6; *p++ = 0; *p++ = 0;           /* TTL, TCP */
	*p++ = 192; *p++ = 0; *p++ = 2; *p++ = 1;
	*p++ = 192; *p++ = 0; *p++ = 2; *p++ = 2;
	*p++ = 0x30; *p++ = 0x39; *p++ = 0x01; *p++ = 0xbb; /* 12345 -> 443 */
	memset(p, 0, 16); p += 16;
	f.len = (unsigned int)(p - f.b);
	return f;
}

/* the same frame as the kernel hands it to tc: the tag taken out into the metadata */
static struct frame untag(struct frame in)
{
	struct frame f = in;

	f.tag = true;
	f.tpid = 0x8100;
	f.tci = (unsigned int)(in.b[14] << 8 | in.b[15]);
	memmove(f.b + 12, in.b + 16, in.len - 16);
	f.len = in.len - 4;
	return f;
}

static void expect(const char *expr, const struct frame *f, bool accepted)
{
	struct ifm_match m;
	int r = ifm_match_build(NULL, expr, 1, &m, "test");

	CHECK(r == 0 && m.len > 0);
	if (r == 0) {
		if ((run(&m, f) != 0) != accepted)
			fprintf(stderr, "  '%s' on a %s frame: %s\n", expr, f->tag ? "tagged" : "plain",
				accepted ? "rejected, should accept" : "accepted, should reject");
		CHECK((run(&m, f) != 0) == accepted);
	}
	ifm_match_free(&m);
}

/* The size of a program against what one filter request carries. */
static void sizes(void)
{
	static struct sock_filter ld[4096];
	struct ifm_match m = { .insns = ld, .sample = 1 };
	struct ifm_cookie ck = { 0 };
	struct ifm_link d0 = { .ifindex = 2, .name = "d0" };
	struct ifm_nl nl = { 0 };
	struct ifm_batch b;
	struct nl_msg *msg;
	char expr[1024] = "", big[IFM_MATCH_MAX + 2];

	for (unsigned int i = 0; i < 4096; i++)
		ld[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0);
	ifm_cookie_make(&ck, IFM_DIR_INGRESS, &d0);
	/* the longest program allowed fits one request (a page holds about 500) */
	m.len = IFM_MATCH_INSNS_MAX;
	msg = ifm_filter_add_msg(1, 0, 1, &ifm_cls_bpf, &m, 2, &ck, NULL);
	CHECK(msg != NULL);
	if (msg)
		nlmsg_free(msg);
	/* and with a copy budget's police joined before the mirred */
	msg = ifm_filter_add_msg(1, 0, 1, &ifm_cls_bpf, &m, 2, &ck,
				 &(struct ifm_budget_join){ .has_police = true, .bucket_fd = -1,
					 .pol = { .index = IFM_POLICE_INDEX(2), .bps = 125000,
						  .burst = 32768, .mtu = 65535, .cookie = ck } });
	CHECK(msg != NULL);
	if (msg)
		nlmsg_free(msg);
	/* a longer one is not built, and a batch takes the failure as an error */
	m.len = 4096;
	msg = ifm_filter_add_msg(1, 0, 1, &ifm_cls_bpf, &m, 2, &ck, NULL);
	CHECK(msg == NULL);
	CHECK(ifm_batch_init(&b, &nl) == 0);
	CHECK(ifm_batch_add(&b, msg) == -ENOMEM && b.n == 0);
	ifm_batch_free(&b);
	CHECK(ifm_nl_talk(&nl, NULL) == -ENOMEM);

	/* an expression of over 3968 instructions (of 1023 bytes at most) is refused */
	for (unsigned int i = 1; strlen(expr) < 880; i++)
		snprintf(expr + strlen(expr), sizeof(expr) - strlen(expr), "%sdecnet host %u.%u",
			 i > 1 ? " or " : "", i, i);
	CHECK(ifm_match_build(NULL, expr, 1, &m, "test") == -IFM_EBADEXPR && !m.insns);
	/* 1023 bytes are compiled, 1024 refused before libpcap sees them */
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "tcp", 3);
	big[IFM_MATCH_MAX + 1] = '\0';
	CHECK(ifm_match_build(NULL, big, 1, &m, "test") == -IFM_EBADEXPR && !m.insns);
	big[IFM_MATCH_MAX] = '\0';
	CHECK(ifm_match_build(NULL, big, 1, &m, "test") == 0 && m.insns);
	ifm_match_free(&m);
}

int main(void)
{
	struct frame plain = tcp_frame(0), inband = tcp_frame(20), meta = untag(tcp_frame(20));
	struct ifm_match m;

	ifm_quiet_set(true);
	/* a capture's judgement on every form of the frame */
	expect("tcp", &plain, true);
	expect("tcp", &inband, false);
	expect("tcp", &meta, false);           /* the rewrite: a tagged frame is not "tcp" */
	expect("vlan 20 and tcp", &meta, true);
	expect("vlan 20 and tcp", &inband, true);
	expect("vlan 20 and tcp", &plain, false);
	expect("vlan 21 and tcp", &meta, false);
	expect("vlan and tcp port 443", &meta, true);
	expect("vlan and tcp port 80", &meta, false);
	expect("tcp port 443", &plain, true);

	/* sampling: a block at the end that ifm_match_sample_of reads back */
	CHECK(ifm_match_build(NULL, NULL, 1, &m, "test") == 0 && m.insns == NULL && m.len == 0);
	ifm_match_free(&m);
	CHECK(ifm_match_build(NULL, NULL, 100, &m, "test") == 0 && m.len == 5);
	CHECK(ifm_match_sample_of(m.insns, m.len) == 100 && !ifm_match_has_expr(m.len, 100));
	CHECK(run(&m, &plain) == 0);           /* the interpreter's random number is 7: 7 % 100 */
	ifm_match_free(&m);
	CHECK(ifm_match_build(NULL, NULL, 7, &m, "test") == 0 && run(&m, &plain) != 0);
	ifm_match_free(&m);
	CHECK(ifm_match_build(NULL, "tcp", 7, &m, "test") == 0 && m.expr && !strcmp(m.expr, "tcp"));
	CHECK(ifm_match_sample_of(m.insns, m.len) == 7 && ifm_match_has_expr(m.len, 7));
	CHECK(run(&m, &plain) != 0 && run(&m, &meta) == 0);
	CHECK(m.hash == ifm_match_hash(m.insns, m.len) && m.hash != 0);
	ifm_match_free(&m);
	CHECK(ifm_match_build(NULL, "tcp and and", 1, &m, "test") < 0);
	sizes();
	return CHECK_DONE("match");
}
