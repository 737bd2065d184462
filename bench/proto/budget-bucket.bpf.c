// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A prototype, not built by the project: a copy budget as an eBPF token
 * bucket (GCRA) in a cls_bpf classifier, not direct-action (-1: the
 * filter's mirred runs; 0: no match, no copy). Measured against the tbf
 * shaper in bench/README.md ("A prototype: an eBPF token bucket"). Built
 * with clang -O2 -g -target bpf -mcpu=v3 (libbpf-dev for bpf_helpers.h);
 * the map holds the rate as ns per byte << 16 and the burst in ns.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bucket { __u64 tat; __u64 ns_per_byte_q16; __u64 burst_ns; __u64 drops; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32);
	 __type(value, struct bucket); __uint(pinning, LIBBPF_PIN_BY_NAME); } ifm_budget SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32);
	 __type(value, __u64); __uint(pinning, LIBBPF_PIN_BY_NAME); } ifm_drops SEC(".maps");
SEC("classifier")
int budget(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct bucket *b = bpf_map_lookup_elem(&ifm_budget, &k);
	__u64 now, cost, tat, prev, *d;

	if (!b || !b->ns_per_byte_q16)
		return 0;
	now = bpf_ktime_get_ns();
	cost = ((__u64)skb->len * b->ns_per_byte_q16) >> 16;
	tat = b->tat;
	if (tat > now + b->burst_ns)   /* spent: no write to the shared line */
		goto drop;
	if (tat < now)
		__sync_val_compare_and_swap(&b->tat, tat, now);
	prev = __sync_fetch_and_add(&b->tat, cost);
	if (prev + cost > now + b->burst_ns) {
		__sync_fetch_and_add(&b->tat, -cost);
		goto drop;
	}
	return -1;
drop:
	d = bpf_map_lookup_elem(&ifm_drops, &k);
	if (d)
		*d += 1;
	return 0;
}
char _license[] SEC("license") = "GPL";
