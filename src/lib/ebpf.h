/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bpf() system call for ifmirror's own eBPF programs (snaplen.c, the
 * budget's bucket.c): assembled in C, loaded without a compiler or libbpf.
 */
#ifndef IFMIRROR_EBPF_H
#define IFMIRROR_EBPF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

static inline struct bpf_insn ifm_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
				       int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

/* bpf(cmd, attr): its result, or -errno */
int ifm_bpf(int cmd, union bpf_attr *attr);

/* n instructions as a sched_cls program named name: its fd, or -errno; then,
 * when log is not NULL, the verifier's last line (its reason) in log */
int ifm_bpf_prog_load(const struct bpf_insn *p, int n, const char *name, char *log,
		      size_t loglen);

#endif
