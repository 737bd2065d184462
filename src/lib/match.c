/*
 * --match and --sample: one classic BPF program for the bpf classifier.
 *
 * The expression is compiled by libpcap for Ethernet, so it selects what
 * `tcpdump -r` selects from a capture: VLAN tags count as part of the frame.
 * At the tc hooks, though, the kernel has often moved the outer tag into the
 * skb's metadata (always on ingress, on egress for VLAN devices with tag
 * offload). For those frames the program runs in a rewritten copy whose
 * loads see the frame as if the tag were still in it: bytes 12-15 come from
 * the kernel's VLAN ancillary data, later offsets move back by 4, and the
 * length grows by 4. So "tcp" does not match a tagged TCP frame on either
 * hook, and "vlan 20 and arp" does, exactly as in a capture.
 *
 * Sampling needs no gact or sample action (missing from minimal kernels):
 * every "accept" of the program jumps to a block that accepts one frame in N
 * by the kernel's per-packet random number (SKF_AD_RANDOM).
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <linux/filter.h>
#include <pcap/pcap.h>

/*
 * libpcap is loaded only when an expression is compiled: linked in, it and
 * its dependencies (dbus, systemd, gcrypt...) tripled the start-up time of
 * every ifmirror run, and boot hooks run ifmirror once per interface.
 */
static struct {
	void *handle;
	pcap_t *(*open_dead)(int, int);
	int (*compile)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32);
	char *(*geterr)(pcap_t *);
	void (*close)(pcap_t *);
	void (*freecode)(struct bpf_program *);
} pc;

static int pcap_load(void)
{
	if (pc.handle)
		return 0;
	pc.handle = dlopen("libpcap.so.0.8", RTLD_NOW | RTLD_LOCAL);
	if (!pc.handle)
		pc.handle = dlopen("libpcap.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!pc.handle) {
		ifm_err("--match needs libpcap: %s", dlerror());
		return -ENOENT;
	}
	*(void **)&pc.open_dead = dlsym(pc.handle, "pcap_open_dead");
	*(void **)&pc.compile = dlsym(pc.handle, "pcap_compile");
	*(void **)&pc.geterr = dlsym(pc.handle, "pcap_geterr");
	*(void **)&pc.close = dlsym(pc.handle, "pcap_close");
	*(void **)&pc.freecode = dlsym(pc.handle, "pcap_freecode");
	if (!pc.open_dead || !pc.compile || !pc.geterr || !pc.close || !pc.freecode) {
		ifm_err("--match: this libpcap lacks pcap_compile and friends");
		dlclose(pc.handle);
		pc.handle = NULL;
		return -ENOENT;
	}
	return 0;
}

#define SAMPLE_BLOCK 5
#define ACCEPT 0x40000u  /* what pcap programs return: any non-zero accepts */
#define ANC(x) ((uint32_t)(SKF_AD_OFF + (x)))
#define SCRATCH (BPF_MEMWORDS - 1)

struct prog {
	struct sock_filter *f;
	unsigned int n, cap;
	bool oom;
};

static int emit(struct prog *p, struct sock_filter ins)
{
	if (p->n == p->cap) {
		unsigned int cap = p->cap ? p->cap * 2 : 64;
		struct sock_filter *f = realloc(p->f, cap * sizeof(*f));

		if (!f) {
			p->oom = true;
			return -ENOMEM;
		}
		p->f = f;
		p->cap = cap;
	}
	p->f[p->n++] = ins;
	return 0;
}

#define STMT(c, k) ((struct sock_filter)BPF_STMT((c), (k)))

/* One instruction of the in-band program, as it must run on a frame whose
 * outer tag is in the skb's metadata. */
