/*
 * util.c: directories, atomic writes, XDG paths, subprocesses (see util.h).
 */
#include "util.h"

#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void hex_encode(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int path_join(char *buf, size_t n, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n)
		return err_set(e, "path too long: %.80s...", buf);
	return 0;
}

int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char tmp[PATH_MAX];
	char *p;

	if (path_join(tmp, sizeof(tmp), e, "%s", path) < 0)
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return err_set(e, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return err_set(e, "mkdir %s: %s", tmp, strerror(errno));
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	return write_file_atomic_owner(path, data, len, mode, -1, -1, e);
}

int write_file_atomic_owner(const char *path, const void *data, size_t len, mode_t mode, long uid,
                            long gid, struct err *e)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd = -1, ret = -1;

	if (path_join(tmp, sizeof(tmp), e, "%s.tmp.XXXXXX", path) < 0)
		return -1;
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(e, "create %s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) < 0 ||
	    ((uid >= 0 || gid >= 0) && fchown(fd, (uid_t)uid, (gid_t)gid) < 0)) {
		err_set(e, "chmod/chown %s: %s", tmp, strerror(errno));
		goto done;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, "write %s: %s", tmp, strerror(errno));
			goto done;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		err_set(e, "fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, "close %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_set(e, "rename %s -> %s: %s", tmp, path, strerror(errno));
		goto done;
	}
	ret = 0;
done:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int read_file(const char *path, char **data, size_t *len, struct err *e)
{
	return read_file_max(path, data, len, SIZE_MAX, e);
}

int read_file_max(const char *path, char **data, size_t *len, size_t max, struct err *e)
{
	struct buf b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, "open %s: %s", path, strerror(errno));
	buf_init(&b, max);
	if (buf_read_fd(&b, fd, path, e) < 0) {
		close(fd);
		buf_free(&b);
		return -1;
	}
	close(fd);
	*data = buf_detach(&b, len);
	return *data ? 0 : err_set(e, "read %s: out of memory", path);
}

static int xdg_dir(char *buf, size_t n, const char *var, const char *fallback, const char *sub,
                   struct err *e)
{
	const char *base = getenv(var);
	const char *home = getenv("HOME");

	if (base != NULL && base[0] == '/') {
		if (sub)
			return path_join(buf, n, e, "%s/inception/%s", base, sub);
		return path_join(buf, n, e, "%s/inception", base);
	}
	if (home == NULL || home[0] != '/')
		return err_set(e, "neither $%s nor $HOME is set to an absolute path", var);
	if (sub)
		return path_join(buf, n, e, "%s/%s/inception/%s", home, fallback, sub);
	return path_join(buf, n, e, "%s/%s/inception", home, fallback);
}

int xdg_state_dir(char *buf, size_t n, const char *sub, struct err *e)
{
	return xdg_dir(buf, n, "XDG_STATE_HOME", ".local/state", sub, e);
}

int xdg_cache_dir(char *buf, size_t n, const char *sub, struct err *e)
{
	return xdg_dir(buf, n, "XDG_CACHE_HOME", ".cache", sub, e);
}

int xdg_config_dir(char *buf, size_t n, struct err *e)
{
	return xdg_dir(buf, n, "XDG_CONFIG_HOME", ".config", NULL, e);
}

