/*
 * vmstate.h: where a VM's local state lives and how it is read and written.
 *
 * Each VM has a directory $XDG_STATE_HOME/inception/<vm>/ (mode 0700) with
 * its keys, seed, serial console log, the generated ssh_config/known_hosts,
 * a lock file, and the state file "vm.state": "key=value" lines written
 * atomically (temp file + rename) that record what `up` created and how to
 * reach the guest.  vm_target() is how every SSH user (wait, ssh, push, the
 * agent runner) finds the guest: one function, so they all connect the same
 * way with the same pinned host key.
 */
#ifndef INCEPTION_VMSTATE_H
#define INCEPTION_VMSTATE_H

#include <limits.h>

#include "config.h"
#include "err.h"
#include "sshc.h"

struct vm_paths {
	char dir[PATH_MAX];         /* the state directory */
	char state[PATH_MAX];       /* vm.state */
	char lock[PATH_MAX];        /* lock */
	char console[PATH_MAX];     /* console.log (serial, written by virtlogd) */
	char identity[PATH_MAX];    /* id_ed25519 */
	char hostkey_pub[PATH_MAX]; /* ssh_host_ed25519_key.pub (pinned) */
	char seed[PATH_MAX];        /* seed.iso */
	char known_hosts[PATH_MAX];
	char ssh_config[PATH_MAX];
	char log[PATH_MAX]; /* provision.log (subprocess output) */
};

int vm_paths(const char *vm_name, struct vm_paths *p, struct err *e);

/* Takes the VM's lock (creating the directory); fails at once, naming the
 * holder's pid, when another inception process holds it. */
int vm_lock(const struct vm_paths *p, int *fd, struct err *e);
void vm_unlock(int fd);

struct vm_state {
	char uri[256];      /* libvirt connection used */
	char domain[128];   /* libvirt domain name */
	char pool[64];      /* storage pool */
	char base_vol[160]; /* shared base image volume */
	char disk_vol[160]; /* overlay */
	char seed_vol[160]; /* NoCloud ISO */
	char net[8];        /* "user" or "nat" */
	char network[64];   /* libvirt network (nat) */
	char ssh_host[64];  /* 127.0.0.1 or the guest IP */
	unsigned ssh_port;
	char login[CONFIG_LOGIN_MAX + 1];
	char accel[8];            /* domain type that booted: "qemu" or "kvm" */
	char forwards[512];       /* "127.0.0.1:2222->22 ..." for status */
	char phase[16];           /* created, booting, ready, down */
	char hosts_file[256];     /* host.map_domain: the hosts file `up` added a line to */
	char hosts_name[160];     /* ... and the name it mapped (destroy removes it) */
	char stack_ok[65];        /* tree digest of the last push whose full agent run
	                           * ended healthy: the same tree again needs no probe
	                           * of the agent and base image before the run */
	char project[1024];       /* the project pushed last: PROJECT as given, or
	                           * "bundled stack" / the directory when defaulted */
	char project_dir[1024];   /* its directory on the host (a clone for a URL) */
	char project_compose[64]; /* its compose file, relative to push.dir */
	char project_commit[41];  /* its commit ("" outside git) */
	char project_ref[256];    /* the --ref it was pushed with ("" = HEAD) */
	unsigned project_dirty;   /* 1: pushed with uncommitted changes */
	char project_gen[1024];   /* where its generated inputs are kept (STATE/...) */
	char docker_vol[160];     /* the VM's Docker disk (/var/lib/docker), or "" */
	char cache_from[160];     /* the project's Docker cache snapshot it was made
	                           * from ("none": a blank disk) */
	char cache_saved[160];    /* the snapshot kept after its last healthy build */
	char cache_tree[65];      /* the tree digest that snapshot was taken after */
};

/* Loads the state file; a missing file is -1 with e->code EXIT_NOVM. */
int vmstate_load(const struct vm_paths *p, struct vm_state *s, struct err *e);
int vmstate_save(const struct vm_paths *p, const struct vm_state *s, struct err *e);
/* Serialisation, exposed for the unit tests. */
int vmstate_format(const struct vm_state *s, char *buf, size_t n, struct err *e);
int vmstate_parse(const char *text, struct vm_state *s, struct err *e);

/* How to reach a VM over SSH, with storage for the strings ssh_target
 * points to. */
struct vm_target {
	struct ssh_target t;
	struct vm_paths paths;
	char host[64];
	char user[CONFIG_LOGIN_MAX + 1];
	char jump_uri[256]; /* the VM's libvirt URI (remote: the jump host) */
	ssh_session live;   /* an open session to it, or NULL (owned by whoever
	                     * filled the target: `up` hands its probe's on) */
};

/* The SSH target of cfg's VM (from its state file: forwarded port on
 * 127.0.0.1 in user mode, the guest IP in nat mode; the VM's identity and
 * pinned host key).  No state: -1 with e->code EXIT_NOVM. */
int vm_target(const struct config *cfg, struct vm_target *out, struct err *e);

/* Fills out from already-loaded paths and state (no file access). */
void vm_target_from(const struct vm_paths *p, const struct vm_state *s, int timeout_s,
                    struct vm_target *out);

/* Writes known_hosts and ssh_config for plain `ssh -F ssh_config <vm>`
 * (with a ProxyJump through the libvirt host when it is remote). */
int vm_write_ssh_files(const struct vm_paths *p, const struct vm_state *s, const char *vm_name,
                       struct err *e);

#endif
