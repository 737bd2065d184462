// SPDX-License-Identifier: GPL-2.0-or-later
/* The report sink: every line the library has for its user goes through here. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>

static struct ifm_report sink = { .prog = "ifmirror" };

void ifm_report_set(const struct ifm_report *r)
{
	sink = *r;
	if (!sink.prog)
		sink.prog = "ifmirror";
}

const char *ifm_report_prog(void)
{
	return sink.prog;
}

bool ifm_quiet(void)
{
	return sink.quiet;
}

bool ifm_quiet_set(bool quiet)
{
	bool was = sink.quiet;

	sink.quiet = quiet;
	return was;
}

static void emit(enum ifm_level level, const char *fmt, va_list ap)
{
	static const char *const tag[] = {
		[IFM_LEVEL_WARNING] = "warning: ",
		[IFM_LEVEL_NOTICE] = "notice: ",
	};
	char text[2048];

	if (sink.quiet && (level == IFM_LEVEL_NOTICE || level == IFM_LEVEL_INFO))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (sink.line) {
		sink.line(level, text, sink.arg);
	} else if (level >= IFM_LEVEL_INFO) {
		printf("%s\n", text);
	} else {
		if (level == IFM_LEVEL_WARNING)
			fflush(stdout);
		fprintf(stderr, "%s: %s%s\n", sink.prog, tag[level] ? tag[level] : "", text);
	}
}

#define EMITTER(name, level)                    \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		emit(level, fmt, ap);           \
		va_end(ap);                     \
	}

EMITTER(ifm_err, IFM_LEVEL_ERROR)
EMITTER(ifm_warn, IFM_LEVEL_WARNING)
EMITTER(ifm_notice, IFM_LEVEL_NOTICE)
EMITTER(ifm_info, IFM_LEVEL_INFO)
EMITTER(ifm_out, IFM_LEVEL_OUTPUT)
