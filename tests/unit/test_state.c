// SPDX-License-Identifier: GPL-2.0-or-later
/* Deferred sessions (lib/state.c): what `up --defer` records is read back whole. */
#include "cli.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <string.h>
#include <unistd.h>

static char got_match[2048], got_dir[16];
static unsigned int got_sample;
static int seen;

static int take(const struct ifm_session_spec *s, void *arg)
{
	(void)arg;
	seen++;
	snprintf(got_match, sizeof(got_match), "%s", s->match ? s->match : "(none)");
	snprintf(got_dir, sizeof(got_dir), "%s", ifm_dir_name(s->dir));
	got_sample = s->sample;
	return 0;
}

static int read_back(void)
{
	seen = 0;
	got_match[0] = '\0';
	ifm_pending_each(take, NULL);
	return seen;
}

/* a process that goes on after ifm_unlock (watch) holds the lock no more */
static void test_relock(const char *dir)
{
	int fd = ifm_lock(), probe;

	if (fd < 0)
		return; /* not root: a run directory of another owner is refused */
	ifm_unlock(fd);
	probe = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(probe >= 0 && flock(probe, LOCK_EX | LOCK_NB) == 0);
	if (probe >= 0)
		close(probe);
}

int main(void)
{
	char dir[] = "/tmp/ifm-test-state.XXXXXX", big[IFM_MATCH_MAX + 2];
	struct ifm_session_spec sp = { .source = "s0", .dest = "d0", .dir = IFM_DIR_EGRESS,
				       .sample = 7, .match = "tcp\nand not port 22" };

	if (!mkdtemp(dir))
		return 1;
	setenv("IFMIRROR_RUN_DIR", dir, 1);

	/* issue 12: a newline in --match split the record; the session ran "tcp" alone */
	CHECK(ifm_pending_add_spec(&sp) == 0);
	CHECK(read_back() == 1 && !strcmp(got_match, "tcp\nand not port 22") &&
	      !strcmp(got_dir, "egress") && got_sample == 7);
	ifm_pending_del("s0", NULL);
	CHECK(read_back() == 0);

	/* 1023 bytes is recorded whole; 1024 is refused, never cut to 1023 */
	memset(big, 'x', sizeof(big));
	big[IFM_MATCH_MAX] = '\0';
	memcpy(big, "tcp or ", 7);
	sp.match = big;
	CHECK(ifm_pending_add_spec(&sp) == 0);
	CHECK(read_back() == 1 && !strcmp(got_match, big));
	ifm_pending_del("s0", "d0");
	big[IFM_MATCH_MAX] = 'x';
	big[IFM_MATCH_MAX + 1] = '\0';
	CHECK(ifm_pending_add_spec(&sp) == -ENAMETOOLONG);
	CHECK(read_back() == 0);

	/* no expression, sample 1 */
	sp.match = NULL;
	sp.sample = 0;
	CHECK(ifm_pending_add_spec(&sp) == 0);
	CHECK(read_back() == 1 && !strcmp(got_match, "(none)") && got_sample == 1);
	ifm_pending_del("s0", "d0");

	test_relock(dir);
	rmdir(strcat(strcpy(big, dir), "/pending"));
	rmdir(dir);
	return CHECK_DONE("state");
}
