// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rtnetlink socket. libnl turns kernel errors into its own codes and drops
 * the kernel's extended ack; we keep both the errno and the message, because
 * "Specified qdisc kind is unknown" is what an admin needs to read.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* The kernel's message among the TLVs at off bytes into hdr's payload. */
static void read_extack(struct ifm_nl *nl, struct nlmsghdr *hdr, size_t off)
{
	int len = (int)hdr->nlmsg_len - NLMSG_HDRLEN - (int)NLMSG_ALIGN(off);
	struct nlattr *a;
	int rem;

	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	nla_for_each_attr(a, (struct nlattr *)((char *)nlmsg_data(hdr) + NLMSG_ALIGN(off)), len, rem) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG)
			snprintf(nl->extack, sizeof(nl->extack), "%.*s", nla_len(a),
				 (const char *)nla_data(a));
	}
}

static int err_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct ifm_nl *nl = arg;
	struct nlmsghdr *hdr = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	size_t off = sizeof(*e);

	(void)who;
	nl->err = -e->error;
	nl->extack[0] = '\0';
	/* the original request follows, whole unless NLM_F_CAPPED */
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	read_extack(nl, hdr, off);
	return NL_STOP;
}

int ifm_nl_open(struct ifm_nl *nl)
{
	int one = 1;
	int r;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	r = nl_connect(nl->sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -EPROTONOSUPPORT;
	}
	nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, err_cb, nl);
	/*
	 * Room for the acks of a batch: each takes about 800 bytes of receive
	 * buffer (its skb's truesize), and libnl's default 32 KiB holds ~80.
	 * As root the limit net.core.rmem_max does not apply.
	 */
	{
		int size = 4 << 20;
		socklen_t len = sizeof(size);

		if (setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUFFORCE, &size,
			       sizeof(size)) < 0)
			setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		if (getsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &size, &len) == 0)
			nl->rcvbuf = size;
	}
	/*
	 * Answers as big as the biggest filter the kernel keeps: a --match
	 * program of thousands of instructions is one message of up to 32 KiB.
	 * The kernel sizes the messages of a dump by the largest buffer this
	 * socket has read with (capped at 32 KiB); libnl's default (16 KiB)
	 * would make it end a filter dump early, without the big filter.
	 */
	nl_socket_set_msg_buf_size(nl->sk, IFM_NL_MSG_MAX);
	nl_socket_enable_msg_peek(nl->sk);
	/* best effort: older kernels simply send no message */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

void ifm_nl_close(struct ifm_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

/* libnl's code when our err_cb did not run (socket trouble, not the kernel) */
static int nlerr_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/*
 * IFMIRROR_AVOID=clsact,matchall,...: kinds treated as absent, which is how
 * the tests run the fallbacks on kernels that have everything. This is the
 * one place it acts: a request that would create such a kind fails here as
 * the kernel fails it for a kind it lacks (ENOENT for a qdisc or classifier,
 * EOPNOTSUPP for a link; "X" also stands for its IPv6 kind "ip6X").
 */
bool ifm_avoid(const char *kind)
{
	const char *list = getenv("IFMIRROR_AVOID");
	size_t n = strlen(kind);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, kind, n))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}


static int avoided(struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const char *kind = NULL;

	if (!getenv("IFMIRROR_AVOID"))
		return 0;
	if (h->nlmsg_type == RTM_NEWQDISC || h->nlmsg_type == RTM_NEWTFILTER) {
		if (nlmsg_parse(h, sizeof(struct tcmsg), tb, TCA_MAX, NULL) == 0 && tb[TCA_KIND])
			kind = nla_get_string(tb[TCA_KIND]);
		return kind && ifm_avoid(kind) ? -ENOENT : 0;
	}
	if (h->nlmsg_type != RTM_NEWLINK || !(h->nlmsg_flags & NLM_F_CREATE) ||
	    nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_LINKINFO] || nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0 ||
	    !li[IFLA_INFO_KIND])
		return 0;
	kind = nla_get_string(li[IFLA_INFO_KIND]);
	return ifm_avoid(kind) || (!strncmp(kind, "ip6", 3) && ifm_avoid(kind + 3)) ? -EOPNOTSUPP
										   : 0;
}

static bool changes_state(const struct nl_msg *msg)
{
	int type = nlmsg_hdr((struct nl_msg *)msg)->nlmsg_type;

	return type == RTM_NEWLINK || type == RTM_DELLINK || type == RTM_NEWQDISC ||
	       type == RTM_DELQDISC || type == RTM_NEWTFILTER || type == RTM_DELTFILTER ||
	       type == RTM_NEWACTION || type == RTM_DELACTION;
}

