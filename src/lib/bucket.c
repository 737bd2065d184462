// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A copy budget as an eBPF token bucket, for kernels without act_police:
 * copies over the budget are never made, as with police, instead of made
 * and then dropped by a shaper in the source's own path (bench/README.md:
 * the shaper cost the source 0.72-0.79 of its throughput, this 0.9-1.0).
 *
 * The bucket is two maps: "ifm_bucket", an array of one element (GCRA's
 * theoretical arrival time, the rate as nanoseconds per byte << 16, the
 * burst in nanoseconds), and "ifm_budget_cnt", per-CPU counters (copies not
 * made; copies and bytes that passed). A session's filter into the budgeted
 * device is cls_bpf (not direct-action) with the bucket program as its
 * classifier and the mirred as its action: the program returns -1 (a match:
 * the mirred runs) while the copy fits, and 0 (no match: no copy, the next
 * filter runs) when it does not. The source's frame is never dropped,
 * delayed or changed. A bucket already spent is seen by a read alone; one
 * with room is taken with cmpxchg and fetch-add (BPF atomics, kernel 5.12).
 *
 * Who holds the maps: a "holder" program of three instructions that uses
 * both and returns "continue", attached direct-action on the budgeted
 * device's own clsact egress, named "ifmirror-budget" (marks.h). It goes
 * with the device, and the sessions' programs find the maps through it (its
 * program id, the program's map ids): no file in bpffs, nothing that a kill
 * -9 could leave behind (a map lives while a program or descriptor uses it;
 * the kernel frees it with the last). Setting the rate writes the map, so
 * every session follows at once; removing the budget writes rate 0 (the
 * sessions' programs copy everything) and deletes the holder.
 *
 * What a copy costs the bucket: its length as the mirred sends it. At the
 * ingress hook the kernel's skb->len lacks the link-layer header that mirred
 * puts back (14 bytes on Ethernet), so the program adds 14 there (it knows
 * ingress by the frame's ingress ifindex being the device's own); on a
 * device without such a header that charges 14 bytes a copy too many: a
 * copy budget errs toward fewer copies, never more.
 */
#include "ifmirror.h"
#include "ebpf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the bucket map's one element */
struct bucket {
	uint64_t tat;             /* GCRA's theoretical arrival time, ns (CLOCK_MONOTONIC) */
	uint64_t ns_per_byte_q16; /* 0: no budget, every copy passes */
	uint64_t burst_ns;
};

/* the counters, per CPU */
struct bucket_cnt {
	uint64_t not_made, packets, bytes;
};

#define MAP_BUCKET "ifm_bucket"
#define MAP_CNT "ifm_budget_cnt"

static int map_create(uint32_t type, uint32_t value_size, const char *name)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = sizeof(uint32_t);
	a.value_size = value_size;
	a.max_entries = 1;
	snprintf(a.map_name, sizeof(a.map_name), "%s", name);
	return ifm_bpf(BPF_MAP_CREATE, &a);
}

/* dst = the map of fd (two instructions) */
#define LD_MAP(p, dst, fd)                                                             \
	do {                                                                           \
		(p)[n++] = ifm_insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd); \
		(p)[n++] = ifm_insn(0, 0, 0, 0, 0);                                        \
	} while (0)
#define I(...) (p[n++] = ifm_insn(__VA_ARGS__))
#define MOV_K(d, k) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define MOV_X(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define LDX(sz, d, s, o) I(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) I(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define CALL(f) I(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* a forward jump to label l, patched by LABEL(l) */
#define JMP(op, d, src_or_k, x, l) (fix[nfix].at = n, fix[nfix++].label = (l), \
				     I(BPF_JMP | (op) | (x), d, (x) == BPF_X ? (src_or_k) : 0, 0, \
				       (x) == BPF_K ? (src_or_k) : 0))
#define LABEL(l) (label[l] = n)
/* r0 = this CPU's counters (key 0 at fp-4), or on to label l when none */
#define CNT_LOOKUP(fd, l)                                                              \
	do {                                                                           \
		LD_MAP(p, BPF_REG_1, fd);                                              \
		MOV_X(BPF_REG_2, BPF_REG_10);                                          \
		I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);                  \
		CALL(BPF_FUNC_map_lookup_elem);                                        \
		JMP(BPF_JEQ, BPF_REG_0, 0, BPF_K, l);                                  \
	} while (0)
