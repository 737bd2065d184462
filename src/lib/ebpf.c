// SPDX-License-Identifier: GPL-2.0-or-later
/* ebpf.c: the bpf() system call, and a program loaded with the verifier's reason. */
#include "ebpf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int ifm_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return r < 0 ? -errno : (int)r;
}

/* The verifier's log only on failure: a log too small for the whole
 * verification makes the load itself fail (ENOSPC), and its last line is the
 * reason. */
int ifm_bpf_prog_load(const struct bpf_insn *p, int n, const char *name, char *log,
		      size_t loglen)
{
	union bpf_attr a;
	char *last, *end;
	int r, fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	a.insns = (uint64_t)(uintptr_t)p;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	snprintf(a.prog_name, sizeof(a.prog_name), "%s", name);
	if (log && loglen)
		log[0] = '\0';
	if ((r = ifm_bpf(BPF_PROG_LOAD, &a)) >= 0 || !log || loglen < 2)
		return r;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)loglen;
	a.log_level = 1;
	if ((fd = ifm_bpf(BPF_PROG_LOAD, &a)) >= 0) /* it passed the second time */
		return fd;
	log[loglen - 1] = '\0';
	end = log + strlen(log);
	while (end > log && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	last = strrchr(log, '\n');
	if (last)
		memmove(log, last + 1, strlen(last + 1) + 1);
	return r;
}