struct dump_ctx {
	int (*cb)(struct nlmsghdr *hdr, void *arg);
	void *arg;
	int ret;
	struct ifm_nl *nl;
};

/*
 * A dump that the kernel could not finish ends in NLMSG_DONE carrying an
 * error (-EMSGSIZE: a message bigger than the dump's buffer): what came
 * before it is not everything, so the dump fails. libnl ignores it.
 */
static int done_cb(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	int err;

	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(err))
		return NL_STOP;
	memcpy(&err, nlmsg_data(h), sizeof(err));
	if (err < 0 && d->ret == 0) {
		d->ret = err;
		d->nl->err = -err;
		d->nl->extack[0] = '\0';
		read_extack(d->nl, h, sizeof(err));
	}
	return NL_STOP;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *d = arg;
	int r = d->cb(nlmsg_hdr(msg), d->arg);

	if (r < 0) {
		d->ret = r;
		return NL_STOP;
	}
	return NL_OK;
}

/* Sends msg (consumed), forgetting the last request's error. */
static int send_request(struct ifm_nl *nl, struct nl_msg *msg)
{
	int r;

	nl->err = 0;
	nl->extack[0] = '\0';
	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	return r < 0 ? nlerr_to_errno(r) : 0;
}

/* The socket's callbacks (our error handler) plus one for valid answers. */
static struct nl_cb *answer_cb(struct ifm_nl *nl, struct dump_ctx *d)
{
	struct nl_cb *own = nl_socket_get_cb(nl->sk); /* takes a reference */
	struct nl_cb *c = nl_cb_clone(own);

	nl_cb_put(own);
	d->nl = nl;
	if (c) {
		nl_cb_set(c, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, d);
		nl_cb_set(c, NL_CB_FINISH, NL_CB_CUSTOM, done_cb, d);
	}
	return c;
}

/* The callback's failure first, then the kernel's, then libnl's. */
static int answer_result(const struct ifm_nl *nl, const struct dump_ctx *d, int r)
{
	if (d->ret < 0)
		return d->ret;
	if (r < 0)
		return nl->err ? -nl->err : nlerr_to_errno(r);
	return 0;
}

struct nl_msg *ifm_nl_msg(int type, int flags, size_t payload)
{
	size_t page = (size_t)getpagesize();
	struct nl_msg *msg;

	if (payload > IFM_NL_MSG_MAX)
		return NULL;
	msg = nlmsg_alloc_size(NLMSG_SPACE(payload) <= page ? page : NLMSG_SPACE(payload));
	if (msg && !nlmsg_put(msg, NL_AUTO_PID, NL_AUTO_SEQ, type, 0, flags)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int ifm_nl_talk(struct ifm_nl *nl, struct nl_msg *msg)
{
	bool change;
	int r;

	if (!msg)
		return -ENOMEM; /* a request that could not be built */
	change = changes_state(msg);
	r = avoided(msg);
	if (r < 0) {
		nlmsg_free(msg);
		return r;
	}
	r = send_request(nl, msg);

	if (r < 0)
		return r;
	r = nl_wait_for_ack(nl->sk);
	if (r < 0)
		return nl->err ? -nl->err : nlerr_to_errno(r);
	if (change)
		nl->changes++;
	return 0;
}

/*
 * Batches: requests go out back to back and their acks are collected by
 * sequence number, a window at a time (acks beyond the socket's receive
 * buffer would be dropped by the kernel). The kernel handles the requests
 * of one socket in order, so a qdisc added early in a batch is there for
 * the filters after it.
 */
#define ACK_TRUESIZE 1024    /* generous: what one ack costs the receive buffer */

static int batch_ack_cb(struct nl_msg *msg, void *arg)
{
	struct ifm_batch *b = arg;
	uint32_t seq = nlmsg_hdr(msg)->nlmsg_seq;

	if (seq - b->first_seq < b->n)
		b->results[seq - b->first_seq] = 0;
	b->acked++;
	return NL_OK;
}

static int batch_err_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct ifm_batch *b = arg;
	uint32_t seq = e->msg.nlmsg_seq;

	(void)who;
	if (seq - b->first_seq < b->n)
		b->results[seq - b->first_seq] = e->error;
	b->acked++;
	return NL_SKIP;
}

static int batch_seq_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK; /* acks come for many requests: no single expected seq */
}

/* Never waits for acks that cannot come: on a receive error the requests
 * still unanswered are marked failed (-ENOBUFS: the kernel dropped acks). */
