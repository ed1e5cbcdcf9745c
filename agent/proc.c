/*
 * proc.c: fork/exec with output to a log, line callback, interruption (see proc.h).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "events.h"
#include "util.h"

volatile sig_atomic_t proc_interrupted;

struct linebuf {
	char line[4096];
	size_t n;
};

static void feed(struct linebuf *lb, const char *p, size_t n, const struct proc_opts *o)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' || p[i] == '\r' || lb->n == sizeof(lb->line) - 1) {
			lb->line[lb->n] = '\0';
			if (lb->n && o && o->on_line)
				o->on_line(lb->line, o->arg);
			lb->n = 0;
			if (p[i] == '\n' || p[i] == '\r')
				continue;
		}
		lb->line[lb->n++] = p[i];
	}
}

/* Longer than 60 lines: the poll loop (interrupt, timeout, read, log, capture, lines) shares the
 * child's process group and its pipe with the wait that follows; each branch is a few lines. */
int proc_run(const char *const argv[], const struct proc_opts *o, struct err *e)
{
	int pfd[2], logfd = -1, status = 0, rc = -1, killed = 0, timed_out = 0;
	long start = ev_now_ms(), kill_at = 0;
	char buf[8192];
	struct buf cap;
	struct linebuf lb = {.n = 0};
	pid_t pid;

	buf_init(&cap, SIZE_MAX);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_set(e, "pipe: %s", strerror(errno));
	if (o && o->log_path) {
		logfd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (logfd >= 0) {
			char hdr[1024];
			size_t i, off;

			off = (size_t)snprintf(hdr, sizeof(hdr), "$");
			for (i = 0; argv[i] && off < sizeof(hdr) - 2; i++)
				off +=
				    (size_t)snprintf(hdr + off, sizeof(hdr) - off, " %s", argv[i]);
			if (off > sizeof(hdr) - 2)
				off = sizeof(hdr) - 2;
			hdr[off++] = '\n';
			if (write(logfd, hdr, off) < 0) { /* a log we cannot write is not fatal */
			}
		}
	}
	{
		/* its own process group, so that an interruption ends everything
		 * it started; the lock goes on as fd 3 */
		struct spawn_opts so = {pfd[1], SPAWN_SAME_AS_OUT, o ? o->keep_fd : -1,
		                        1,      o ? o->env : NULL, o ? o->cwd : NULL,
		                        NULL};

		if (spawn_argv((char *const *)argv, &so, &pid, e) < 0) {
			close(pfd[0]);
			close(pfd[1]);
			if (logfd >= 0)
				close(logfd);
			return -1;
		}
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int r = poll(&p, 1, 500);
		long now = ev_now_ms();

		if ((proc_interrupted ||
		     (o && o->timeout_s && now - start > o->timeout_s * 1000L)) &&
		    !killed) {
			if (!proc_interrupted)
				timed_out = 1;
			kill(-pid, SIGTERM);
			killed = 1;
			kill_at = now + 10000;
		}
		if (killed && kill_at && now > kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		{
			ssize_t n = read(pfd[0], buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (logfd >= 0 && write(logfd, buf, (size_t)n) < 0) {
				/* keep going without the log */
			}
			if (o && o->capture)
				buf_add(&cap, buf, (size_t)n, NULL, NULL); /* best effort */
			feed(&lb, buf, (size_t)n, o);
		}
	}
	feed(&lb, "\n", 1, o);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
		if (proc_interrupted && !killed) {
			kill(-pid, SIGTERM);
			killed = 1;
		}
	}
	if (logfd >= 0)
		close(logfd);
	if (o && o->capture)
		*o->capture = buf_detach(&cap, NULL);
	if (timed_out)
		err_set(e, "%s timed out after %d s", argv[0], o->timeout_s);
	else if (proc_interrupted)
		err_set(e, "interrupted");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status))
		err_set(e, "%s exited with status %d", argv[0], WEXITSTATUS(status));
	else
		err_set(e, "%s killed by signal %d", argv[0],
		        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	buf_free(&cap);
	return rc;
}

int proc_capture(const char *const argv[], char **out, struct err *e)
{
	struct proc_opts o = {.capture = out};

	*out = NULL;
	return proc_run(argv, &o, e);
}
