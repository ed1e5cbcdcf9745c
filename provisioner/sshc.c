/*
 * sshc.c: SSH to the guest with libssh, host key pinned (see sshc.h).
 *
 * The session reads no ssh_config and no known_hosts file: the only key it
 * accepts is the pinned public key file, compared with ssh_key_cmp() right
 * after the key exchange and before any authentication.  Only ed25519 host
 * keys are negotiated, since that is the type the provisioner generates.
 * Errors that are worth a retry while a guest boots (refused, timed out,
 * authentication not yet possible) leave e->code at 0; a wrong host key sets
 * EXIT_HOSTKEY and must never be retried away.
 *
 * A guest on a remote libvirt host is reached through that host: the session
 * runs over a socket pair whose other end a thread copies to a direct-tcpip
 * channel (jump.c).  The tunnels of open sessions are kept in one small
 * table under a mutex, so that sshc_close() can wait for its thread: the
 * one piece of shared state here, since sshc_close() gets only the session.
 */
#include "sshc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "jump.h"

#define SSHC_TUNNELS_MAX 32

static struct {
	ssh_session s;
	struct jump_tunnel *t;
} tunnels[SSHC_TUNNELS_MAX];
static pthread_mutex_t tunnels_lock = PTHREAD_MUTEX_INITIALIZER;

static int tunnel_add(ssh_session s, struct jump_tunnel *t)
{
	int i, ret = -1;

	pthread_mutex_lock(&tunnels_lock);
	for (i = 0; i < SSHC_TUNNELS_MAX && ret < 0; i++)
		if (tunnels[i].s == NULL) {
			tunnels[i].s = s;
			tunnels[i].t = t;
			ret = 0;
		}
	pthread_mutex_unlock(&tunnels_lock);
	return ret;
}

static struct jump_tunnel *tunnel_take(ssh_session s)
{
	struct jump_tunnel *t = NULL;
	int i;

	pthread_mutex_lock(&tunnels_lock);
	for (i = 0; i < SSHC_TUNNELS_MAX; i++)
		if (tunnels[i].s == s) {
			t = tunnels[i].t;
			tunnels[i].s = NULL;
			tunnels[i].t = NULL;
			break;
		}
	pthread_mutex_unlock(&tunnels_lock);
	return t;
}

/* Through the libvirt host of t->jump_uri to t->host:t->port: s gets the
 * tunnel's socket.  0 also when there is no jump (nothing to do). */