/* the counter at r0 + off += 1 (per CPU: no atomics needed) */
#define CNT_INC(off)                                                                   \
	do {                                                                           \
		LDX(BPF_DW, BPF_REG_1, BPF_REG_0, off);                                \
		I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 1);                   \
		STX(BPF_DW, BPF_REG_0, BPF_REG_1, off);                                \
	} while (0)

enum { L_COPY, L_ADD, L_UNDO, L_SKIP, L_NOCNT, L_CHARGED, L_N };

/*
 * The session's classifier: -1 copies (the mirred runs), 0 does not. r6 the
 * frame, r7 the bucket, r8 the cost in ns, r9 now + burst.
 */
static int bucket_program(int bucket_fd, int cnt_fd, struct bpf_insn *p)
{
	struct { int at, label; } fix[16];
	int label[L_N], n = 0, nfix = 0;

	MOV_X(BPF_REG_6, BPF_REG_1);
	I(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0); /* key 0 */
	MOV_X(BPF_REG_2, BPF_REG_10);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	LD_MAP(p, BPF_REG_1, bucket_fd);
	CALL(BPF_FUNC_map_lookup_elem);
	JMP(BPF_JEQ, BPF_REG_0, 0, BPF_K, L_COPY);
	MOV_X(BPF_REG_7, BPF_REG_0);
	LDX(BPF_DW, BPF_REG_3, BPF_REG_7, offsetof(struct bucket, ns_per_byte_q16));
	JMP(BPF_JEQ, BPF_REG_3, 0, BPF_K, L_COPY); /* no budget (being removed) */
	/* the cost: (len [+ 14 at ingress]) * ns per byte */
	LDX(BPF_W, BPF_REG_8, BPF_REG_6, offsetof(struct __sk_buff, len));
	LDX(BPF_W, BPF_REG_4, BPF_REG_6, offsetof(struct __sk_buff, ingress_ifindex));
	LDX(BPF_W, BPF_REG_5, BPF_REG_6, offsetof(struct __sk_buff, ifindex));
	JMP(BPF_JNE, BPF_REG_4, BPF_REG_5, BPF_X, L_CHARGED);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_8, 0, 0, 14);
	LABEL(L_CHARGED);
	I(BPF_ALU64 | BPF_MUL | BPF_X, BPF_REG_8, BPF_REG_3, 0, 0);
	I(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_8, 0, 0, 16);
	CALL(BPF_FUNC_ktime_get_ns);
	MOV_X(BPF_REG_5, BPF_REG_0);                            /* now */
	LDX(BPF_DW, BPF_REG_9, BPF_REG_7, offsetof(struct bucket, burst_ns));
	I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_9, BPF_REG_5, 0, 0); /* now + burst */
	LDX(BPF_DW, BPF_REG_0, BPF_REG_7, offsetof(struct bucket, tat));
	JMP(BPF_JGT, BPF_REG_0, BPF_REG_9, BPF_X, L_SKIP);      /* spent: no write */
	JMP(BPF_JGE, BPF_REG_0, BPF_REG_5, BPF_X, L_ADD);
	/* an idle bucket starts from now (r0 is the value expected) */
	I(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_5, offsetof(struct bucket, tat),
	  BPF_CMPXCHG);
	LABEL(L_ADD);
	MOV_X(BPF_REG_1, BPF_REG_8);
	I(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, offsetof(struct bucket, tat),
	  BPF_ADD | BPF_FETCH);
	I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_1, BPF_REG_8, 0, 0);
	JMP(BPF_JGT, BPF_REG_1, BPF_REG_9, BPF_X, L_UNDO);
	/* it fits: counted, copied */
	CNT_LOOKUP(cnt_fd, L_COPY);
	CNT_INC(offsetof(struct bucket_cnt, packets));
	LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct __sk_buff, len));
	LDX(BPF_DW, BPF_REG_1, BPF_REG_0, offsetof(struct bucket_cnt, bytes));
	I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0);
	STX(BPF_DW, BPF_REG_0, BPF_REG_1, offsetof(struct bucket_cnt, bytes));
	LABEL(L_COPY);
	MOV_K(BPF_REG_0, -1);
	EXIT();
	/* it did not fit: the cost given back */
	LABEL(L_UNDO);
	MOV_K(BPF_REG_1, 0);
	I(BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_1, BPF_REG_8, 0, 0);
	I(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_7, BPF_REG_1, offsetof(struct bucket, tat),
	  BPF_ADD);
	LABEL(L_SKIP);
	CNT_LOOKUP(cnt_fd, L_NOCNT);
	CNT_INC(offsetof(struct bucket_cnt, not_made));
	LABEL(L_NOCNT);
	MOV_K(BPF_REG_0, 0);
	EXIT();
	for (int i = 0; i < nfix; i++)
		p[fix[i].at].off = (int16_t)(label[fix[i].label] - fix[i].at - 1);
	return n;
}

