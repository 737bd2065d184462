/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report sink: the library prints nothing itself. Its lines go through
 * the sink the front end sets up: the program's label, quiet, and where the
 * lines go (by default: information on stdout, the rest on stderr).
 */
#ifndef IFMIRROR_REPORT_H
#define IFMIRROR_REPORT_H

#include <stdbool.h>
#include <stddef.h>

enum ifm_level {
	IFM_LEVEL_ERROR,    /* "PROG: text", stderr */
	IFM_LEVEL_WARNING,  /* "PROG: warning: text", stderr, after stdout is flushed */
	IFM_LEVEL_NOTICE,   /* "PROG: notice: text", stderr; not when quiet */
	IFM_LEVEL_INFO,     /* "text", stdout; not when quiet: what was done */
	IFM_LEVEL_OUTPUT,   /* "text", stdout, always: what was asked for (a dry run) */
};

struct ifm_report {
	const char *prog;
	bool quiet;
	/* NULL: the default channels above; text has no newline */
	void (*line)(enum ifm_level level, const char *text, void *arg);
	void *arg;
};

/* The front end's sink; a copy is kept. */
void ifm_report_set(const struct ifm_report *r);
const char *ifm_report_prog(void);
bool ifm_quiet(void);
/* no line at all, errors included, until unmuted; returns what it was (a
 * step done early whose errors come again when it is done for real) */
bool ifm_report_mute(bool mute);
/* sets quiet, returns what it was (for a step whose chatter nobody asked for) */
bool ifm_quiet_set(bool quiet);

/*
 * Every line is one line: control bytes become \n, \t, \r or \xNN (a name
 * with a newline is refused in one line). Writes at most len - 1 bytes of in,
 * escaped, and a NUL into out; returns the length.
 */
size_t ifm_report_escape(const char *in, char *out, size_t len);

void ifm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ifm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ifm_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ifm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ifm_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