static int via_jump(const struct ssh_target *t, ssh_session s, struct err *e)
{
	struct jump_host j;
	ssh_session js = NULL;
	ssh_channel ch = NULL;
	struct jump_tunnel *tn = NULL;
	int fd = -1, r = jump_parse_uri(t->jump_uri, &j, e);

	if (r <= 0)
		return r;
	if (jump_connect(&j, t->timeout_s, &js, e) < 0)
		return -1;
	if (jump_channel(js, t->host, t->port, &ch, e) < 0) {
		sshc_close(js);
		return -1;
	}
	if (jump_tunnel_start(js, ch, &fd, &tn, e) < 0) {
		ssh_channel_free(ch);
		sshc_close(js);
		return -1;
	}
	if (tunnel_add(s, tn) < 0 || ssh_options_set(s, SSH_OPTIONS_FD, &fd) < 0) {
		tunnel_take(s);
		jump_tunnel_join(tn); /* closes fd: the thread ends */
		return err_set(e, "ssh: too many tunnels open at once");
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sshc_fingerprint(ssh_key key, char *buf, size_t n)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(buf, n, "?");
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return -1;
	snprintf(buf, n, "%s", fp);
	ssh_string_free_char(fp);
	return 0;
}

static int check_host_key(ssh_session s, const struct ssh_target *t, struct err *e)
{
	ssh_key server = NULL, pinned = NULL;
	char fs[128], fp[128];
	int ret = -1;

	if (ssh_pki_import_pubkey_file(t->hostkey_pub, &pinned) != SSH_OK) {
		err_set(e, "cannot read the pinned host key %s", t->hostkey_pub);
		goto done;
	}
	if (ssh_get_server_publickey(s, &server) != SSH_OK) {
		err_set(e, "%s:%u sent no host key: %s", t->host, t->port, ssh_get_error(s));
		goto done;
	}
	if (ssh_key_cmp(server, pinned, SSH_KEY_CMP_PUBLIC) != 0) {
		sshc_fingerprint(server, fs, sizeof(fs));
		sshc_fingerprint(pinned, fp, sizeof(fp));
		err_setc(e, EXIT_HOSTKEY,
		         "host key mismatch at %s:%u: the server presented %s, the pinned key %s "
		         "is %s; refusing to connect (if this VM was rebuilt outside inception, "
		         "run `inception destroy` and `inception up`)",
		         t->host, t->port, fs, t->hostkey_pub, fp);
		goto done;
	}
	ret = 0;
done:
	ssh_key_free(server);
	ssh_key_free(pinned);
	return ret;
}

int sshc_connect(const struct ssh_target *t, ssh_session *out, struct err *e)
{
	ssh_session s = ssh_new();
	ssh_key priv = NULL;
	int port = (int)t->port;
	long timeout = t->timeout_s > 0 ? t->timeout_s : 10;
	bool no = false;
	int r, ret = -1;

	if (s == NULL)
		return err_set(e, "ssh: out of memory");
	if (ssh_options_set(s, SSH_OPTIONS_HOST, t->host) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, t->user) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519") < 0) {
		err_set(e, "ssh options: %s", ssh_get_error(s));
		goto done;
	}
	if (via_jump(t, s, e) < 0)
		goto done;
	if (ssh_connect(s) != SSH_OK) {
		err_set(e, "ssh %s@%s:%u: %s", t->user, t->host, t->port, ssh_get_error(s));
		goto done;
	}
	if (check_host_key(s, t, e) < 0)
		goto done;
	if (ssh_pki_import_privkey_file(t->identity, NULL, NULL, NULL, &priv) != SSH_OK) {
		err_setc(e, EXIT_FAIL, "cannot read the identity %s", t->identity);
		goto done;
	}
	r = ssh_userauth_publickey(s, NULL, priv);
	if (r != SSH_AUTH_SUCCESS) {
		err_set(e, "ssh %s@%s:%u: the key %s was not accepted%s%s", t->user, t->host,
		        t->port, t->identity, r == SSH_AUTH_ERROR ? ": " : "",
		        r == SSH_AUTH_ERROR ? ssh_get_error(s) : "");
		goto done;
	}
	*out = s;
	s = NULL;
	ret = 0;
done:
	ssh_key_free(priv);
	sshc_close(s);
	return ret;
}

/* Line splitting for one stream (a line over SSHC_LINE_MAX is refused,
 * so the buffer never holds more than one such line and a read). */
struct linebuf {
	struct buf b;
};

/* Appends data and hands every complete line to fn; -1 when a line grows
 * past SSHC_LINE_MAX (or memory runs out). */
static int lb_feed(struct linebuf *lb, const char *data, size_t n, sshc_line_fn fn, void *arg)
{
	size_t i, start = 0;
	char *p;

	if (buf_add(&lb->b, data, n, NULL, NULL) < 0)
		return -1;
	p = lb->b.p;
	for (i = 0; i < lb->b.len; i++) {
		if (p[i] != '\n')
			continue;
		p[i] = '\0';
		if (i > start && p[i - 1] == '\r')
			p[i - 1] = '\0';
		if (i - start > SSHC_LINE_MAX)
			return -1;
		fn(p + start, arg);
		start = i + 1;
	}
	buf_consume(&lb->b, start);
	return lb->b.len > SSHC_LINE_MAX ? -1 : 0;
}

static void lb_flush(struct linebuf *lb, sshc_line_fn fn, void *arg)
{
	if (lb->b.len > 0 && fn != NULL)
		fn(lb->b.p, arg); /* NUL-terminated by buf */
	buf_consume(&lb->b, lb->b.len);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Reads what is buffered on one stream, adding to *total; returns the
 * bytes read, -1 on a read error, -2 past a bound. */
static int drain(ssh_channel ch, int is_stderr, struct linebuf *lb, sshc_line_fn fn, void *arg,
                 size_t *total, size_t max)
{
	char buf[16384];
	int got = 0;

	for (;;) {
		int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_stderr);
		if (n == SSH_ERROR)
			return -1;
		if (n <= 0)
			return got;
		got += n;
		*total += (size_t)n;
		if (max && *total > max)
			return -2;
		if (fn != NULL) {
			if (lb_feed(lb, buf, (size_t)n, fn, arg) < 0)
				return -2;
		} else {
			write_all(is_stderr ? STDERR_FILENO : STDOUT_FILENO, buf, (size_t)n);
		}
	}
}

