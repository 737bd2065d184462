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
#include <linux/pkt_cls.h>

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
	free(nl->rx);
	nl->rx = NULL;
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
	if (h->nlmsg_type == RTM_NEWACTION) {
		/* a standalone action (the budget's police): its kind, as the kernel
		 * answers for one it lacks */
		struct nlattr *tab[TCA_ROOT_MAX + 1], *a;
		int rem;

		if (nlmsg_parse(h, sizeof(struct tcamsg), tab, TCA_ROOT_MAX, NULL) < 0 ||
		    !tab[TCA_ACT_TAB])
			return 0;
		nla_for_each_nested(a, tab[TCA_ACT_TAB], rem) {
			struct nlattr *at[TCA_ACT_MAX + 1];

			if (nla_parse_nested(at, TCA_ACT_MAX, a, NULL) == 0 && at[TCA_ACT_KIND] &&
			    ifm_avoid(nla_get_string(at[TCA_ACT_KIND])))
				return -ENOENT;
		}
		return 0;
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

/*
 * Answers are read here, not by libnl: recvmmsg takes up to IFM_NL_RX_N
 * datagrams a call (a dump's last part and its NLMSG_DONE, a window of
 * acks), into buffers big enough for any datagram the kernel sends (a dump
 * fills at most 32 KiB; an error echoes at most one request), so nothing is
 * peeked first. Only the kernel's messages (port 0) count.
 */
#define IFM_NL_RX_N 8
#define IFM_NL_RX_SIZE (64 << 10)

/* Calls each(h) for every message of the datagrams that one recvmmsg
 * returns; each returns <0 to report a failure (reading goes on), 1 when
 * the answer is complete. Returns 1, 0 (more to read) or -errno. */
static int rx_once(struct ifm_nl *nl, int (*each)(struct ifm_nl *nl, struct nlmsghdr *h, void *arg),
		   void *arg, int *cb_err)
{
	struct mmsghdr mm[IFM_NL_RX_N];
	struct iovec iov[IFM_NL_RX_N];
	struct sockaddr_nl from[IFM_NL_RX_N];
	int n, done = 0;

	if (!nl->rx && !(nl->rx = malloc((size_t)IFM_NL_RX_N * IFM_NL_RX_SIZE)))
		return -ENOMEM;
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < IFM_NL_RX_N; i++) {
		iov[i] = (struct iovec){ nl->rx + (size_t)i * IFM_NL_RX_SIZE, IFM_NL_RX_SIZE };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
						 .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	do
		n = recvmmsg(nl_socket_get_fd(nl->sk), mm, IFM_NL_RX_N, MSG_WAITFORONE, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct nlmsghdr *h = iov[i].iov_base;
		int len = (int)mm[i].msg_len;

		if (from[i].nl_pid != 0)
			continue; /* not the kernel's */
		if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
			if (!*cb_err)
				*cb_err = -EMSGSIZE;
			continue;
		}
		/* NLMSG_OK without its mix of signed and unsigned (clang's -Wsign-compare) */
		for (; len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
		       h->nlmsg_len <= (unsigned int)len;
		     h = NLMSG_NEXT(h, len)) {
			int r = each(nl, h, arg);

			if (r < 0 && !*cb_err)
				*cb_err = r;
			else if (r > 0)
				done = 1;
		}
	}
	return done;
}

/* The kernel's error in an NLMSG_ERROR message, and its extended ack. */
static int take_error(struct ifm_nl *nl, struct nlmsghdr *h)
{
	struct nlmsgerr *e = nlmsg_data(h);
	size_t off = sizeof(*e);

	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return -EIO;
	if (e->error == 0)
		return 0;
	nl->err = -e->error;
	nl->extack[0] = '\0';
	/* the original request follows, whole unless NLM_F_CAPPED */
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	read_extack(nl, h, off);
	return e->error;
}

struct answer {
	uint32_t seq;
	int (*cb)(struct nlmsghdr *hdr, void *arg);
	void *arg;
	int err;         /* the kernel's, for this request */
	bool intr;       /* the kernel marked the dump inconsistent (NLM_F_DUMP_INTR) */
};