static int expand(struct prog *p, struct sock_filter in)
{
	unsigned int size = BPF_SIZE(in.code) == BPF_W ? 4 : BPF_SIZE(in.code) == BPF_H ? 2 : 1;
	int r = 0;

	if (BPF_CLASS(in.code) == BPF_LD && BPF_MODE(in.code) == BPF_ABS && in.k < ANC(0)) {
		if (in.k >= 16) {
			in.k -= 4;
			return emit(p, in);
		}
		if (in.k + size <= 12)
			return emit(p, in);
		if (size == 2 && in.k == 12)
			return emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ANC(SKF_AD_VLAN_TPID)));
		if (size == 2 && in.k == 14)
			return emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ANC(SKF_AD_VLAN_TAG)));
		if (size == 1) {
			r = emit(p, STMT(BPF_LD | BPF_W | BPF_ABS,
					 ANC(in.k < 14 ? SKF_AD_VLAN_TPID : SKF_AD_VLAN_TAG)));
			if (r == 0)
				r = emit(p, in.k % 2 ? STMT(BPF_ALU | BPF_AND | BPF_K, 0xff)
						      : STMT(BPF_ALU | BPF_RSH | BPF_K, 8));
			return r;
		}
		return -EOPNOTSUPP; /* a word load across the tag: libpcap does not emit it */
	}
	if (BPF_CLASS(in.code) == BPF_LD && BPF_MODE(in.code) == BPF_IND) {
		if (in.k >= 16)
			in.k -= 4;
		return emit(p, in);
	}
	if (in.code == (BPF_LDX | BPF_MSH | BPF_B)) {
		/* judged by the in-band offset: 12-15 are the tag, not what follows it */
		if (in.k >= 16) {
			in.k -= 4;
			return emit(p, in);
		}
		if (in.k < 12)
			return emit(p, in);
		/* X = 4 * (tag byte & 0xf), keeping A in the spare scratch word */
		emit(p, STMT(BPF_ST, SCRATCH));
		emit(p, STMT(BPF_LD | BPF_W | BPF_ABS,
			     ANC(in.k < 14 ? SKF_AD_VLAN_TPID : SKF_AD_VLAN_TAG)));
		emit(p, in.k % 2 ? STMT(BPF_ALU | BPF_AND | BPF_K, 0xff)
				 : STMT(BPF_ALU | BPF_RSH | BPF_K, 8));
		emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, 0xf));
		emit(p, STMT(BPF_ALU | BPF_LSH | BPF_K, 2));
		emit(p, STMT(BPF_MISC | BPF_TAX, 0));
		return emit(p, STMT(BPF_LD | BPF_MEM, SCRATCH));
	}
	if (in.code == (BPF_LD | BPF_W | BPF_LEN)) {
		r = emit(p, in);
		return r ? r : emit(p, STMT(BPF_ALU | BPF_ADD | BPF_K, 4));
	}
	if (in.code == (BPF_LDX | BPF_W | BPF_LEN)) {
		emit(p, STMT(BPF_ST, SCRATCH));
		emit(p, in);
		emit(p, STMT(BPF_MISC | BPF_TXA, 0));
		emit(p, STMT(BPF_ALU | BPF_ADD | BPF_K, 4));
		emit(p, STMT(BPF_MISC | BPF_TAX, 0));
		return emit(p, STMT(BPF_LD | BPF_MEM, SCRATCH));
	}
	return emit(p, in);
}

/* Appends the rewritten copy of in[0..n) to p, with its jumps relocated. */
static int append_tagged_view(struct prog *p, const struct sock_filter *in, unsigned int n)
{
	unsigned int *first = calloc(n + 1, sizeof(*first)), *last = calloc(n, sizeof(*last));
	int r = first && last ? 0 : -ENOMEM;

	/* the rewrite borrows the last scratch word; libpcap rarely gets that far */
	for (unsigned int i = 0; r == 0 && i < n; i++) {
		unsigned int cls = BPF_CLASS(in[i].code);

		if ((cls == BPF_ST || cls == BPF_STX ||
		     ((cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(in[i].code) == BPF_MEM)) &&
		    in[i].k == SCRATCH)
			r = -EOPNOTSUPP;
	}

	for (unsigned int i = 0; r == 0 && i < n; i++) {
		first[i] = p->n;
		r = expand(p, in[i]);
		last[i] = p->n - 1;
	}
	if (r == 0)
		first[n] = p->n;
	for (unsigned int i = 0; r == 0 && i < n; i++) {
		struct sock_filter *j = &p->f[last[i]];
		unsigned int at = last[i] + 1;

		if (BPF_CLASS(in[i].code) != BPF_JMP)
			continue;
		if (BPF_OP(in[i].code) == BPF_JA) {
			j->k = first[i + 1 + in[i].k] - at;
		} else {
			unsigned int jt = first[i + 1 + in[i].jt] - at, jf = first[i + 1 + in[i].jf] - at;

			if (jt > 255 || jf > 255)
				r = -E2BIG;
			j->jt = (uint8_t)jt;
			j->jf = (uint8_t)jf;
		}
	}
	free(first);
	free(last);
	return r;
}

static void sample_block(struct prog *p, unsigned int n)
{
	emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ANC(SKF_AD_RANDOM)));
	emit(p, STMT(BPF_ALU | BPF_MOD | BPF_K, n));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
	emit(p, STMT(BPF_RET | BPF_K, ACCEPT));
	emit(p, STMT(BPF_RET | BPF_K, 0));
}