static int batch_drain(struct ifm_batch *b, unsigned int until)
{
	while (b->acked < until) {
		int r = nl_recvmsgs(b->nl->sk, b->cb);

		if (r < 0 && r != -NLE_AGAIN) {
			for (unsigned int i = 0; i < b->n; i++)
				if (b->results[i] == 1)
					b->results[i] = -ENOBUFS;
			b->acked = b->n;
			b->broken = true;
			return r == -NLE_NOMEM ? -ENOBUFS : nlerr_to_errno(r);
		}
	}
	return 0;
}

int ifm_batch_init(struct ifm_batch *b, struct ifm_nl *nl)
{
	memset(b, 0, sizeof(*b));
	b->nl = nl;
	b->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!b->cb)
		return -ENOMEM;
	nl_cb_set(b->cb, NL_CB_ACK, NL_CB_CUSTOM, batch_ack_cb, b);
	nl_cb_set(b->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, batch_seq_cb, b);
	nl_cb_err(b->cb, NL_CB_CUSTOM, batch_err_cb, b);
	b->window = nl->rcvbuf > 0 ? (unsigned int)nl->rcvbuf / ACK_TRUESIZE / 2 : 16;
	if (b->window < 8)
		b->window = 8;
	if (b->window > 1024)
		b->window = 1024;
	return 0;
}

int ifm_batch_add(struct ifm_batch *b, struct nl_msg *msg)
{
	int r;

	if (!msg)
		return -ENOMEM; /* a request that could not be built: nothing sent */
	if (b->broken) {
		nlmsg_free(msg);
		return -ENOBUFS;
	}
	if (b->n == b->cap) {
		unsigned int cap = b->cap ? b->cap * 2 : 256;
		int *res = realloc(b->results, cap * sizeof(*res));

		if (!res) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		b->results = res;
		b->cap = cap;
	}
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	nl_complete_msg(b->nl->sk, msg);
	if (b->n == 0)
		b->first_seq = nlmsg_hdr(msg)->nlmsg_seq;
	if ((r = avoided(msg)) < 0) {
		/* answered here, as the kernel would: it takes its place in the results */
		nlmsg_free(msg);
		b->results[b->n++] = r;
		b->acked++;
		return 0;
	}
	b->results[b->n] = 1; /* no answer yet */
	r = nl_send(b->nl->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return nlerr_to_errno(r);
	b->n++;
	if (b->n - b->acked >= b->window)
		return batch_drain(b, b->n - b->window / 2);
	return 0;
}

int ifm_batch_finish(struct ifm_batch *b)
{
	int r = b->broken ? -ENOBUFS : batch_drain(b, b->n);

	for (unsigned int i = 0; i < b->n; i++)
		if (b->results[i] == 0)
			b->nl->changes++;
	return r;
}

void ifm_batch_free(struct ifm_batch *b)
{
	if (b->cb)
		nl_cb_put(b->cb);
	free(b->results);
	memset(b, 0, sizeof(*b));
}

int ifm_nl_dump(struct ifm_nl *nl, struct nl_msg *msg,
		int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg)
{
	struct dump_ctx d = { .cb = cb, .arg = arg, .ret = 0 };
	struct nl_cb *c;
	int r = send_request(nl, msg);

	if (r < 0)
		return r;
	if (!(c = answer_cb(nl, &d)))
		return -ENOMEM;
	r = nl_recvmsgs(nl->sk, c);
	nl_cb_put(c);
	return answer_result(nl, &d, r);
}

static int get_ack_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(bool *)arg = true;
	return NL_STOP;
}

int ifm_nl_get(struct ifm_nl *nl, struct nl_msg *msg,
	       int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg)
{
	struct dump_ctx d = { .cb = cb, .arg = arg, .ret = 0 };
	struct nl_cb *c;
	bool acked = false;
	int r;

	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	if ((r = send_request(nl, msg)) < 0)
		return r;
	if (!(c = answer_cb(nl, &d)))
		return -ENOMEM;
	nl_cb_set(c, NL_CB_ACK, NL_CB_CUSTOM, get_ack_cb, &acked);
	/* the answer, then the ack (or an error instead of both) */
	while (!acked && r >= 0 && d.ret == 0)
		r = nl_recvmsgs(nl->sk, c);
	nl_cb_put(c);
	return answer_result(nl, &d, r);
}

const char *ifm_nl_reason(const struct ifm_nl *nl, int err)
{
	static char buf[320];

	if (nl && nl->extack[0] && nl->err == -err)
		snprintf(buf, sizeof(buf), "%s (kernel: %s)", strerror(-err), nl->extack);
	else
		snprintf(buf, sizeof(buf), "%s", strerror(-err));
	return buf;
}
