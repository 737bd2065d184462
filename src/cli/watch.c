// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror watch [--config FILE] [-q]
 *
 * Keeps the kernel equal to the file while devices come and go: it converges
 * like `apply`, then sleeps in poll() (no timeout) on the kernel's link
 * events and its signals. Each wake-up reads every event waiting and those
 * that follow within a millisecond (a burst is one run, see gather()), and
 * when a link came, went, was renamed or changed its master,
 * runs the same engine again, under the lock for that run only: for a device
 * that came or was renamed, outside any bridge and not named by the file as
 * a destination, collector, sink, port or tunnel, only the sessions of those
 * devices (ifm_apply_scoped); for anything else, or what the scoped run
 * cannot decide, or after a run that failed, the whole ifm_apply(). A device
 * that went needs nothing (its filters went with it) unless the file named
 * it, it was in a bridge, or the last run skipped a device as a loop (which
 * may not loop any more). SIGHUP reads the file
 * again (a broken one is reported and the previous plan kept), SIGTERM and
 * SIGINT end it with the mirrors left as they are, an overrun of the event
 * socket (ENOBUFS) is a resync. Everything goes to stderr (journald): one
 * line per change; an error or notice that every run repeats is said once,
 * until it changes. One watch runs per network namespace and run directory
 * (two would remove each other's sessions): a second one refuses to start,
 * naming the first one's PID (ifm_watch_lock).
 */
#include "cli.h"
#include "watch.h"

#include <errno.h>
#include <malloc.h>
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

/* a run: what it said becomes what was said before; a scoped run's lines
 * are about its devices only and are forgotten */
static void run_done(bool scoped)
{
	struct lines t;

	if (scoped) {
		lines_clear(&said_now);
		return;
	}
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

/* what the last whole run left: did it apply, did it skip loops */
static bool converged;
static int loops_skipped;

/* the whole file, or (only != NULL) the sessions of the sources only[n]:
 * 0, or the signal (SIGTERM, SIGINT) that came while it waited for the
 * lock, nothing done */
static int converge(struct ifm_nl *nl, struct ifm_config *c, const struct ifm_watch *w,
		    const int *only, size_t n)
{
	struct ifm_apply_result res;
	int sig = 0, lock = lock_or_signal(&sig), r;

	if (lock == -EINTR && sig)
		return sig;
	if (only && !converged)
		only = NULL;
	if (lock < 0) {
		ifm_err("cannot take the lock in %s: %s", ifm_run_dir(), strerror(-lock));
		converged = false;
		run_done(only != NULL);
		return 0;
	}
	if (only) {
		r = ifm_apply_scoped(nl, c, w->known, w->n, only, n, &res);
		if (r == -EAGAIN) {
			run_done(true);
			only = NULL;
		}
	}
	if (!only) {
		r = ifm_apply(nl, c, false, &res);
		converged = r == 0;
		loops_skipped = res.loops;
	} else if (r < 0) {
		converged = false;   /* the next event runs the whole file */
	}
	ifm_unlock(lock);
	/* a run's dumps and plans are freed, but glibc keeps the heap they
	 * grew (a run over 500 devices at once, then small ones): given back
	 * here, or a long-lived watch's RSS climbs with each burst */
	malloc_trim(0);
	if (r < 0 && r != -EINVAL && r != -ELOOP)
		ifm_err("%s: not applied completely: %s", c->path,
			r == -EIO ? "some sessions failed (see above)" : strerror(-r));
	run_done(only != NULL);
	return 0;
}

/* ---- which events a scoped run can follow ---- */

static bool names(const struct ifm_config *c, const char *name)
{
	for (int i = 0; i < c->nsessions; i++)
		if (!strcmp(c->sessions[i].to, name))
			return true;
	for (int i = 0; i < c->ncollectors; i++) {
		const struct ifm_conf_collector *k = &c->collectors[i];

		if (!strcmp(k->name, name) || !strcmp(k->sink, name))
			return true;
		for (int j = 0; j < k->nports; j++)
			if (!strcmp(k->ports[j], name))
				return true;
	}
	for (int i = 0; i < c->ntunnels; i++)
		if (!strcmp(c->tunnels[i].name, name) || !strcmp(c->tunnels[i].dev, name))
			return true;
	return false;
}

static bool plain(const struct ifm_config *c, const struct ifm_watch_link *l)
{
	return l->master == 0 && !names(c, l->name);
}

/* sorted, no repeats */
struct scope {
	int *v;
	size_t n, cap;
};

static bool scope_add(struct scope *s, int ifindex)
{
	size_t i = 0;

	while (i < s->n && s->v[i] < ifindex)
		i++;
	if (i < s->n && s->v[i] == ifindex)
		return true;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int *g = realloc(s->v, cap * sizeof(*g));

		if (!g)
			return false;
		s->v = g;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = ifindex;
	s->n++;
	return true;
}

/* the events read: the whole file, only some sources, or nothing; 0, or the
 * signal that stopped it while it waited for the lock */
static int follow(struct ifm_nl *nl, struct ifm_config *c, struct ifm_watch *w,
		   struct scope *s)
{
	/* after a run that failed, any event runs the whole file again */
	bool whole = w->overflow || (!converged && w->nev);

	s->n = 0;
	for (size_t i = 0; !whole && i < w->nev; i++) {
		const struct ifm_watch_event *e = &w->ev[i];

		switch (e->what) {
		case IFM_WATCH_NEW:
			whole = !plain(c, &e->now) || !scope_add(s, e->now.ifindex);
			break;
		case IFM_WATCH_CHANGED:
			whole = !plain(c, &e->now) || !plain(c, &e->before) ||
				!scope_add(s, e->now.ifindex);
			break;
		case IFM_WATCH_GONE:
			whole = !plain(c, &e->before) || loops_skipped;
			break;
		}
	}
	ifm_watch_events_clear(w);
	if (whole)
		return converge(nl, c, w, NULL, 0);
	if (s->n)
		return converge(nl, c, w, s->v, s->n);
	return 0;
}

/*
 * A burst (a VM host starting guests, `ip -batch`, a container runtime) is
 * a stream of events a fraction of a millisecond apart. Running the engine
 * at each wake-up would make one small run per few devices, each with its
 * fixed costs, and every run takes the kernel's RTNL lock that the devices'
 * creation needs too: measured, watch's runs slowed a 1000-tap ip -batch
 * 2.3x. So after events, wait for a quiet moment (no event for
 * QUIET_MS) before running, but never longer than COALESCE_MS after the
 * first: a one-off device waits QUIET_MS; a long stream is followed in
 * runs COALESCE_MS apart, each beside the creations that go on (bench/watch,
 * 1000 taps: of 15, 30 and 100 ms, 30 gave the shortest burst). Only while events come: idle, poll() sleeps with
 * no timeout. 1, or -errno of a read (-ENOBUFS: sync again); a signal
 * ends the wait early (the loop reads it next).
 */
#define QUIET_MS 1
#define COALESCE_MS 30

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int gather(struct ifm_watch *w, int sfd)
{
	struct timespec t0;
	long left;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = COALESCE_MS - ms_since(&t0)) > 0) {
		struct pollfd p[2] = { { .fd = w->fd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };

		r = poll(p, 2, left < QUIET_MS ? (int)left : QUIET_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || (p[1].revents & POLLIN))
			break;
		if ((r = ifm_watch_read(w)) < 0)
			return r;
	}
	return 1;
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
	struct scope scope = { 0 };
	bool quiet = false;
	int sfd, r, sig, wlock, ret = IFM_EXIT_RUNTIME;
	pid_t holder;

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
	if ((wlock = ifm_watch_lock(&holder)) < 0) {
		if (wlock == -EWOULDBLOCK && holder > 0)
			ifm_err("watch: another watch (PID %ld) runs in this network namespace with "
				"run directory %s: two would remove each other's sessions; not started",
				(long)holder, ifm_run_dir());
		else if (wlock == -EWOULDBLOCK)
			ifm_err("watch: another watch runs in this network namespace with run "
				"directory %s: two would remove each other's sessions; not started",
				ifm_run_dir());
		else
			ifm_err("watch: cannot take the watch lock in %s: %s", ifm_run_dir(),
				strerror(-wlock));
		ifm_config_free(&c);
		return IFM_EXIT_RUNTIME;
	}
	if ((sfd = signals()) < 0) {
		ifm_err("watch: signals: %s", strerror(errno));
		ifm_watch_unlock(wlock);
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
	ifm_watch_events_clear(&w);
	if ((sig = converge(&nl, &c, &w, NULL, 0)))
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
			if ((sig = converge(&nl, &c, &w, NULL, 0)))
				goto stopped;
		}
		if (!(p[0].revents & (POLLIN | POLLERR)))
			continue;
		/* what is waiting, and what follows it in a burst */
		r = ifm_watch_read(&w);
		if (r > 0)
			r = gather(&w, sfd);
		if (r == -ENOBUFS) {
			ifm_notice("link events were lost (the socket overran): reading all links again");
			if ((r = ifm_watch_sync(&w, &nl)) < 0) {
				ifm_err("watch: link dump: %s", strerror(-r));
				goto out;
			}
			if ((sig = converge(&nl, &c, &w, NULL, 0)))
				goto stopped;
		} else if (r < 0) {
			ifm_err("watch: link events: %s", strerror(-r));
			goto out;
		} else if (r > 0 && (sig = follow(&nl, &c, &w, &scope))) {
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
	ifm_watch_unlock(wlock);
	ifm_config_free(&c);
	free(scope.v);
	lines_clear(&said_before);
	lines_clear(&said_now);
	free(said_before.v);
	free(said_now.v);
	return ret;
}