/*
 * The whole program:
 *     ld vlanp; jeq #1 -> tagged view; ja -> in-band program
 *     tagged view ...
 *     in-band program ...
 *     [sampling block, where every accepting return now jumps]
 */
static int assemble(const struct sock_filter *in, unsigned int n, unsigned int sample,
		    struct prog *p, bool *tagged_view)
{
	unsigned int body;
	int r = 0;

	*tagged_view = false;
	if (in) {
		struct prog view = { 0 };

		r = append_tagged_view(&view, in, n);
		if (r == 0) {
			emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ANC(SKF_AD_VLAN_TAG_PRESENT)));
			emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0));
			emit(p, STMT(BPF_JMP | BPF_JA, view.n));
			for (unsigned int i = 0; i < view.n; i++)
				emit(p, view.f[i]);
			*tagged_view = true;
		} else if (r != -EOPNOTSUPP && r != -E2BIG) {
			free(view.f);
			return r;
		}
		free(view.f);
		for (unsigned int i = 0; i < n; i++)
			emit(p, in[i]);
	}
	body = p->n;
	if (sample > 1) {
		for (unsigned int i = 0; i < body; i++)
			if (BPF_CLASS(p->f[i].code) == BPF_RET && p->f[i].k != 0)
				p->f[i] = STMT(BPF_JMP | BPF_JA, body - i - 1);
		sample_block(p, sample);
	}
	return p->oom ? -ENOMEM : 0;
}

/*
 * What libpcap made of each expression this process compiled, kept: the
 * front ends compile every expression before they take the lock
 * (ifm_match_check), since libpcap's optimizer may take a while, and the
 * operations under the lock find the program here. A bad expression is
 * kept with libpcap's complaint, so it is told the same way every time.
 */
struct compiled {
	struct compiled *next;
	char *expr;
	struct sock_filter *insns;   /* NULL: libpcap refused it */
	unsigned int len;
	char *error;
};
static struct compiled *compiled;

