/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit tests' one assertion: counts checks, reports each failure. */
#ifndef IFMIRROR_UNIT_CHECK_H
#define IFMIRROR_UNIT_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond)                                                             \
	do {                                                                    \
		checks++;                                                       \
		if (!(cond)) {                                                  \
			failures++;                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,  \
				__LINE__, #cond);                               \
		}                                                               \
	} while (0)

/* main's last line: the count, and the exit status */
#define CHECK_DONE(name)                                                        \
	(printf("%s: %d checks, %d failed\n", (name), checks, failures),       \
	 (failures || !checks) ? 1 : 0)

#endif