static void spawn_child(char *const argv[], const struct spawn_opts *o)
{
	int nullfd = open("/dev/null", O_RDWR);
	int out = o->out_fd >= 0 ? o->out_fd : nullfd;
	int err = o->err_fd == SPAWN_SAME_AS_OUT ? out : o->err_fd >= 0 ? o->err_fd : nullfd;
	int keep = o->keep_fd > 2 ? o->keep_fd : -1;
	size_t i;

	if (o->new_pgrp)
		setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	dup2(nullfd, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	if (keep > 3 && dup2(keep, 3) < 0)
		keep = -1;
	closefrom(keep > 2 ? 4 : 3);
	for (i = 0; o->env && o->env[i]; i++)
		putenv((char *)o->env[i]);
	if (o->path_extra) {
		const char *path = getenv("PATH");
		char newpath[4096];

		snprintf(newpath, sizeof(newpath), "%s:%s",
		         path ? path : "/usr/local/bin:/usr/bin:/bin", o->path_extra);
		setenv("PATH", newpath, 1);
	}
	if (o->cwd && chdir(o->cwd) < 0) {
		dprintf(STDERR_FILENO, "chdir %s: %s\n", o->cwd, strerror(errno));
		_exit(126);
	}
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int spawn_argv(char *const argv[], const struct spawn_opts *o, pid_t *pid, struct err *e)
{
	*pid = fork();
	if (*pid < 0)
		return err_set(e, "fork: %s", strerror(errno));
	if (*pid == 0)
		spawn_child(argv, o);
	if (o->new_pgrp)
		setpgid(*pid, *pid); /* also here: no race with a kill(-pid) right after */
	return 0;
}

/* stdout to out_pipe (or the log), stderr to the log (or /dev/null), or
 * with merge to out_pipe too. */
static int spawn(char *const argv[], const char *log_path, int out_pipe, int merge, struct err *e,
                 pid_t *pid)
{
	struct spawn_opts o = {-1, -1, -1, 0, NULL, NULL, NULL};
	int logfd = -1, ret;

	if (log_path != NULL) {
		logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (logfd < 0)
			return err_set(e, "open log %s: %s", log_path, strerror(errno));
	}
	o.out_fd = out_pipe >= 0 ? out_pipe : logfd;
	o.err_fd = merge && out_pipe >= 0 ? SPAWN_SAME_AS_OUT : logfd;
	ret = spawn_argv(argv, &o, pid, e);
	if (logfd >= 0)
		close(logfd);
	return ret;
}

int reap_argv(pid_t pid, char *const argv[], const char *log_path, struct err *e)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return err_set(e, "waitpid %s: %s", argv[0], strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return err_set(e, "%s exited with status %d%s%s%s", argv[0], WEXITSTATUS(status),
		               log_path ? " (see " : "", log_path ? log_path : "",
		               log_path ? ")" : "");
	return err_set(e, "%s killed by signal %d", argv[0],
	               WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int run_argv(char *const argv[], const char *log_path, struct err *e)
{
	pid_t pid = -1;

	if (spawn(argv, log_path, -1, 0, e, &pid) < 0)
		return -1;
	return reap_argv(pid, argv, log_path, e);
}

int run_argv_capture(char *const argv[], const char *log_path, char **out, struct err *e)
{
	struct buf b;
	struct err re = {"", 0};
	int fds[2], rr;
	pid_t pid = -1;

	if (pipe(fds) < 0)
		return err_set(e, "pipe: %s", strerror(errno));
	if (spawn(argv, log_path, fds[1], 0, e, &pid) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	buf_init(&b, SIZE_MAX);
	rr = buf_read_fd(&b, fds[0], argv[0], &re);
	close(fds[0]);
	if (reap_argv(pid, argv, log_path, e) < 0 || (rr < 0 && (*e = re, 1))) {
		buf_free(&b);
		return -1;
	}
	*out = buf_detach(&b, NULL);
	return *out ? 0 : err_set(e, "%s: out of memory", argv[0]);
}

/* Longer than 60 lines: the poll loop with its deadline, the bounded copy and the reaping share the
 * descriptors and the child; split, each part would need all of them. */
int run_argv_output(char *const argv[], int timeout_ms, size_t max, char **out, int *status,
                    struct err *e)
{
	int fds[2], st = 0, timed_out = 0;
	pid_t pid = -1;
	char *buf;
	size_t n = 0;
	long end;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	buf = malloc(max + 1);
	if (buf == NULL)
		return err_set(e, "%s: out of memory", argv[0]);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(buf);
		return err_set(e, "pipe: %s", strerror(errno));
	}
	if (spawn(argv, NULL, fds[1], 1, e, &pid) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return -1;
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		char chunk[4096];
		ssize_t r;
		long now;
		int pr;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= end) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		pr = poll(&pfd, 1, (int)(end - now));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		r = read(fds[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n < max) {
			size_t take = (size_t)r < max - n ? (size_t)r : max - n;
			memcpy(buf + n, chunk, take);
			n += take;
		}
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	buf[n] = '\0';
	*out = buf;
	if (timed_out)
		*status = -1;
	else if (WIFEXITED(st))
		*status = WEXITSTATUS(st);
	else
		*status = 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}
