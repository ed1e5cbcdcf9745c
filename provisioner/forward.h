/*
 * forward.h: `inception forward [VM] [LOCAL:]GUEST`, a guest port on this
 * client's 127.0.0.1 (cmd_forward.c).
 *
 * The route to the guest port, from the VM's state: its user-mode forward
 * (on the libvirt host's loopback: through that host over SSH when it is
 * remote, a plain TCP relay when it is this host), the guest's address in
 * nat mode, or, for a port with no forward, the guest's own SSH server
 * (a direct-tcpip channel to its 127.0.0.1).  Each accepted connection is
 * one channel (or one TCP connection); it runs until Ctrl-C.
 */
#ifndef INCEPTION_FORWARD_H
#define INCEPTION_FORWARD_H

#include <stddef.h>

#include "err.h"

/* "443" or "9443:443": *local is 0 when not given.  Bad: -1 with
 * "forward: "SPEC": ..." (EXIT_USAGE). */
int forward_spec_parse(const char *spec, unsigned *local, unsigned *guest, struct err *e);

/* The host side of the forward to guest port `guest` in a state's forwards
 * ("127.0.0.1:2222->22 127.0.0.1:8443->443"): 1 with addr and *port, 0 if
 * there is none. */
int forward_find(const char *forwards, unsigned guest, char *addr, size_t n, unsigned *port);

#endif
