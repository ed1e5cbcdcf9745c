/*
 * jump.h: reaching a remote libvirt host's loopback over SSH.
 *
 * With libvirt.uri qemu+ssh://USER@HOST:PORT/system the VMs run on HOST and
 * their user-mode forwards are bound on HOST's 127.0.0.1.  This client
 * reaches them through HOST itself: one libssh session to HOST (its host
 * key checked against the user's known_hosts, never accepted unknown) and a
 * direct-tcpip channel per connection.  jump_parse_uri reads the URI the
 * way libvirt's ssh transports do (user, host, port; keyfile and
 * known_hosts from the query); jump_tunnel carries one TCP stream over a
 * channel on a thread, so sshc can run a whole libssh session to the guest
 * through it; jump_relay is the loop of `inception forward`.
 */
#ifndef INCEPTION_JUMP_H
#define INCEPTION_JUMP_H

#include <limits.h>

#include <libssh/libssh.h>

#include "err.h"

struct jump_host {
	char user[64];
	char host[256];
	unsigned port;
	char keyfile[PATH_MAX];     /* ?keyfile=: the identity; "" = agent and ~/.ssh/id_* */
	char known_hosts[PATH_MAX]; /* ?known_hosts=, else ~/.ssh/known_hosts */
};

/* 1 and j filled when uri is a libvirt URI over SSH (qemu+ssh://,
 * qemu+libssh://, qemu+libssh2://) naming a host; 0 when the hypervisor is
 * on this host (no host part: qemu:///system, test:///default, NULL);
 * -1 with a message naming the URI when it is malformed or remote without
 * SSH (qemu+tls://...: its forwards cannot be reached from here). */
int jump_parse_uri(const char *uri, struct jump_host *j, struct err *e);

/* "user@host:port" into buf (for messages and ssh_config's ProxyJump). */
void jump_describe(const struct jump_host *j, char *buf, size_t n);

/* A session to the jump host: host key checked against j->known_hosts
 * (unknown or changed: -1 with EXIT_HOSTKEY, the key's fingerprint and what
 * to do), then authenticated with j->keyfile or the agent / default keys. */
int jump_connect(const struct jump_host *j, int timeout_s, ssh_session *out, struct err *e);

/* Connects and checks the host key only (before libvirt runs its own ssh,
 * so a wrong key gets our message): 0, or -1 as jump_connect. */
int jump_check(const char *uri, struct err *e);

/* An open direct-tcpip channel to host:port as seen from the jump host. */
int jump_channel(ssh_session s, const char *host, unsigned port, ssh_channel *out, struct err *e);

/* Carries the stream of a channel on a thread: *fd is the local end (a
 * socket) to hand to a libssh session; the thread owns s and ch and frees
 * them when the local end is closed.  jump_tunnel_join closes *fd (after
 * the session that used it is freed) and waits for the thread.  On failure
 * the caller still owns s and ch. */
struct jump_tunnel;
int jump_tunnel_start(ssh_session s, ssh_channel ch, int *fd, struct jump_tunnel **out,
                      struct err *e);
void jump_tunnel_join(struct jump_tunnel *t);

/* Copies both ways between fd and ch until both ends are closed (or *stop
 * turns non-zero); s is polled, not owned.  Returns 0, or -1 on an SSH error. */
int jump_relay_one(ssh_session s, ssh_channel ch, int fd, volatile int *stop);

/* One round of that copy without waiting (for a loop over many streams):
 * 1 while the stream lives, 0 when both directions ended, -1 on an error. */
int jump_pipe_step(ssh_channel ch, int fd, int *fd_eof, int *ch_eof);

#endif
