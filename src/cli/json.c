// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON output of status and check: strings, escaped. */
#include "cli.h"

#include <stdio.h>

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