/* the holder: uses both maps, does nothing ("continue") */
static int holder_program(int bucket_fd, int cnt_fd, struct bpf_insn *p)
{
	int n = 0;

	LD_MAP(p, BPF_REG_1, bucket_fd);
	LD_MAP(p, BPF_REG_1, cnt_fd);
	MOV_K(BPF_REG_0, -1); /* TC_ACT_UNSPEC: the next filter runs */
	EXIT();
	return n;
}

static void rate_of(unsigned long long bits, unsigned int burst, struct bucket *b)
{
	uint64_t bps = bits / 8;

	memset(b, 0, sizeof(*b));
	if (!bps)
		return;
	/* rounded up: the bucket errs toward fewer copies */
	b->ns_per_byte_q16 = ((1000000000ULL << 16) + bps - 1) / bps;
	b->burst_ns = (uint64_t)burst * b->ns_per_byte_q16 >> 16;
}

/* element 0 of the map, read or written (BPF_ANY) */
static int map_elem(int cmd, int fd, const void *value)
{
	union bpf_attr a;
	uint32_t key = 0;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = cmd == BPF_MAP_UPDATE_ELEM ? BPF_ANY : 0;
	return ifm_bpf(cmd, &a);
}
#define map_write(fd, b) map_elem(BPF_MAP_UPDATE_ELEM, fd, b)
#define map_read(fd, v) map_elem(BPF_MAP_LOOKUP_ELEM, fd, v)

static void maps_close(struct ifm_bucket *k)
{
	if (k->bucket_fd >= 0)
		close(k->bucket_fd);
	if (k->cnt_fd >= 0)
		close(k->cnt_fd);
	k->bucket_fd = k->cnt_fd = -1;
}

int ifm_bucket_new(unsigned long long bits, unsigned int burst, struct ifm_bucket *k,
		   char *log, size_t loglen)
{
	struct bpf_insn p[8];
	struct bucket b;
	int n, r;

	k->bucket_fd = k->cnt_fd = k->holder_fd = -1;
	if ((r = k->bucket_fd = map_create(BPF_MAP_TYPE_ARRAY, sizeof(struct bucket), MAP_BUCKET)) < 0 ||
	    (r = k->cnt_fd = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct bucket_cnt),
					 MAP_CNT)) < 0)
		goto fail;
	rate_of(bits, burst, &b);
	if ((r = map_write(k->bucket_fd, &b)) < 0)
		goto fail;
	n = holder_program(k->bucket_fd, k->cnt_fd, p);
	if ((r = k->holder_fd = ifm_bpf_prog_load(p, n, "ifm_budget", log, loglen)) < 0)
		goto fail;
	return 0;
fail:
	maps_close(k);
	k->holder_fd = -1;
	return r;
}

static int obj_info(int fd, void *info, uint32_t len)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = len;
	a.info.info = (uint64_t)(uintptr_t)info;
	return ifm_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
}

