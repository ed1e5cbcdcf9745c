/*
 * hostmap.h: the optional LOGIN.42.fr -> VM line in the host's hosts file.
 *
 * With host.map_domain on, `up` maps the stack's domain to the VM in
 * host.hosts_file (default /etc/hosts): the VM's address in nat mode, the
 * address of the 443 forward (127.0.0.1) in user mode.  The file is edited
 * with the agent's hosts editor (agent/lib/hostsfile.c: every other byte kept,
 * a symlink's target edited, under a lock) and written atomically with its
 * mode, owner and extended attributes; `up` names the file it edits.  The VM's state records
 * the line only when `up` added it, so `destroy` removes what inception
 * added and never a line the user wrote.
 */
#ifndef INCEPTION_HOSTMAP_H
#define INCEPTION_HOSTMAP_H

#include "config.h"
#include "err.h"
#include "vmstate.h"

/* Before any long work: fails (naming the fix) when the hosts file or its
 * directory cannot be written, so `up` does not fail only at the end. */
int hostmap_precheck(const struct config *c, struct err *e);

/* Maps the domain to the VM described by s; records it in s when the file
 * changed (the caller saves s).  Reports what it did. */
int hostmap_apply(const struct config *c, const char *domain, struct vm_state *s, struct err *e);

/* Removes the line `up` recorded in s, if any (destroy). */
int hostmap_undo(const struct vm_state *s, struct err *e);

#endif
