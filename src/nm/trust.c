// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which profiles root takes ifmirror data from (see ifmirror-nm(8), TRUST):
 * only profiles no unprivileged user can change. A profile with
 * connection.permissions is private to its users (polkit lets them create and
 * edit it), and a profile stored in a file counts only when the file is a
 * regular file owned by root, not writable by group or others, in a directory
 * owned by root and not writable by group or others. Files are opened without
 * following links and judged by fstat of what was opened.
 */
#include "ifmirror-nm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mode_problem(const struct stat *st, const char *what, char *why, size_t len)
{
	if (st->st_uid != 0) {
		snprintf(why, len, "%s is owned by uid %u, not root", what, (unsigned int)st->st_uid);
		return why;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "%s is writable by %s", what,
			 st->st_mode & S_IWOTH ? "others" : "its group");
		return why;
	}
	return NULL;
}

int nmm_profile_file_open(const char *path, char *why, size_t len)
{
	struct stat st;
	char *dir, *slash;
	int fd, dfd;

	if (!path || path[0] != '/') {
		snprintf(why, len, "its file '%.200s' is not an absolute path", path ? path : "");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, len, "its file %.200s: %s", path,
			 errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "its file %.200s is not a regular file", path);
		goto bad;
	}
	if (mode_problem(&st, "its file", why, len))
		goto bad;
	dir = strdup(path);
	if (!dir) {
		snprintf(why, len, "out of memory");
		goto bad;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		snprintf(why, len, "its directory %.200s: %s", dir, strerror(errno));
		free(dir);
		if (dfd >= 0)
			close(dfd);
		goto bad;
	}
	close(dfd);
	free(dir);
	if (mode_problem(&st, "its directory", why, len))
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}