static int answer_each(struct ifm_nl *nl, struct nlmsghdr *h, void *arg)
{
	struct answer *a = arg;
	int err;

	if (h->nlmsg_seq != a->seq)
		return 0; /* an answer to an earlier request, abandoned */
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		a->intr = true;
	switch (h->nlmsg_type) {
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return 0;
	case NLMSG_ERROR:
		a->err = take_error(nl, h);
		return 1;
	case NLMSG_DONE:
		/*
		 * A dump that the kernel could not finish ends in NLMSG_DONE
		 * carrying an error (-EMSGSIZE: a message bigger than the dump's
		 * buffer): what came before it is not everything, so it fails.
		 */
		if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(err)) {
			memcpy(&err, nlmsg_data(h), sizeof(err));
			if (err < 0) {
				a->err = err;
				nl->err = -err;
				nl->extack[0] = '\0';
				read_extack(nl, h, sizeof(err));
			}
		}
		return 1;
	default:
		return a->cb ? a->cb(h, a->arg) : 0;
	}
}

/* Sends msg (consumed), forgetting the last request's error; its seq. */
static int send_request(struct ifm_nl *nl, struct nl_msg *msg, uint32_t *seq)
{
	int r;

	nl->err = 0;
	nl->extack[0] = '\0';
	nl_complete_msg(nl->sk, msg);
	*seq = nlmsg_hdr(msg)->nlmsg_seq;
	r = nl_send(nl->sk, msg);
	nlmsg_free(msg);
	return r < 0 ? nlerr_to_errno(r) : 0;
}

/* Reads until the request's answer is complete: the callback's failure
 * first, then the kernel's. */
static int await(struct ifm_nl *nl, struct answer *a)
{
	int cb_err = 0, r;

	while ((r = rx_once(nl, answer_each, a, &cb_err)) == 0)
		;
	if (r < 0)
		return r == -ENOBUFS ? -ENOBUFS : r;
	if (cb_err < 0)
		return cb_err;
	return a->err;
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
	struct answer a = { 0 };
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
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	if ((r = send_request(nl, msg, &a.seq)) < 0 || (r = await(nl, &a)) < 0)
		return r;
	if (change)
		nl->changes++;
	return 0;
}

/*
 * Batches: requests go out back to back, many in one sendmsg, and their
 * acks are collected by sequence number, a window at a time (acks beyond the
 * socket's receive buffer would be dropped by the kernel). The kernel
 * handles the requests of one socket in order, those of one sendmsg too (an
 * error in one does not stop the next), so a qdisc added early in a batch is
 * there for the filters after it.
 */
#define ACK_TRUESIZE 1024    /* generous: what one ack costs the receive buffer */
#define BATCH_SEND 16384     /* bytes of requests per sendmsg */

static int batch_each(struct ifm_nl *nl, struct nlmsghdr *h, void *arg)
{
	struct ifm_batch *b = arg;
	uint32_t i = h->nlmsg_seq - b->first_seq;

	(void)nl;
	if (h->nlmsg_type != NLMSG_ERROR || i >= b->n || b->results[i] != 1)
		return 0;
	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr))
		b->results[i] = -EIO;
	else
		b->results[i] = ((struct nlmsgerr *)nlmsg_data(h))->error;
	b->acked++;
	return 0;
}

/* What is buffered goes out in one sendmsg. */
static int batch_send(struct ifm_batch *b)
{
	ssize_t n;

	if (!b->outlen)
		return 0;
	do
		n = send(nl_socket_get_fd(b->nl->sk), b->out, b->outlen, 0);
	while (n < 0 && errno == EINTR);
	b->outlen = 0;
	if (n < 0) {
		int r = -errno;

		for (unsigned int i = b->sent; i < b->n; i++)
			if (b->results[i] == 1) {
				b->results[i] = r;
				b->acked++;
			}
		b->sent = b->n;
		b->broken = true;
		return r;
	}
	b->sent = b->n;
	return 0;
}

/* Never waits for acks that cannot come: on a receive error the requests
 * still unanswered are marked failed (-ENOBUFS: the kernel dropped acks). */