static int compile(const char *expr, const struct compiled **out)
{
	struct bpf_program bp = { 0 };
	struct compiled *c;
	pcap_t *handle;
	int r;

	for (c = compiled; c; c = c->next)
		if (!strcmp(c->expr, expr)) {
			*out = c;
			return 0;
		}
	if ((r = pcap_load()) < 0)
		return r;
	if (!(c = calloc(1, sizeof(*c))) || !(c->expr = strdup(expr)))
		goto oom;
	if (!(handle = pc.open_dead(DLT_EN10MB, 262144)))
		goto oom;
	if (pc.compile(handle, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		c->error = strdup(pc.geterr(handle));
		pc.close(handle);
		if (!c->error)
			goto oom;
	} else {
		pc.close(handle);
		c->len = bp.bf_len;
		c->insns = calloc(bp.bf_len ? bp.bf_len : 1, sizeof(*c->insns));
		for (unsigned int i = 0; c->insns && i < bp.bf_len; i++) {
			const struct bpf_insn *in = &bp.bf_insns[i];

			c->insns[i] = (struct sock_filter){ in->code, in->jt, in->jf, in->k };
		}
		pc.freecode(&bp);
		if (!c->insns)
			goto oom;
	}
	c->next = compiled;
	compiled = c;
	*out = c;
	return 0;
oom:
	if (c)
		free(c->expr);
	free(c);
	return -ENOMEM;
}

int ifm_match_build(const char *dev, const char *expr, unsigned int sample,
		    struct ifm_match *m, const char *what)
{
	const struct compiled *c = NULL;
	struct prog p = { 0 };
	bool tagged_view = false;
	int r;

	(void)dev;
	memset(m, 0, sizeof(*m));
	m->sample = sample > 1 ? sample : 1;
	if (!expr && m->sample == 1)
		return 0; /* match-all: no program, the cheapest classifier */
	if (expr && strlen(expr) > IFM_MATCH_MAX) {
		/* the bound on libpcap's time, for every front end */
		ifm_err("%s '%.60s': longer than %d bytes", what, expr, IFM_MATCH_MAX);
		return -IFM_EBADEXPR;
	}
	if (expr && (r = compile(expr, &c)) < 0) {
		if (r == -ENOMEM)
			ifm_err("%s '%.60s': %s", what, expr, strerror(-r));
		return r;
	}
	if (c && !c->insns) {
		ifm_err("%s '%.60s': %s", what, expr, c->error);
		return -IFM_EBADEXPR;
	}
	r = assemble(c ? c->insns : NULL, c ? c->len : 0, m->sample, &p, &tagged_view);
	if (r < 0) {
		free(p.f);
		ifm_err("%s '%.60s': %s", what, expr ? expr : "", strerror(-r));
		return r;
	}
	if (expr && !tagged_view)
		ifm_notice("--match '%.60s': frames whose VLAN tag the kernel took out are matched "
			   "as if untagged", expr);
	if (p.n > IFM_MATCH_INSNS_MAX) {
		free(p.f);
		ifm_err("%s '%.60s': compiles to %u instructions, more than the %d that a filter "
			"can hold", what, expr, p.n, IFM_MATCH_INSNS_MAX);
		return -IFM_EBADEXPR;
	}
	m->insns = p.f;
	m->len = p.n;
	m->hash = ifm_match_hash(m->insns, m->len);
	if (expr && !(m->expr = strdup(expr))) {
		ifm_match_free(m);
		ifm_err("%s '%.60s': %s", what, expr, strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

void ifm_match_prepare(const char *expr)
{
	const struct compiled *c;

	if (expr && strlen(expr) <= IFM_MATCH_MAX)
		compile(expr, &c);
}

/* Compiles now, before the lock; ifm_match_build finds it done. */
int ifm_match_check(const char *expr, unsigned int sample, const char *what)
{
	bool was = ifm_quiet_set(true); /* errors only: the notices come when it is used */
	struct ifm_match m;
	int r = ifm_match_build(NULL, expr, sample, &m, what);

	ifm_match_free(&m);
	ifm_quiet_set(was);
	return r;
}

void ifm_match_free(struct ifm_match *m)
{
	free(m->insns);
	free(m->expr);
	memset(m, 0, sizeof(*m));
}

uint64_t ifm_match_hash(const struct sock_filter *insns, unsigned int len)
{
	const unsigned char *b = (const unsigned char *)insns;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < (size_t)len * sizeof(*insns); i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

unsigned int ifm_match_sample_of(const struct sock_filter *insns, unsigned int len)
{
	if (len < SAMPLE_BLOCK)
		return 1;
	insns += len - SAMPLE_BLOCK;
	if (insns[0].code == (BPF_LD | BPF_W | BPF_ABS) && insns[0].k == ANC(SKF_AD_RANDOM) &&
	    insns[1].code == (BPF_ALU | BPF_MOD | BPF_K))
		return insns[1].k;
	return 1;
}

/* Whether the program is more than the sampling block: an expression. */
bool ifm_match_has_expr(unsigned int len, unsigned int sample)
{
	return len > (sample > 1 ? SAMPLE_BLOCK : 0u);
}
