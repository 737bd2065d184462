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

void ifm_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}
