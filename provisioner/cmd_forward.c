/*
 * cmd_forward.c: `inception forward [VM] [LOCAL:]GUEST` (see forward.h).
 *
 * One loop over poll(): the listener on 127.0.0.1:LOCAL, the SSH session's
 * socket (when the route is over SSH) and every accepted connection.  A
 * connection is copied to its channel with jump_pipe_step(), or to its TCP
 * peer with relay_step() below; reads never block, so one slow browser tab
 * does not stall the others.  Ctrl-C (or SIGTERM) ends the loop.
 */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "jump.h"
#include "report.h"
#include "sshc.h"
#include "vmstate.h"

#define FWD_CONNS_MAX 64

static int parse_port(const char *s, size_t len, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int forward_spec_parse(const char *spec, unsigned *local, unsigned *guest, struct err *e)
{
	const char *colon = strchr(spec, ':');

	*local = 0;
	if (colon != NULL && strchr(colon + 1, ':') != NULL)
		return err_setc(e, EXIT_USAGE,
		                "forward: \"%s\": give [LOCAL:]GUEST, e.g. 443 or 9443:443", spec);
	if (colon != NULL && parse_port(spec, (size_t)(colon - spec), local) < 0)
		return err_setc(e, EXIT_USAGE,
		                "forward: \"%s\": the local port is not a port number (1..65535)",
		                spec);
	if (parse_port(colon ? colon + 1 : spec, strlen(colon ? colon + 1 : spec), guest) < 0)
		return err_setc(e, EXIT_USAGE,
		                "forward: \"%s\": the guest port is not a port number (1..65535)",
		                spec);
	return 0;
}

int forward_find(const char *forwards, unsigned guest, char *addr, size_t n, unsigned *port)
{
	const char *p = forwards;

	while (p != NULL && *p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *arrow = memchr(p, '>', len);
		unsigned hp, gp;

		if (arrow != NULL && arrow > p && arrow[-1] == '-') {
			const char *colon = arrow - 1;
			while (colon > p && *colon != ':')
				colon--;
			if (*colon == ':' &&
			    parse_port(arrow + 1, len - (size_t)(arrow + 1 - p), &gp) == 0 &&
			    parse_port(colon + 1, (size_t)(arrow - 1 - colon - 1), &hp) == 0 &&
			    gp == guest && (size_t)(colon - p) < n) {
				memcpy(addr, p, (size_t)(colon - p));
				addr[colon - p] = '\0';
				*port = hp;
				return 1;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* ---- the route --------------------------------------------------------- */

struct route {
	ssh_session s; /* over SSH (the libvirt host or the guest), or NULL */
	char host[64]; /* where the channel (or the TCP relay) goes */
	unsigned port;
	char via[512]; /* for the message */
};

/* From the VM's state: the forward through the libvirt host (or on this
 * host), the guest's address (nat), or the guest's own SSH server. */
static int route_find(struct vm_target *vt, const struct vm_state *st, unsigned guest,
                      struct route *r, struct err *e)
{
	struct jump_host j;
	int remote = jump_parse_uri(st->uri, &j, e);

	memset(r, 0, sizeof(*r));
	if (remote < 0)
		return -1;
	if (strcmp(st->net, "nat") == 0) {
		snprintf(r->host, sizeof(r->host), "%s", st->ssh_host);
		r->port = guest;
	} else if (forward_find(st->forwards, guest, r->host, sizeof(r->host), &r->port) == 1) {
		if (strcmp(r->host, "0.0.0.0") == 0)
			snprintf(r->host, sizeof(r->host), "127.0.0.1");
	} else {
		/* no forward for that port: the guest's sshd opens it on its loopback */
		if (sshc_connect(&vt->t, &r->s, e) < 0)
			return -1;
		snprintf(r->host, sizeof(r->host), "127.0.0.1");
		r->port = guest;
		snprintf(r->via, sizeof(r->via), "through the VM's SSH (port %u has no forward)",
		         guest);
		return 0;
	}
	if (remote == 0) {
		snprintf(r->via, sizeof(r->via), "through %s:%u on this host", r->host, r->port);
		return 0;
	}
	if (jump_connect(&j, 10, &r->s, e) < 0)
		return -1;
	{
		char who[400];
		jump_describe(&j, who, sizeof(who));
		snprintf(r->via, sizeof(r->via), "through %s to its %s:%u", who, r->host, r->port);
	}
	return 0;
}

/* ---- the loop ---------------------------------------------------------- */

struct conn {
	ssh_channel ch; /* to the guest port over SSH ... */
	int peer;       /* ... or the TCP connection of the relay */
	int fd;         /* the accepted client */
	int fd_eof, other_eof;
};

static volatile sig_atomic_t stop_forward;
static void on_stop(int sig)
{
	(void)sig;
	stop_forward = 1;
}

/* The TCP relay's round, as jump_pipe_step for a channel. */
static int relay_step(struct conn *c)
{
	char buf[32768];
	int moved;

	do {
		int ends[2] = {c->fd, c->peer}, *eofs[2] = {&c->fd_eof, &c->other_eof}, i;

		moved = 0;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (*eofs[i])
				continue;
			n = recv(ends[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				if (send(ends[1 - i], buf, (size_t)n, MSG_NOSIGNAL) != n)
					return -1;
				moved = 1;
			} else if (n == 0) {
				*eofs[i] = 1;
				shutdown(ends[1 - i], SHUT_WR);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				return -1;
			}
		}
	} while (moved);
	return c->fd_eof && c->other_eof ? 0 : 1;
}

static void conn_close(struct conn *c)
{
	if (c->ch != NULL) {
		if (ssh_channel_is_open(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (c->peer >= 0)
		close(c->peer);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = c->peer = -1;
}

static int tcp_connect(const char *host, unsigned port)
{
	struct sockaddr_in a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A new client: its channel or TCP peer; a refusal is reported and the
 * client closed, the loop goes on. */
static void conn_open(const struct route *r, int fd, struct conn *c)
{
	struct err e = {"", 0};

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->peer = -1;
	if (r->s != NULL) {
		if (jump_channel(r->s, r->host, r->port, &c->ch, &e) == 0)
			return;
		report_warn("%s", e.msg);
	} else {
		c->peer = tcp_connect(r->host, r->port);
		if (c->peer >= 0)
			return;
		report_warn("cannot connect to %s:%u: %s", r->host, r->port, strerror(errno));
	}
	close(fd);
	c->fd = -1;
}

/* Longer than 60 lines: one poll loop whose parts (listener, session,
 * connections, their removal) share the table of connections. */
static int serve(const struct route *r, int lfd, struct err *e)
{
	struct conn conns[FWD_CONNS_MAX];
	struct pollfd pf[2 + 2 * FWD_CONNS_MAX];
	size_t n = 0, i;
	int ret = 0;

	while (!stop_forward) {
		size_t np = 0;

		pf[np++] = (struct pollfd){lfd, POLLIN, 0};
		if (r->s != NULL)
			pf[np++] = (struct pollfd){ssh_get_fd(r->s), POLLIN, 0};
		for (i = 0; i < n; i++) {
			pf[np++] = (struct pollfd){conns[i].fd, POLLIN, 0};
			if (conns[i].peer >= 0)
				pf[np++] = (struct pollfd){conns[i].peer, POLLIN, 0};
		}
		if (poll(pf, np, 50) < 0 && errno != EINTR) {
			ret = err_set(e, "forward: poll: %s", strerror(errno));
			break;
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && n == FWD_CONNS_MAX) {
				report_warn("forward: %d connections open: refusing one more",
				            FWD_CONNS_MAX);
				close(fd);
			} else if (fd >= 0) {
				conn_open(r, fd, &conns[n]);
				if (conns[n].fd >= 0)
					n++;
			}
		}
		for (i = 0; i < n;) {
			int s = conns[i].ch ? jump_pipe_step(conns[i].ch, conns[i].fd,
			                                     &conns[i].fd_eof, &conns[i].other_eof)
			                    : relay_step(&conns[i]);
			if (s > 0) {
				i++;
				continue;
			}
			conn_close(&conns[i]);
			conns[i] = conns[--n];
		}
		if (r->s != NULL && !ssh_is_connected(r->s)) {
			ret = err_set(e, "forward: the SSH connection (%s) was lost", r->via);
			break;
		}
	}
	for (i = 0; i < n; i++)
		conn_close(&conns[i]);
	return ret;
}

/* 127.0.0.1:port (0: any free port); the port actually bound into *bound. */
static int listen_on(unsigned port, unsigned *bound)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

static const char *url_scheme(unsigned guest)
{
	if (guest == 443 || guest == 8443)
		return "https://";
	if (guest == 80 || guest == 8080)
		return "http://";
	return "";
}

/* Longer than 60 lines: arguments, state, route, listener and the loop in
 * the order a reader follows them, each with its own cleanup. */
int cmd_forward(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	struct vm_target vt;
	struct vm_state st;
	struct route r = {0};
	struct sigaction sa;
	unsigned local = 0, guest = 0, bound = 0;
	char url[128], portbuf[16];
	int c, lfd = -1, ret = -1;

	while ((c = cli_getopt(cli, argc, argv, "", none, e)) != -1)
		if (c == '?')
			return -1;
	if (argc - optind == 2) {
		if (config_set(&cli->cfg, "vm.name", argv[optind], "forward VM", e) < 0)
			return -1;
		optind++;
	}
	if (argc - optind != 1)
		return err_setc(e, EXIT_USAGE,
		                "usage: inception forward [VM] [LOCAL:]GUEST "
		                "(e.g. inception forward 443)");
	if (forward_spec_parse(argv[optind], &local, &guest, e) < 0)
		return -1;
	if (vm_target(&cli->cfg, &vt, e) < 0 || vmstate_load(&vt.paths, &st, e) < 0)
		return -1;
	if (route_find(&vt, &st, guest, &r, e) < 0)
		return -1;
	/* default: the guest port itself if unprivileged, else the VM's host
	 * port for it; either busy (a local VM's own forward): any free port */
	lfd = listen_on(local ? local : guest >= 1024 ? guest : (r.s ? r.port : 0), &bound);
	if (lfd < 0 && local) {
		err_setc(e, EXIT_USAGE,
		         "forward: cannot listen on 127.0.0.1:%u: %s (choose another: inception "
		         "forward PORT:%u)",
		         local, strerror(errno), guest);
		goto done;
	}
	if (lfd < 0)
		lfd = listen_on(0, &bound);
	if (lfd < 0) {
		err_set(e, "forward: cannot listen on 127.0.0.1: %s", strerror(errno));
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(url, sizeof(url), "%s127.0.0.1:%u%s", url_scheme(guest), bound,
	         url_scheme(guest)[0] ? "/" : "");
	snprintf(portbuf, sizeof(portbuf), "%u", bound);
	report_kv_begin(NULL);
	report_kv("url", url, NULL);
	report_kv_raw("local_port", portbuf, NULL);
	snprintf(portbuf, sizeof(portbuf), "%u", guest);
	report_kv_raw("guest_port", portbuf, NULL);
	report_kv("vm", cli->cfg.vm_name, NULL);
	report_kv("via", r.via, NULL);
	report_kv_end();
	fflush(stdout);
	report_info("forwarding %s to port %u of VM %s; Ctrl-C to stop", url, guest,
	            cli->cfg.vm_name);
	if (guest == 443 && st.login[0])
		report_info(
		    "WordPress answers to its own name on 443: with `127.0.0.1 %s.42.fr` in "
		    "/etc/hosts and `forward 443:443`, open https://%s.42.fr/",
		    st.login, st.login);
	ret = serve(&r, lfd, e);
done:
	if (lfd >= 0)
		close(lfd);
	sshc_close(r.s);
	return ret;
}
