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
};

/* With the VM's lock held: image, keys, seed, volumes, domain, boot, wait.
 * On success t is the VM's SSH target. */
int vm_up(struct cli *cli, const struct vm_up_opts *o, struct vm_target *t, struct err *e);

#endif
