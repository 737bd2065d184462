// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bench tool, not installed (bench/watch): the kernel's own notifications of
 * links and tc filters, stamped with CLOCK_MONOTONIC as they are read.
 *
 *   ifm-nlstamp PREFIX [FILTERS]
 *
 * One rtnetlink socket in RTNLGRP_LINK and RTNLGRP_TC (one queue: the order
 * is the kernel's). For every link whose name starts with PREFIX it prints,
 * once its filters came:
 *   M NAME T_LINK_NS T_FILTER_NS
 * (T_LINK: its first RTM_NEWLINK, T_FILTER: the FILTERS-th RTM_NEWTFILTER on
 * its ifindex, default 1; a mirror of both directions is 2), and "D NAME"
 * when it went. "READY" once subscribed. Lines are
 * flushed one by one. It ends on SIGTERM (the default action) or when its
 * stdout is gone. An overrun (ENOBUFS) is printed as "LOST" and the
 * listening goes on (the bench then fails: samples were lost).
 *
 * Netlink gives no receive timestamps: a message is stamped when it is read.
 * The listener runs SCHED_FIFO (root) so that it reads each message as it
 * comes, not behind the process it measures; "NORT" says that failed.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct dev {
	char name[IF_NAMESIZE];
	int64_t t_link;
	int filters;
	bool live;
};

static struct dev *devs;
static size_t ndevs;

static struct dev *dev_at(int ifindex)
{
	if (ifindex <= 0)
		return NULL;
	if ((size_t)ifindex >= ndevs) {
		size_t n = (size_t)ifindex * 2 + 64;
		struct dev *g = realloc(devs, n * sizeof(*g));

		if (!g) {
			perror("ifm-nlstamp: realloc");
			exit(1);
		}
		memset(&g[ndevs], 0, (n - ndevs) * sizeof(*g));
		devs = g;
		ndevs = n;
	}
	return &devs[ifindex];
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void link_msg(const struct nlmsghdr *h, const char *prefix, int64_t t)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const char *name = NULL;
	struct dev *d;

	if (len < 0 || ifi->ifi_family != AF_UNSPEC || !(d = dev_at(ifi->ifi_index)))
		return;
	if (h->nlmsg_type == RTM_DELLINK) {
		if (d->live)
			printf("D %s\n", d->name);
		d->live = false;
		return;
	}
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) <= IF_NAMESIZE &&
		    memchr(RTA_DATA(a), '\0', RTA_PAYLOAD(a)))
			name = RTA_DATA(a);
	if (d->live || !name || strncmp(name, prefix, strlen(prefix)))
		return;
	*d = (struct dev){ .t_link = t, .live = true };
	snprintf(d->name, sizeof(d->name), "%s", name);
}

static int want = 1;

static void filter_msg(const struct nlmsghdr *h, int64_t t)
{
	const struct tcmsg *tcm = NLMSG_DATA(h);
	struct dev *d;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*tcm)) || !(d = dev_at(tcm->tcm_ifindex)))
		return;
	if (!d->live || ++d->filters != want)
		return;
	printf("M %s %lld %lld\n", d->name, (long long)d->t_link, (long long)t);
}

int main(int argc, char *argv[])
{
	static char buf[256 << 10] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_TC };
	int fd, size = 32 << 20;

	if (argc < 2 || argc > 3 || (argc == 3 && (want = atoi(argv[2])) < 1)) {
		fprintf(stderr, "usage: ifm-nlstamp PREFIX [FILTERS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 10 }) < 0)
		printf("NORT\n");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0 || (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
		       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ifm-nlstamp: netlink socket");
		return 1;
	}
	printf("READY\n");
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int64_t t = now_ns();
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			printf("LOST\n");
			continue;
		}
		if (n < 0) {
			perror("ifm-nlstamp: recv");
			return 1;
		}
		len = (int)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		     len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
		     h->nlmsg_len <= (unsigned int)len;
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
				link_msg(h, argv[1], t);
			else if (h->nlmsg_type == RTM_NEWTFILTER)
				filter_msg(h, t);
		}
		if (ferror(stdout))
			return 0;
	}
}
