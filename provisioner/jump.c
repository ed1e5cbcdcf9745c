/*
 * jump.c: the remote libvirt host as an SSH jump host (see jump.h).
 *
 * The URI is parsed with libxml2's RFC 3986 parser.  The jump session reads
 * no ssh_config (what it does is what the URI says) and checks the server's
 * key with ssh_session_is_known_server() against the known_hosts file: an
 * unknown or changed key is an error that shows the key's fingerprint and
 * the command to check or accept it, never a prompt.  A stream carried over
 * a direct-tcpip channel is copied in both directions by jump_pipe_step():
 * reads never block (MSG_DONTWAIT, ssh_channel_read_nonblocking), writes do,
 * so one slow side slows the other down instead of filling memory.
 */
#include "jump.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libxml/uri.h>

#include "sshc.h"

#define JUMP_BUF 32768

static int home_dir(char *buf, size_t n)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *home = pw && pw->pw_dir && pw->pw_dir[0] ? pw->pw_dir : getenv("HOME");

	if (home == NULL || home[0] == '\0')
		return -1;
	return snprintf(buf, n, "%s", home) < (int)n ? 0 : -1;
}

/* One query parameter (name=value, percent-decoded) into out; 0 if absent. */
static int query_param(const char *query, const char *name, char *out, size_t n, int *found)
{
	size_t nl = strlen(name);
	const char *p = query;

	*found = 0;
	while (p != NULL && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			char *v = xmlURIUnescapeString(p + nl + 1, (int)(len - nl - 1), NULL);
			int r;

			if (v == NULL)
				return -1;
			r = snprintf(out, n, "%s", v);
			xmlFree(v);
			if (r < 0 || (size_t)r >= n)
				return -1;
			*found = 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Longer than 60 lines: one URI, checked field by field in the order a
 * reader would (scheme, host, port, user, query), each with its own message. */
int jump_parse_uri(const char *uri, struct jump_host *j, struct err *e)
{
	xmlURIPtr u;
	const char *plus;
	char tmp[PATH_MAX];
	int found, ret = -1;

	memset(j, 0, sizeof(*j));
	if (uri == NULL || uri[0] == '\0')
		return 0;
	u = xmlParseURI(uri);
	if (u == NULL || u->scheme == NULL)
		return err_setc(e, EXIT_USAGE,
		                "libvirt.uri \"%s\": not a URI (e.g. qemu:///system "
		                "or qemu+ssh://USER@HOST/system)",
		                uri);
	if (u->server == NULL || u->server[0] == '\0') {
		ret = 0; /* qemu:///system, test:///default: this host */
		goto done;
	}
	plus = strchr(u->scheme, '+');
	if (plus == NULL || (strcmp(plus + 1, "ssh") != 0 && strcmp(plus + 1, "libssh") != 0 &&
	                     strcmp(plus + 1, "libssh2") != 0)) {
		err_setc(e, EXIT_USAGE,
		         "libvirt.uri \"%s\": a remote host reached without SSH: inception "
		         "reaches its VMs through SSH to that host; use %.*s+ssh://USER@%s/%s",
		         uri, plus ? (int)(plus - u->scheme) : (int)strlen(u->scheme), u->scheme,
		         u->server, u->path && u->path[0] == '/' ? u->path + 1 : "system");
		goto done;
	}
	if (snprintf(j->host, sizeof(j->host), "%s", u->server) >= (int)sizeof(j->host)) {
		err_setc(e, EXIT_USAGE, "libvirt.uri \"%s\": the host name is too long", uri);
		goto done;
	}
	if (u->port < 0 || u->port > 65535) {
		err_setc(e, EXIT_USAGE, "libvirt.uri \"%s\": port %d is out of range (1..65535)",
		         uri, u->port);
		goto done;
	}
	j->port = u->port > 0 ? (unsigned)u->port : 22;
	if (u->user != NULL && u->user[0] != '\0') {
		if (snprintf(j->user, sizeof(j->user), "%s", u->user) >= (int)sizeof(j->user)) {
			err_setc(e, EXIT_USAGE, "libvirt.uri \"%s\": the user name is too long",
			         uri);
			goto done;
		}
	} else {
		const struct passwd *pw = getpwuid(getuid());
		snprintf(j->user, sizeof(j->user), "%s", pw ? pw->pw_name : "root");
	}
	if (query_param(u->query_raw, "keyfile", j->keyfile, sizeof(j->keyfile), &found) < 0 ||
	    query_param(u->query_raw, "known_hosts", j->known_hosts, sizeof(j->known_hosts),
	                &found) < 0) {
		err_setc(e, EXIT_USAGE,
		         "libvirt.uri \"%s\": a keyfile or known_hosts value is too "
		         "long or badly escaped",
		         uri);
		goto done;
	}
	if (!found) {
		if (home_dir(tmp, sizeof(tmp)) < 0 ||
		    snprintf(j->known_hosts, sizeof(j->known_hosts), "%s/.ssh/known_hosts", tmp) >=
		        (int)sizeof(j->known_hosts)) {
			err_set(e,
			        "libvirt.uri \"%s\": no home directory for ~/.ssh/known_hosts; "
			        "name the file with ?known_hosts=PATH",
			        uri);
			goto done;
		}
	}
	ret = 1;
done:
	xmlFreeURI(u);
	return ret;
}

void jump_describe(const struct jump_host *j, char *buf, size_t n)
{
	if (strchr(j->host, ':') != NULL)
		snprintf(buf, n, "%s@[%s]:%u", j->user, j->host, j->port);
	else
		snprintf(buf, n, "%s@%s:%u", j->user, j->host, j->port);
}

/* The known_hosts name of the jump host: "host" or "[host]:port". */
static void known_name(const struct jump_host *j, char *buf, size_t n)
{
	if (j->port == 22)
		snprintf(buf, n, "%s", j->host);
	else
		snprintf(buf, n, "[%s]:%u", j->host, j->port);
}

/* The server's key against known_hosts: 0 known and equal, else -1 with
 * the fingerprint and the fix. */
static int check_known(ssh_session s, const struct jump_host *j, struct err *e)
{
	enum ssh_known_hosts_e k = ssh_session_is_known_server(s);
	ssh_key key = NULL;
	char fp[128] = "?", name[300];
	const char *type = "?";

	if (k == SSH_KNOWN_HOSTS_OK)
		return 0;
	if (ssh_get_server_publickey(s, &key) == SSH_OK) {
		sshc_fingerprint(key, fp, sizeof(fp));
		type = ssh_key_type_to_char(ssh_key_type(key));
	}
	ssh_key_free(key);
	known_name(j, name, sizeof(name));
	if (k == SSH_KNOWN_HOSTS_CHANGED || k == SSH_KNOWN_HOSTS_OTHER)
		return err_setc(
		    e, EXIT_HOSTKEY,
		    "the libvirt host %s presented the %s key %s, which is NOT the key "
		    "%s holds for %s: refusing to connect (someone may be in the "
		    "middle). If the server's key really changed, check the new "
		    "fingerprint with its administrator, then: ssh-keygen -R '%s' -f %s",
		    j->host, type, fp, j->known_hosts, name, name, j->known_hosts);
	if (k == SSH_KNOWN_HOSTS_ERROR)
		return err_setc(e, EXIT_HOSTKEY,
		                "cannot check the key of the libvirt host %s against "
		                "%s: %s",
		                j->host, j->known_hosts, ssh_get_error(s));
	return err_setc(e, EXIT_HOSTKEY,
	                "the libvirt host %s is not in %s (its %s key is %s): refusing to trust "
	                "it unseen. Check this fingerprint with the server's administrator "
	                "(ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub on it), then add it: "
	                "ssh-keyscan -p %u %s >> %s",
	                name, j->known_hosts, type, fp,
	                strcmp(type, "ssh-ed25519") == 0 ? "ed25519" : "*", j->port, j->host,
	                j->known_hosts);
}

static int open_session(const struct jump_host *j, int timeout_s, ssh_session *out, struct err *e)
{
	ssh_session s = ssh_new();
	int port = (int)j->port;
	long timeout = timeout_s > 0 ? timeout_s : 10;
	bool no = false;
	char who[400];

	if (s == NULL)
		return err_set(e, "ssh: out of memory");
	jump_describe(j, who, sizeof(who));
	if (ssh_options_set(s, SSH_OPTIONS_HOST, j->host) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, j->user) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, j->known_hosts) < 0) {
		err_set(e, "ssh options for %s: %s", who, ssh_get_error(s));
		ssh_free(s);
		return -1;
	}
	if (ssh_connect(s) != SSH_OK) {
		err_set(e, "cannot reach the libvirt host over SSH (%s): %s", who,
		        ssh_get_error(s));
		ssh_free(s);
		return -1;
	}
	if (check_known(s, j, e) < 0) {
		ssh_disconnect(s);
		ssh_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int jump_connect(const struct jump_host *j, int timeout_s, ssh_session *out, struct err *e)
{
	ssh_session s = NULL;
	ssh_key priv = NULL;
	char who[400];
	int r;

	if (open_session(j, timeout_s, &s, e) < 0)
		return -1;
	jump_describe(j, who, sizeof(who));
	if (j->keyfile[0]) {
		if (ssh_pki_import_privkey_file(j->keyfile, NULL, NULL, NULL, &priv) != SSH_OK) {
			sshc_close(s);
			return err_set(e, "cannot read the key %s (keyfile= in libvirt.uri)",
			               j->keyfile);
		}
		r = ssh_userauth_publickey(s, NULL, priv);
		ssh_key_free(priv);
	} else {
		r = ssh_userauth_publickey_auto(s, NULL, NULL);
	}
	if (r != SSH_AUTH_SUCCESS) {
		err_set(e, "the libvirt host %s refused our key (%s): %s", who,
		        j->keyfile[0] ? j->keyfile : "ssh-agent and ~/.ssh/id_*",
		        r == SSH_AUTH_ERROR ? ssh_get_error(s) : "not accepted");
		sshc_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int jump_check(const char *uri, struct err *e)
{
	struct jump_host j;
	ssh_session s = NULL;
	int r = jump_parse_uri(uri, &j, e);

	if (r <= 0)
		return r;
	if (open_session(&j, 10, &s, e) < 0)
		return -1;
	sshc_close(s);
	return 0;
}

int jump_channel(ssh_session s, const char *host, unsigned port, ssh_channel *out, struct err *e)
{
	ssh_channel ch = ssh_channel_new(s);

	if (ch == NULL)
		return err_set(e, "ssh: cannot create a channel: %s", ssh_get_error(s));
	if (ssh_channel_open_forward(ch, host, (int)port, "127.0.0.1", 0) != SSH_OK) {
		err_set(e, "ssh: the far side cannot open %s:%u for us: %s", host, port,
		        ssh_get_error(s));
		ssh_channel_free(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

/* ---- copying a stream ------------------------------------------------ */

static int write_fd(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One round of copying without waiting: 1 while the pipe lives, 0 when both
 * directions have ended, -1 on an error (either side gone). */
static int pipe_step(ssh_channel ch, int fd, int *fd_eof, int *ch_eof)
{
	char buf[JUMP_BUF];
	int moved;

	do {
		moved = 0;
		if (!*fd_eof) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				if (ssh_channel_write(ch, buf, (uint32_t)n) != (int)n)
					return -1;
				moved = 1;
			} else if (n == 0) {
				*fd_eof = 1;
				ssh_channel_send_eof(ch);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				return -1;
			}
		}
		if (!*ch_eof) {
			int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 0);
			if (n == SSH_ERROR)
				return -1;
			if (n > 0) {
				if (write_fd(fd, buf, (size_t)n) < 0)
					return -1;
				moved = 1;
			} else if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) {
				*ch_eof = 1;
				shutdown(fd, SHUT_WR);
			}
		}
	} while (moved);
	return *fd_eof && *ch_eof ? 0 : 1;
}

int jump_relay_one(ssh_session s, ssh_channel ch, int fd, volatile int *stop)
{
	int fd_eof = 0, ch_eof = 0, r = 1;

	while (r > 0 && !(stop && *stop)) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {ssh_get_fd(s), POLLIN, 0}};

		/* short: libssh may hold data it read already */
		if (poll(p, 2, 50) < 0 && errno != EINTR)
			return -1;
		r = pipe_step(ch, fd, &fd_eof, &ch_eof);
	}
	return r < 0 ? -1 : 0;
}

int jump_pipe_step(ssh_channel ch, int fd, int *fd_eof, int *ch_eof)
{
	return pipe_step(ch, fd, fd_eof, ch_eof);
}

/* ---- a tunnel on a thread (sshc through the jump host) --------------- */

struct jump_tunnel {
	pthread_t th;
	ssh_session s;
	ssh_channel ch;
	int fd;      /* the thread's end of the socket pair */
	int user_fd; /* the session's end (libssh never closes an fd it was given) */
};

static void *tunnel_main(void *arg)
{
	struct jump_tunnel *t = arg;

	jump_relay_one(t->s, t->ch, t->fd, NULL);
	if (ssh_channel_is_open(t->ch))
		ssh_channel_close(t->ch);
	ssh_channel_free(t->ch);
	sshc_close(t->s);
	close(t->fd);
	return NULL;
}

int jump_tunnel_start(ssh_session s, ssh_channel ch, int *fd, struct jump_tunnel **out,
                      struct err *e)
{
	struct jump_tunnel *t = calloc(1, sizeof(*t));
	int sp[2];

	if (t == NULL)
		return err_set(e, "out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		free(t);
		return err_set(e, "socketpair: %s", strerror(errno));
	}
	t->s = s;
	t->ch = ch;
	t->fd = sp[1];
	t->user_fd = sp[0];
	if (pthread_create(&t->th, NULL, tunnel_main, t) != 0) {
		close(sp[0]);
		close(sp[1]);
		free(t);
		return err_set(e, "cannot start the tunnel thread");
	}
	*fd = sp[0];
	*out = t;
	return 0;
}

void jump_tunnel_join(struct jump_tunnel *t)
{
	if (t == NULL)
		return;
	close(t->user_fd); /* the thread sees the end of the stream */
	pthread_join(t->th, NULL);
	free(t);
}
