/*
 * virt.h: the libvirt operations inception needs, as small verbs.
 *
 * A connection, a directory storage pool, volumes (uploaded through
 * libvirt's storage streams so a remote qemu+ssh:// hypervisor works the
 * same as the local one), copy-on-write overlays, domains and a NAT network.
 * Operations on things that do not exist are no-ops where that makes the
 * callers idempotent (deleting a missing volume, undefining a missing
 * domain).  Errors name the object and carry libvirt's message, and for
 * connection problems, the fix.
 */
#ifndef INCEPTION_VIRT_H
#define INCEPTION_VIRT_H

#include <libvirt/libvirt.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct virt {
	virConnectPtr conn;
	char uri[256];        /* the URI actually connected */
	unsigned long libver; /* libvirt version on the server side */
	int local;            /* the hypervisor runs on this host */
	int system;           /* a system (not session) connection */
};

/* Connects to uri; NULL = qemu:///system when usable, else qemu:///session.
 * Errors say whether libvirtd is not running or access is denied, and how
 * to fix it. */
int virt_open(const char *uri, struct virt *v, struct err *e);
void virt_close(struct virt *v);

/* Where inception's pool lives: /var/lib/libvirt/images/inception for a
 * system connection (libvirt-qemu must be able to read it), else
 * $XDG_DATA_HOME/libvirt/images/inception. */
int virt_pool_path(const struct virt *v, char *buf, size_t n, struct err *e);

/* Defines (if missing), builds and starts a directory pool. */
int virt_pool_ensure(struct virt *v, const char *pool, const char *path, struct err *e);

/* 1 if the volume exists (path filled if not NULL), 0 if not, -1 on error. */
int virt_vol_exists(struct virt *v, const char *pool, const char *vol, char *path, size_t n,
                    struct err *e);

/* Creates vol (format "raw" or "qcow2") with the bytes of file, sent through
 * a storage stream.  progress may be NULL. */
typedef void (*virt_progress_fn)(uint64_t done, uint64_t total, void *arg);
int virt_vol_upload(struct virt *v, const char *pool, const char *vol, const char *file,
                    const char *format, virt_progress_fn progress, void *arg, struct err *e);

/* Creates a qcow2 volume of capacity bytes backed by the volume backing_vol
 * (NULL = no backing file). */
int virt_vol_create(struct virt *v, const char *pool, const char *vol, uint64_t capacity,
                    const char *backing_vol, struct err *e);

/* Deletes vol; a missing volume (or pool) is not an error. */
int virt_vol_delete(struct virt *v, const char *pool, const char *vol, struct err *e);

/* How many volumes in pool are backed by backing_vol. */
int virt_vol_users(struct virt *v, const char *pool, const char *backing_vol, int *count,
                   struct err *e);

enum virt_dom_state { VIRT_DOM_ABSENT, VIRT_DOM_RUNNING, VIRT_DOM_OFF, VIRT_DOM_OTHER };
int virt_dom_state(struct virt *v, const char *name, enum virt_dom_state *st, struct err *e);
const char *virt_dom_state_name(enum virt_dom_state st);

/* Defines (or redefines, when shut off) a persistent domain. */
int virt_dom_define(struct virt *v, const char *xml, struct err *e);
int virt_dom_start(struct virt *v, const char *name, struct err *e);
/* Forced power off; not running is not an error. */
int virt_dom_poweroff(struct virt *v, const char *name, struct err *e);
/* ACPI shutdown, waiting up to timeout_s; then a forced power off.
 * *forced says whether the guest had to be forced. */
int virt_dom_shutdown(struct virt *v, const char *name, int timeout_s, int *forced, struct err *e);
/* Powers off and undefines; a missing domain is not an error. */
int virt_dom_remove(struct virt *v, const char *name, struct err *e);
/* The domain's UUID (for a redefinition); 0 with buf "" if it does not exist. */
int virt_dom_uuid(struct virt *v, const char *name, char *buf, size_t n, struct err *e);
/* The domain type in its persistent definition ("qemu", "kvm", ...). */
int virt_dom_type(struct virt *v, const char *name, char *buf, size_t n, struct err *e);

/* NAT mode: defines and starts the network if missing. */
int virt_net_ensure(struct virt *v, const char *name, const char *bridge, const char *prefix,
                    struct err *e);
/* The guest's IPv4 address from the network's DHCP leases or the guest
 * agent; 0 with ip[0] = '\0' when not known yet. */
int virt_dom_ipv4(struct virt *v, const char *name, const char *network, char *ip, size_t n,
                  struct err *e);

/* Whether libvirt offers the kvm domain type for x86_64 on this connection
 * (the local device itself is checked by accel.c's kvm_device_check). */
int virt_kvm_available(struct virt *v);

/* Rescans the pool's directory (a volume written beside libvirt). */
int virt_pool_refresh(struct virt *v, const char *pool, struct err *e);

/* The names of the pool's volumes that start with prefix (*names is a
 * NULL-terminated malloc'ed array of malloc'ed strings; free with
 * virt_names_free). */
int virt_vol_list(struct virt *v, const char *pool, const char *prefix, char ***names,
                  size_t *count, struct err *e);
void virt_names_free(char **names);

/* Freezes (freeze 1) or thaws (0) the guest's mounted filesystems through
 * qemu-guest-agent; returns how many, or -1. */
int virt_dom_fsfreeze(struct virt *v, const char *name, int freeze, struct err *e);

#endif
