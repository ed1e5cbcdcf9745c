/*
 * vm.h: bringing a VM up to "booted, cloud-init done, reachable over SSH
 * with the pinned host key" (the first half of `inception up`).
 *
 * cmd_up (cmd_vm.c) takes the VM's lock, calls vm_up(), then stack_up()
 * (stack.h) for the second half (push, agent, health), unless --vm-only.
 */
#ifndef INCEPTION_VM_H
#define INCEPTION_VM_H

#include "cli.h"
#include "vmstate.h"

struct vm_up_opts {
	int no_build_fallback; /* --no-build-fallback: never build the image instead */
	int vm_only;           /* --vm-only: stop once the VM answers SSH, cloud-init done */
	int clean;             /* --clean: the plain Debian image, a blank Docker disk */
};

/* After a healthy up: keeps a copy-on-write snapshot of the VM's Docker disk
 * as its project's build cache, when the tree built is new (vm_cache.c). */
int vm_cache_keep(struct cli *cli, struct err *e);

/* With the VM's lock held: image, keys, seed, volumes, domain, boot, wait.
 * On success t is the VM's SSH target. */
int vm_up(struct cli *cli, const struct vm_up_opts *o, struct vm_target *t, struct err *e);

/* ACPI shutdown, forced off after timeout seconds; the state says "down". */
int vm_down(const struct config *cfg, int timeout, struct err *e);

/* Domain, volumes (the shared base volume with its last user), the hosts
 * line up added, and the state directory; the image cache stays. */
int vm_destroy(const struct config *cfg, const char *name, struct err *e);

/* Removes a directory and everything in it (symbolic links not followed);
 * a missing one is no error. */
int remove_state_dir(const char *dir, struct err *e);

/* `cloud-init status [--wait]` over SSH: 0 with the status word in c and
 * the exit code in rc, -1 when it could not run (retry). */
struct ci_status {
	char status[64]; /* from "status: X" */
};
int vm_cloud_init_status(const struct vm_target *t, int wait, long deadline, struct ci_status *c,
                         int *rc, struct err *e);

#endif