static int batch_drain(struct ifm_batch *b, unsigned int until)
{
	int cb_err = 0, r;

	if ((r = batch_send(b)) < 0)
		return r;
	while (b->acked < until) {
		r = rx_once(b->nl, batch_each, b, &cb_err);
		if (r < 0) {
			for (unsigned int i = 0; i < b->n; i++)
				if (b->results[i] == 1)
					b->results[i] = -ENOBUFS;
			b->acked = b->n;
			b->broken = true;
			return r == -ENOMEM ? -ENOBUFS : r;
		}
	}
	return 0;
}

int ifm_batch_init(struct ifm_batch *b, struct ifm_nl *nl)
{
	memset(b, 0, sizeof(*b));
	b->nl = nl;
	b->window = nl->rcvbuf > 0 ? (unsigned int)nl->rcvbuf / ACK_TRUESIZE / 2 : 16;
	if (b->window < 8)
		b->window = 8;
	if (b->window > 1024)
		b->window = 1024;
	return 0;
}

int ifm_batch_add(struct ifm_batch *b, struct nl_msg *msg)
{
	struct nlmsghdr *h;
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
	h = nlmsg_hdr(msg);
	h->nlmsg_flags |= NLM_F_ACK;
	nl_complete_msg(b->nl->sk, msg);
	if (b->n == 0)
		b->first_seq = h->nlmsg_seq;
	if ((r = avoided(msg)) < 0) {
		/* answered here, as the kernel would: it takes its place in the results */
		nlmsg_free(msg);
		b->results[b->n++] = r;
		b->acked++;
		return 0;
	}
	if (b->outlen + NLMSG_ALIGN(h->nlmsg_len) > b->outcap) {
		size_t cap = b->outlen + NLMSG_ALIGN(h->nlmsg_len) + BATCH_SEND;
		unsigned char *o = realloc(b->out, cap);

		if (!o) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		b->out = o;
		b->outcap = cap;
	}
	memcpy(b->out + b->outlen, h, h->nlmsg_len);
	memset(b->out + b->outlen + h->nlmsg_len, 0, NLMSG_ALIGN(h->nlmsg_len) - h->nlmsg_len);
	b->outlen += NLMSG_ALIGN(h->nlmsg_len);
	nlmsg_free(msg);
	b->results[b->n++] = 1; /* no answer yet */
	if (b->n - b->acked >= b->window)
		return batch_drain(b, b->n - b->window / 2);
	if (b->outlen >= BATCH_SEND)
		return batch_send(b);
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
	free(b->results);
	free(b->out);
	memset(b, 0, sizeof(*b));
}

/* A dump the kernel marked inconsistent (the list changed while it was
 * read: a device made, deleted or renamed) answers -EINTR, once it is read
 * to its end; the caller reads it again from scratch. */
int ifm_nl_dump(struct ifm_nl *nl, struct nl_msg *msg,
		int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg)
{
	struct answer a = { .cb = cb, .arg = arg };
	int r = send_request(nl, msg, &a.seq);

	if (r == 0 && (r = await(nl, &a)) == 0 && a.intr)
		r = -EINTR;
	return r;
}

/*
 * A dump request built by the caller (a header and its fixed part, no
 * libnl message: a filter dump per device costs no allocation), sent as
 * it is with the next sequence number of the socket.
 */
int ifm_nl_dump_raw(struct ifm_nl *nl, struct nlmsghdr *req,
		    int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg)
{
	struct answer a = { .cb = cb, .arg = arg };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;
	int r;

	nl->err = 0;
	nl->extack[0] = '\0';
	req->nlmsg_flags |= NLM_F_REQUEST;
	req->nlmsg_seq = a.seq = nl_socket_use_seq(nl->sk);
	req->nlmsg_pid = 0;
	do
		n = sendto(nl_socket_get_fd(nl->sk), req, req->nlmsg_len, 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((r = await(nl, &a)) == 0 && a.intr)
		r = -EINTR;
	return r;
}

int ifm_nl_get(struct ifm_nl *nl, struct nl_msg *msg,
	       int (*cb)(struct nlmsghdr *hdr, void *arg), void *arg)
{
	struct answer a = { .cb = cb, .arg = arg };
	int r;

	/* the answer, then the ack (or an error instead of both) */
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	r = send_request(nl, msg, &a.seq);
	return r < 0 ? r : await(nl, &a);
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
