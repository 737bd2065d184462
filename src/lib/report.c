// SPDX-License-Identifier: GPL-2.0-or-later
/* The report sink: every line the library has for its user goes through here. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

static bool muted;

bool ifm_report_mute(bool mute)
{
	bool was = muted;

	muted = mute;
	return was;
}

bool ifm_quiet_set(bool quiet)
{
	bool was = sink.quiet;

	sink.quiet = quiet;
	return was;
}

size_t ifm_report_escape(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && n + 5 < len; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			out[n++] = (char)*p;
		else if (*p == '\n' || *p == '\t' || *p == '\r')
			n += (size_t)snprintf(out + n, len - n, "\\%c",
					      *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
		else
			n += (size_t)snprintf(out + n, len - n, "\\x%02x", *p);
	}
	if (len)
		out[n] = '\0';
	return n;
}

static void emit(enum ifm_level level, const char *fmt, va_list ap)
{
	static const char *const tag[] = {
		[IFM_LEVEL_WARNING] = "warning: ",
		[IFM_LEVEL_NOTICE] = "notice: ",
	};
	char raw[2048], text[2048 * 4];

	if (muted)
		return;
	if (sink.quiet && (level == IFM_LEVEL_NOTICE || level == IFM_LEVEL_INFO))
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	if (level >= IFM_LEVEL_INFO && strchr(raw, '\n')) {
		/* what a command prints may be several lines (a plan, a report):
		 * each is escaped on its own */
		char *line = raw, *nl;

		do {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (nl && !nl[1])
				nl = NULL; /* a trailing newline ends the last line */
			ifm_report_escape(line, text, sizeof(text));
			if (sink.line)
				sink.line(level, text, sink.arg);
			else
				printf("%s\n", text);
			line = nl ? nl + 1 : NULL;
		} while (line);
		return;
	}
	/* one line each, whatever bytes a name or value held */
	ifm_report_escape(raw, text, sizeof(text));
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
