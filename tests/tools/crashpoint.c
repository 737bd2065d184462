/* crashpoint: run a command and kill -9 it right after its N-th netlink request.
 *
 *   ifm-crashpoint N COMMAND [ARG...]
 *
 * The command runs under ptrace. Every sendto/sendmsg/sendmmsg that returns
 * success on a netlink socket and asks for a change (any rtnetlink message
 * type but RTM_GET*: reads change nothing, so a kill after one is no new
 * case) counts as one request, a batch of them in one call as one; when the N-th has
 * returned, the process gets SIGKILL before it runs one more instruction of its
 * own. rtnetlink handles a request inside the sender's sendmsg, so the kernel
 * has done what the request asked and the process never sees the answer: the
 * worst moment for a command that records what it did after doing it.
 *
 * With IFM_CRASHPOINT_HOLD=SECONDS, the command is held stopped at point N
 * instead (stdout: "holding", flushed), with all it holds (its lock), for
 * SECONDS, and killed then.
 *
 * Exit status: 0 when the command was killed at point N (stdout: "killed"),
 * 3 when it exited by itself before reaching point N (stdout: "exited RC
 * after K requests"), 2 on a usage or tracing error. Children the command
 * forks are not traced (ifmirror's commands that change things do not fork).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* fd of PID is a netlink socket: /proc/PID/fd/FD reads "socket:[INODE]" and
 * INODE is listed in /proc/net/netlink (of the process's network namespace). */
static int is_netlink(pid_t pid, long fd)
{
	char path[64], link[64], line[256];
	unsigned long inode = 0, ino;
	ssize_t n;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	if (sscanf(link, "socket:[%lu]", &inode) != 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/net/netlink", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &ino) == 1 && ino == inode) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static int peek(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* The call asks for a change: its first netlink message is no RTM_GET*
 * (those are the types 2 mod 4 from RTM_BASE on). */
static int is_change(pid_t pid, long nr, unsigned long arg)
{
	struct nlmsghdr h;
	struct msghdr m;
	struct iovec iov;

	if (nr == SYS_sendto) {
		if (peek(pid, arg, &h, sizeof(h)))
			return 1;
	} else {
		/* sendmsg: a msghdr; sendmmsg: an array of mmsghdr, each a msghdr first */
		if (peek(pid, arg, &m, sizeof(m)) || !m.msg_iovlen ||
		    peek(pid, (unsigned long)m.msg_iov, &iov, sizeof(iov)) ||
		    peek(pid, (unsigned long)iov.iov_base, &h, sizeof(h)))
			return 1;
	}
	return !(h.nlmsg_type >= RTM_BASE && h.nlmsg_type % 4 == 2);
}

int main(int argc, char **argv)
{
	long target, count = 0;
	char *end;
	pid_t pid;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: ifm-crashpoint N COMMAND [ARG...]\n");
		return 2;
	}
	errno = 0;
	target = strtol(argv[1], &end, 10);
	if (errno || *end || target < 1) {
		fprintf(stderr, "ifm-crashpoint: N must be a positive number, not %s\n", argv[1]);
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("ifm-crashpoint: fork");
		return 2;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(127);
		raise(SIGSTOP);
		/* a sanitizer build's leak check dies under ptrace: the tests'
		 * TRACED_ASAN (tests/helpers.bash, NAME=VALUE) says how to run
		 * the traced command (ASan's other checks stay) */
		const char *traced = getenv("TRACED_ASAN");
		if (traced && strchr(traced, '='))
			putenv((char *)traced);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "ifm-crashpoint: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		fprintf(stderr, "ifm-crashpoint: the child did not stop for tracing\n");
		return 2;
	}
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	for (int sig = 0;; ) {
		struct __ptrace_syscall_info info;
		struct user_regs_struct regs;

		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0 || waitpid(pid, &status, 0) < 0) {
			perror("ifm-crashpoint: tracing");
			return 2;
		}
		sig = 0;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			printf("exited %d after %ld requests\n",
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), count);
			return 3;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			/* a signal for the command (not exec's SIGTRAP): pass it on */
			if (WSTOPSIG(status) != SIGTRAP)
				sig = WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0 ||
		    info.op != PTRACE_SYSCALL_INFO_EXIT || info.exit.is_error)
			continue;
		if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
			continue;
		if (regs.orig_rax != SYS_sendto && regs.orig_rax != SYS_sendmsg && regs.orig_rax != SYS_sendmmsg)
			continue;
		if (!is_netlink(pid, (long)regs.rdi) || !is_change(pid, (long)regs.orig_rax, regs.rsi) ||
		    ++count < target)
			continue;
		if (getenv("IFM_CRASHPOINT_HOLD")) {
			printf("holding\n");
			fflush(stdout);
			sleep((unsigned)atoi(getenv("IFM_CRASHPOINT_HOLD")));
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		printf("killed\n");
		return 0;
	}
}
