/*
 * vm_cache.h: the per-project Docker cache: copy-on-write snapshots of a
 * VM's Docker disk (/var/lib/docker) kept in the storage pool, given to the
 * next VM of the same project as the backing of its Docker disk (the
 * mechanism is described in vm_cache.c).
 */
#ifndef INCEPTION_VM_CACHE_H
#define INCEPTION_VM_CACHE_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "virt.h"
#include "vmstate.h"

#define VM_CACHE_PREFIX "dcache-"

/* The project's identity, as text: the one place that decides which VMs
 * share a cache (today the resolved project tree on the host, the guest
 * directory it is pushed to and docker.source). */
int vm_cache_ident(const struct config *cfg, char *ident, size_t n, struct err *e);
/* The project up runs (its directory on the host), set once it is resolved:
 * the cache key's project.  NULL or "" = the tree stack_find_top finds. */
void vm_cache_set_project(const char *dir);

/* 16 hex digits of SHA-256 over an identity; vm_cache_key does both. */
int vm_cache_key_of(const char *ident, char key[17], struct err *e);
int vm_cache_key(const struct config *cfg, char key[17], struct err *e);

/* "dcache-KEY-MS.qcow2" (MS: 13 digits, milliseconds since the epoch). */
int vm_cache_name(const char *key, long long ms, char *buf, size_t n, struct err *e);

/* The newest well-formed snapshot name of key among names: 1 with it in
 * out, 0 when there is none. */
int vm_cache_newest(char *const *names, size_t count, const char *key, char *out, size_t n);

/* The same, asked of the pool: 1, 0 or -1. */
int vm_cache_latest(struct virt *v, const char *pool, const char *key, char *out, size_t n,
                    struct err *e);

/* The pool volume an image file (path or cache name) is uploaded to,
 * "base-<stem>.qcow2", and its completion marker "base-<stem>.ok"
 * (vm_create.c). */
int vm_base_names(const char *image, char *vol, size_t n, char *ok, size_t m, struct err *e);

/* Deletes the Docker cache snapshots in pool that no VM's Docker disk is
 * backed by and that are not their project's newest (all: newest too). */
int vm_cache_prune(struct virt *v, const char *pool, int all, size_t *removed, struct err *e);

/* Calls fn for every VM with a state file, until it returns non-zero (which
 * is returned); unreadable states are skipped. */
int vm_states_each(int (*fn)(const char *vm, const struct vm_state *s, void *arg), void *arg,
                   struct err *e);

#endif