int ifm_bucket_open(uint32_t holder_id, struct ifm_bucket *k)
{
	struct bpf_prog_info pi;
	uint32_t ids[4] = { 0 }; /* the kernel fills them (valgrind cannot tell) */
	union bpf_attr a;
	int prog, r = -ENOENT;

	k->bucket_fd = k->cnt_fd = k->holder_fd = -1;
	memset(&a, 0, sizeof(a));
	a.prog_id = holder_id;
	if ((prog = ifm_bpf(BPF_PROG_GET_FD_BY_ID, &a)) < 0)
		return prog;
	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = 4;
	pi.map_ids = (uint64_t)(uintptr_t)ids;
	if ((r = obj_info(prog, &pi, sizeof(pi))) < 0)
		goto out;
	r = -ENOENT;
	for (uint32_t i = 0; i < pi.nr_map_ids && i < 4; i++) {
		struct bpf_map_info mi;
		int fd;

		memset(&a, 0, sizeof(a));
		a.map_id = ids[i];
		if ((fd = ifm_bpf(BPF_MAP_GET_FD_BY_ID, &a)) < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (obj_info(fd, &mi, sizeof(mi)) < 0)
			close(fd);
		else if (!strcmp(mi.name, MAP_BUCKET) && mi.type == BPF_MAP_TYPE_ARRAY &&
			 mi.value_size == sizeof(struct bucket) && k->bucket_fd < 0)
			k->bucket_fd = fd;
		else if (!strcmp(mi.name, MAP_CNT) && mi.type == BPF_MAP_TYPE_PERCPU_ARRAY &&
			 mi.value_size == sizeof(struct bucket_cnt) && k->cnt_fd < 0)
			k->cnt_fd = fd;
		else
			close(fd);
	}
	if (k->bucket_fd >= 0 && k->cnt_fd >= 0)
		r = 0;
	else
		maps_close(k);
out:
	close(prog);
	return r;
}

void ifm_bucket_close(struct ifm_bucket *k)
{
	maps_close(k);
	if (k->holder_fd >= 0)
		close(k->holder_fd);
	k->holder_fd = -1;
}

int ifm_bucket_program(const struct ifm_bucket *k, char *log, size_t loglen)
{
	struct bpf_insn p[96];
	int n = bucket_program(k->bucket_fd, k->cnt_fd, p);

	return ifm_bpf_prog_load(p, n, "ifm_bucket", log, loglen);
}

int ifm_bucket_set(const struct ifm_bucket *k, unsigned long long bits, unsigned int burst)
{
	struct bucket b, now;

	rate_of(bits, burst, &b);
	/* the sessions' budget already spent carries over */
	if (map_read(k->bucket_fd, &now) == 0)
		b.tat = now.tat;
	return map_write(k->bucket_fd, &b);
}

/* how many values a per-CPU map has: one per possible CPU */
static long possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	long lo, hi, n = 0;
	int c;

	if (!f)
		return 4096;
	while (fscanf(f, "%ld", &lo) == 1) {
		hi = lo;
		if ((c = fgetc(f)) == '-' && fscanf(f, "%ld", &hi) == 1)
			c = fgetc(f);
		n += hi >= lo ? hi - lo + 1 : 0;
		if (c != ',')
			break;
	}
	fclose(f);
	return n > 0 && n <= 65536 ? n : 4096;
}

int ifm_bucket_read(const struct ifm_bucket *k, struct ifm_bucket_state *st)
{
	long ncpu = possible_cpus();
	struct bucket_cnt *c;
	struct bucket b;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = map_read(k->bucket_fd, &b)) < 0)
		return r;
	if (b.ns_per_byte_q16) {
		/* back to what was set: bytes per second, rounded to whole bytes */
		uint64_t bps = ((1000000000ULL << 16) + b.ns_per_byte_q16 / 2) / b.ns_per_byte_q16;

		st->bits = bps * 8;
		st->burst = (unsigned int)(((b.burst_ns << 16) + b.ns_per_byte_q16 - 1) /
					   b.ns_per_byte_q16);
	}
	if (!(c = calloc((size_t)ncpu, sizeof(*c))))
		return -ENOMEM;
	if ((r = map_read(k->cnt_fd, c)) == 0)
		for (long i = 0; i < ncpu; i++) {
			st->not_made += c[i].not_made;
			st->packets += c[i].packets;
			st->bytes += c[i].bytes;
		}
	free(c);
	return r;
}

int ifm_bucket_probe(void)
{
	struct ifm_bucket k;
	int r;

	if ((r = ifm_bucket_new(8000000, 65536, &k, NULL, 0)) < 0)
		return r;
	if ((r = ifm_bucket_program(&k, NULL, 0)) >= 0) {
		close(r);
		r = 0;
	}
	ifm_bucket_close(&k);
	return r;
}

bool ifm_bucket_usable(void)
{
	static int usable = -1;

	if (ifm_avoid("bucket"))
		return false;
	if (usable < 0)
		usable = ifm_bucket_probe() == 0;
	return usable;
}
