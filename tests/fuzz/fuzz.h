/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every fuzzer shares: a silent report sink, the input as C strings. */
#ifndef IFMIRROR_FUZZ_H
#define IFMIRROR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_discard(enum ifm_level level, const char *text, void *arg)
{
	/* every line is one line, whatever the input held */
	(void)level;
	(void)arg;
	if (strchr(text, '\n'))
		abort();
}

static inline void fuzz_quiet(void)
{
	ifm_report_set(&(struct ifm_report){ .prog = "fuzz", .line = fuzz_discard });
}

/*
 * Splits data at NUL bytes into at most max fields (NUL-terminated copies
 * in one block, freed by the caller); missing fields are NULL.
 */
static inline char *fuzz_fields(const uint8_t *data, size_t size, const char **f, int max)
{
	char *buf = malloc(size + 1);
	int n = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (int i = 0; i < max; i++)
		f[i] = NULL;
	for (char *p = buf; n < max && p <= buf + size; p += strlen(p) + 1)
		f[n++] = p;
	return buf;
}

#endif