/* Longer than 60 lines: the poll loop over one channel (stdout, stderr, bounds, deadline) and its
 * exit status share the channel and the line buffers. */
int sshc_run(ssh_session s, const char *cmd, const struct sshc_opts *o, int *exit_status,
             struct err *e)
{
	ssh_channel ch = ssh_channel_new(s);
	struct linebuf out, errb;
	long deadline = o->timeout_s > 0 ? now_ms() + (long)o->timeout_s * 1000 : o->deadline_ms;
	size_t total = 0;
	int ret = -1;

	buf_init(&out.b, SIZE_MAX);
	buf_init(&errb.b, SIZE_MAX);
	if (ch == NULL)
		return err_set(e, "ssh: cannot create a channel: %s", ssh_get_error(s));
	if (ssh_channel_open_session(ch) != SSH_OK) {
		err_set(e, "ssh: cannot open a session: %s", ssh_get_error(s));
		goto done;
	}
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		err_set(e, "ssh: cannot run the command: %s", ssh_get_error(s));
		goto done;
	}
	for (;;) {
		int r = ssh_channel_poll_timeout(ch, 200, 0);
		int a, b;

		if (r == SSH_ERROR) {
			err_set(e, "ssh: connection lost while running the command: %s",
			        ssh_get_error(s));
			goto done;
		}
		a = drain(ch, 0, &out, o->on_line, o->arg, &total, o->max_output);
		b = a < 0 ? 0 : drain(ch, 1, &errb, o->on_err_line, o->arg, &total, o->max_output);
		if (a == -2 || b == -2) {
			if (o->max_output && total > o->max_output)
				err_set(e,
				        "ssh: the guest sent more than %zu KiB of output for `%s`: "
				        "refusing the rest",
				        o->max_output / 1024, cmd);
			else
				err_set(e,
				        "ssh: the guest sent a line longer than %d KiB for `%s`: "
				        "refusing it",
				        SSHC_LINE_MAX / 1024, cmd);
			goto done;
		}
		if (a < 0 || b < 0) {
			err_set(e, "ssh: read error: %s", ssh_get_error(s));
			goto done;
		}
		if (a == 0 && b == 0 && (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)))
			break;
		if (deadline > 0 && now_ms() > deadline) {
			if (o->timeout_s > 0)
				err_setc(e, EXIT_TIMEOUT,
				         "timed out: `%s` in the VM did not finish within %d s "
				         "(timeouts.agent; raise it with --agent-timeout)",
				         cmd, o->timeout_s);
			else
				err_setc(e, EXIT_TIMEOUT,
				         "timed out: `%s` in the VM did not finish in time", cmd);
			goto done;
		}
	}
	lb_flush(&out, o->on_line, o->arg);
	lb_flush(&errb, o->on_err_line, o->arg);
	*exit_status = ssh_channel_get_exit_status(ch);
	if (*exit_status < 0) {
		err_set(e, "ssh: the connection closed before the command reported its status");
		goto done;
	}
	ret = 0;
done:
	buf_free(&out.b);
	buf_free(&errb.b);
	if (ssh_channel_is_open(ch))
		ssh_channel_close(ch);
	ssh_channel_free(ch);
	return ret;
}

int sshc_exec_deadline(ssh_session s, const char *cmd, sshc_line_fn on_line,
                       sshc_line_fn on_err_line, void *arg, int *exit_status, long deadline_ms,
                       struct err *e)
{
	struct sshc_opts o = {0};

	o.on_line = on_line;
	o.on_err_line = on_err_line;
	o.arg = arg;
	o.deadline_ms = deadline_ms;
	return sshc_run(s, cmd, &o, exit_status, e);
}

int sshc_exec(ssh_session s, const char *cmd, sshc_line_fn on_line, sshc_line_fn on_err_line,
              void *arg, int *exit_status, struct err *e)
{
	return sshc_exec_deadline(s, cmd, on_line, on_err_line, arg, exit_status, 0, e);
}

void sshc_close(ssh_session s)
{
	struct jump_tunnel *t;

	if (s == NULL)
		return;
	t = tunnel_take(s);
	if (ssh_is_connected(s))
		ssh_disconnect(s);
	ssh_free(s);
	jump_tunnel_join(t); /* closes the tunnel's socket: its thread ends */
}
