/*
 * stack.h: the second half of `up`: from an SSH-reachable VM to a healthy
 * Inception stack, and the `push` command.
 *
 * stack_up: connect (pinned key, vmstate.h's vm_target), make the stack's
 * .env and passwords if this VM has none yet (creds.h), push the tree and
 * the agent (push.h), then run the agent (agentrun.h): every step, each
 * skipped by the agent when already done.  When the guest has no
 * debian:bookworm and the host's Docker has one, the image is streamed over
 * SSH (`docker save` here, `docker load` there) between the docker and base
 * steps, which is faster under TCG than building it from the mirror in the
 * guest; the base step builds it from the mirror otherwise.  When the host-
 * built agent cannot start in the guest (a newer glibc on the host), the
 * agent is compiled in the guest from the pushed sources
 * (agent/build-in-guest.sh) and that binary is used.
 * Ends with the URL, how to ssh and where the credentials are.  Failures:
 * the step, the last 20 lines of its log in the guest, e->code =
 * EXIT_UNHEALTHY for the health step, else EXIT_FAIL.
 *
 * stack_push: the same with only make and health run by the agent, on a
 * connection of its own.  (`up --vm-only` stops before stack_up.)
 */
#ifndef INCEPTION_STACK_H
#define INCEPTION_STACK_H

#include "cli.h"
#include "err.h"
#include "sshc.h"
#include "vmstate.h"

/* docker save of the base image here piped into `sudo -n docker load -q` on
 * s: 0 loaded, 1 this host has no such image, -1 failed (bounded by
 * timeout_s; the remote's stderr is drained too). */
int stack_stream_base(ssh_session s, const char *log, int timeout_s, struct err *e);

/* The second half of `up` on the target vm_up gave, with the VM's lock held. */
int stack_up(struct cli *cli, const struct vm_target *t, struct err *e);
int stack_push(struct cli *cli, struct err *e);

/* The project tree (Makefile + srcs/): $INCEPTION_TOP, else the current
 * directory, else the directory above the binary's (build/inception). */
int stack_find_top(char *buf, size_t n, struct err *e);

#endif
