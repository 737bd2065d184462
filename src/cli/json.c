// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON output of status and check: strings, escaped. Interface names are
 * bytes, not text: the output stays valid UTF-8 JSON for any of them. Valid
 * UTF-8 passes as is; '"', '\' and control bytes are escaped; each byte that
 * is not part of a well-formed UTF-8 sequence is written as \u00XX, XX being
 * the byte (so "\xff" reads back as U+00FF).
 */
#include "cli.h"

#include <stdio.h>

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 when none. */
size_t ifm_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

void ifm_json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putchar('"');
	while (*s) {
		size_t n = ifm_utf8_len(s);

		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s);
		} else if (*s < 0x20 || *s == 0x7f || n == 0) {
			printf("\\u%04x", *s);
			n = 1;
		} else {
			fwrite(s, 1, n, stdout);
		}
		s += n ? n : 1;
	}
	putchar('"');
}
