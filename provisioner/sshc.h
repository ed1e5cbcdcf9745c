/*
 * sshc.h: SSH to the guest with libssh, host key pinned.
 *
 * The provisioner generates the guest's host key itself and puts it into the
 * cloud-init seed, so it knows the key before the first connection: sshc
 * compares the server's key with the pinned public key and refuses any other
 * (EXIT_HOSTKEY, both SHA256 fingerprints in the message).  There is no
 * trust-on-first-use and no prompt.  A VM on a remote libvirt host is
 * reached through that host (a direct-tcpip channel, jump.h); the guest's
 * pinned key is checked the same way at the end of the tunnel.
 */
#ifndef INCEPTION_SSHC_H
#define INCEPTION_SSHC_H

#include <stddef.h>

#include <libssh/libssh.h>

#include "err.h"

struct ssh_target {
	const char *host;        /* "127.0.0.1" (user network) or the VM's IP */
	unsigned port;           /* forwarded port, or 22 */
	const char *user;        /* the 42 login */
	const char *identity;    /* private user key file (ed25519, 0600) */
	const char *hostkey_pub; /* pinned host public key file (OpenSSH format) */
	int timeout_s;           /* connect timeout per attempt */
	const char *jump_uri;    /* the libvirt URI: when it names a remote host
	                          * (qemu+ssh://), host:port is reached through
	                          * that host (jump.h); NULL or local = directly */
};

/* Connects, checks the pinned host key, authenticates with the identity.
 * On success *out is a connected, authenticated session (free with
 * sshc_close).  Host key mismatch: -1 with e->code = EXIT_HOSTKEY. */
int sshc_connect(const struct ssh_target *t, ssh_session *out, struct err *e);

/* Runs cmd; each complete line of stdout is passed to on_line (may be NULL:
 * then stdout is written to our stdout), stderr is written to our stderr
 * (or to on_err_line if not NULL).  *exit_status gets the remote status. */
typedef void (*sshc_line_fn)(const char *line, void *arg);
int sshc_exec(ssh_session s, const char *cmd, sshc_line_fn on_line, sshc_line_fn on_err_line,
              void *arg, int *exit_status, struct err *e);

/* Like sshc_exec, but gives up (-1, e->code EXIT_TIMEOUT) once the
 * monotonic clock (ms, as report_now_ms) passes deadline_ms; 0 = no
 * deadline.  A session that drops before the command reports its status is
 * an error with e->code 0 (worth a retry: sshd restarts while cloud-init
 * runs). */
int sshc_exec_deadline(ssh_session s, const char *cmd, sshc_line_fn on_line,
                       sshc_line_fn on_err_line, void *arg, int *exit_status, long deadline_ms,
                       struct err *e);

/* What the guest may send back, and for how long (sshc_run). */
#define SSHC_LINE_MAX (64 * 1024) /* bytes of one line given to a line callback */
struct sshc_opts {
	sshc_line_fn on_line, on_err_line; /* as for sshc_exec */
	void *arg;
	long deadline_ms;  /* absolute, as sshc_exec_deadline; 0 = none */
	int timeout_s;     /* > 0: deadline = now + timeout_s (timeouts.agent) */
	size_t max_output; /* bytes of stdout and stderr together; 0 = no bound */
};

/* sshc_exec with limits: past the deadline, -1 with EXIT_TIMEOUT and the
 * command named; more output than max_output, or a line longer than
 * SSHC_LINE_MAX for a callback, -1 with a message saying so.  The channel is
 * closed in every case, nothing more is read. */
int sshc_run(ssh_session s, const char *cmd, const struct sshc_opts *o, int *exit_status,
             struct err *e);

/* "SHA256:..." fingerprint of a key into buf. */
int sshc_fingerprint(ssh_key key, char *buf, size_t n);

/* Disconnects and frees s (and the tunnel under it, if any). */
void sshc_close(ssh_session s);

#endif
