// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror watch [--config FILE] [-q]
 *
 * Keeps the kernel equal to the file while devices come and go: it converges
 * like `apply`, then sleeps in poll() (no timeout) on the kernel's link
 * events and its signals. Each wake-up reads every event waiting, and when
 * a link came, went, was renamed or changed its master, runs the same
 * ifm_apply() again, under the lock for that run only. SIGHUP reads the file
 * again (a broken one is reported and the previous plan kept), SIGTERM and
 * SIGINT end it with the mirrors left as they are, an overrun of the event
 * socket (ENOBUFS) is a resync. Everything goes to stderr (journald): one
 * line per change; an error or notice that every run repeats is said once,
 * until it changes.
 */
#include "cli.h"
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/ifmirror.conf"

/* the lines other than changes, of this run and the one before */
struct lines {
	char **v;
	int n, cap;
};
static struct lines said_before, said_now;

static bool said(const struct lines *l, const char *text)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], text))
			return true;
	return false;
}

static void lines_clear(struct lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void sink_line(enum ifm_level level, const char *text, void *arg)
{
	static const char *const tag[] = { "", "warning: ", "notice: " };
	char **g;

	(void)arg;
	if (level >= IFM_LEVEL_INFO) {
		fprintf(stderr, "%s\n", text);
		return;
	}
	if (!said(&said_now, text)) {
		if (said_now.n == said_now.cap) {
			said_now.cap = said_now.cap ? said_now.cap * 2 : 16;
			g = realloc(said_now.v, (size_t)said_now.cap * sizeof(*g));
			if (g)
				said_now.v = g;
		}
		if (said_now.n < said_now.cap && (said_now.v[said_now.n] = strdup(text)))
			said_now.n++;
	}
	if (!said(&said_before, text))
		fprintf(stderr, "ifmirror: %s%s\n", tag[level], text);
}

/* a run: what it said becomes what was said before */
static void run_done(void)
{
	struct lines t;

	lines_clear(&said_before);
	t = said_before;
	said_before = said_now;
	said_now = t;
}

/*
 * The lock, waited for while SIGTERM and SIGINT still count: another command
 * may hold it for long (a hook of a slow ifup), and a watch told to stop
 * while it waits must stop then, having changed nothing. The lock has no
 * descriptor to poll, so it is tried again after a sleep that SIGTERM or
 * SIGINT end (1 ms, doubling up to 100 ms: only while another holds it).
 * The fd, -errno, or -EINTR with *sig set; SIGHUP stays pending.
 */
static int lock_or_signal(int *sig)
{
	long ns = 1000000;
	bool waited = false;
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	for (;;) {
		struct timespec ts = { 0, ns };
		siginfo_t si;
		int fd = ifm_lock_try(), s;

		if (fd != -EWOULDBLOCK)
			return fd;
		if (!waited)
			ifm_notice("waiting for the lock in %s (another command holds it)",
				   ifm_run_dir());
		waited = true;
		s = sigtimedwait(&stop, &si, &ts);
		if (s > 0) {
			*sig = s;
			return -EINTR;
		}
		if (ns < 100000000)
			ns *= 2;
	}
}

/* one run of apply under the lock: 0, or the signal (SIGTERM, SIGINT) that
 * came while it waited for the lock, nothing done */
static int converge(struct ifm_nl *nl, struct ifm_config *c)
{
	struct ifm_apply_result res;
	int sig = 0, lock = lock_or_signal(&sig), r;

	if (lock == -EINTR && sig)
		return sig;
	if (lock < 0) {
		ifm_err("cannot take the lock in %s: %s", ifm_run_dir(), strerror(-lock));
		run_done();
		return 0;
	}
	r = ifm_apply(nl, c, false, &res);
	ifm_unlock(lock);
	if (r < 0 && r != -EINVAL && r != -ELOOP)
		ifm_err("%s: not applied completely: %s", c->path,
			r == -EIO ? "some sessions failed (see above)" : strerror(-r));
	run_done();
	return 0;
}

static int signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* the signal waiting: SIGHUP, SIGTERM, SIGINT, or 0 */
static int next_signal(int sfd)
{
	struct signalfd_siginfo si;

	return read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

int cmd_watch(int argc, char *argv[])
{
	const char *path = DEFAULT_CONFIG;
	struct ifm_config c;
	struct ifm_watch w = { .fd = -1 };
	struct ifm_nl nl;
	bool quiet = false;
	int sfd, r, sig, ret = IFM_EXIT_RUNTIME;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			path = argv[i] + 9;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else {
			ifm_err("watch: unexpected argument '%.40s' (see ifmirror --help)", argv[i]);
			return IFM_EXIT_USAGE;
		}
	}
	ifm_report_set(&(struct ifm_report){ .prog = "ifmirror", .quiet = quiet,
					     .line = sink_line });
	if (ifm_config_load(path, &c) < 0)
		return IFM_EXIT_RUNTIME;
	if (apply_compile_matches(&c) < 0) {
		ifm_config_free(&c);
		return IFM_EXIT_RUNTIME;
	}
	if ((sfd = signals()) < 0) {
		ifm_err("watch: signals: %s", strerror(errno));
		ifm_config_free(&c);
		return IFM_EXIT_RUNTIME;
	}
	if (ifm_begin_read(&nl) < 0)
		goto out_sfd;
	/* subscribed before the first dump: nothing falls between the two */
	if ((r = ifm_watch_open(&w)) < 0 || (r = ifm_watch_sync(&w, &nl)) < 0) {
		ifm_err("watch: link events: %s", strerror(-r));
		goto out;
	}
	ifm_notice("watching %s (%d session%s); link events from the kernel", path, c.nsessions,
		   c.nsessions == 1 ? "" : "s");
	if ((sig = converge(&nl, &c)))
		goto stopped;
	for (;;) {
		struct pollfd p[2] = { { .fd = w.fd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ifm_err("watch: poll: %s", strerror(errno));
			goto out;
		}
		while ((sig = next_signal(sfd))) {
			struct ifm_config n;

			if (sig != SIGHUP) {
				ifm_notice("%s: exiting; the mirrors stay as they are", strsignal(sig));
				ret = IFM_EXIT_OK;
				goto out;
			}
			if (ifm_config_load(path, &n) < 0) {
				ifm_err("%s: not reloaded; the plan read before stays", path);
				continue;
			}
			if (apply_compile_matches(&n) < 0) {
				ifm_config_free(&n);
				ifm_err("%s: not reloaded; the plan read before stays", path);
				continue;
			}
			ifm_config_free(&c);
			c = n;
			ifm_notice("%s: reloaded (%d session%s)", path, c.nsessions,
				   c.nsessions == 1 ? "" : "s");
			/* every line may be said again after a reload */
			lines_clear(&said_before);
			if ((sig = converge(&nl, &c)))
				goto stopped;
		}
		if (!(p[0].revents & (POLLIN | POLLERR)))
			continue;
		r = ifm_watch_read(&w);
		if (r == -ENOBUFS) {
			ifm_notice("link events were lost (the socket overran): reading all links again");
			if ((r = ifm_watch_sync(&w, &nl)) < 0) {
				ifm_err("watch: link dump: %s", strerror(-r));
				goto out;
			}
			if ((sig = converge(&nl, &c)))
				goto stopped;
		} else if (r < 0) {
			ifm_err("watch: link events: %s", strerror(-r));
			goto out;
		} else if (r > 0 && (sig = converge(&nl, &c))) {
			goto stopped;
		}
	}
stopped:
	ifm_notice("%s while waiting for the lock: exiting; nothing changed by this run, "
		   "the mirrors stay as they are", strsignal(sig));
	ret = IFM_EXIT_OK;
out:
	ifm_watch_close(&w);
	ifm_nl_close(&nl);
out_sfd:
	close(sfd);
	ifm_config_free(&c);
	lines_clear(&said_before);
	lines_clear(&said_now);
	free(said_before.v);
	free(said_now.v);
	return ret;
}
