// SPDX-License-Identifier: GPL-2.0-or-later
/* The one-line error format every command uses: "ifmirror: what: why". */
#include "ifmirror.h"

#include <stdarg.h>
#include <stdio.h>

const char *ifm_prog = "ifmirror";

void ifm_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ifm_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
