/*
 * config.h: the effective configuration of one VM.
 *
 * Values come, lowest precedence first, from built-in defaults, a YAML file
 * (-c FILE, else ./inception.yaml, else $XDG_CONFIG_HOME/inception/config.yaml),
 * INCEPTION_* environment variables, then command-line flags.  Every value is
 * validated where it enters; errors name FILE:LINE:COL and the key.  Each key
 * remembers where its value came from, for `inception config`.
 */
#ifndef INCEPTION_CONFIG_H
#define INCEPTION_CONFIG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CONFIG_MAX_FORWARDS 16
#define CONFIG_LOGIN_MAX 32

enum net_mode { NET_USER, NET_NAT };
enum accel { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };
enum docker_source { DOCKER_DEBIAN, DOCKER_DOCKER };

struct forward {
	char addr[64];       /* host address to bind, default 127.0.0.1 */
	unsigned host_port;  /* 1..65535 */
	unsigned guest_port; /* 1..65535 */
};

/* Where a value came from (for `inception config`). */
struct origin {
	int kind;        /* ORIGIN_* */
	char where[256]; /* "FILE:LINE:COL", "INCEPTION_LOGIN", "--login" */
};
enum { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_ENV, ORIGIN_FLAG };

struct config {
	char *login;            /* login: 42 login, [a-z0-9-]{1,32} */
	char *vm_name;          /* vm.name */
	int cpus;               /* vm.cpus, 1..64 */
	uint64_t memory;        /* vm.memory, bytes ("2G"), 512 MiB..256 GiB */
	uint64_t disk;          /* vm.disk, bytes, 4 GiB..2 TiB */
	char *image_url;        /* image.url (qcow2); NULL when image.build is used */
	char *image_checksums;  /* image.checksums: SHA512SUMS url */
	char *image_build;      /* image.build: Debian suite to build from the mirror */
	char *libvirt_uri;      /* libvirt.uri; NULL = qemu:///system if usable, else session */
	enum net_mode net_mode; /* network.mode */
	struct forward forwards[CONFIG_MAX_FORWARDS]; /* network.forwards */
	size_t nforwards;
	enum accel accel;                 /* accel */
	char *apt_mirror;                 /* apt.mirror */
	char *apt_proxy;                  /* apt.proxy, NULL = none */
	enum docker_source docker_source; /* docker.source */
	char *remote_dir;                 /* push.dir: where the tree goes in the guest */
	char *project;                    /* project: directory or git URL, NULL = default */
	int map_domain;                   /* host.map_domain: LOGIN.42.fr -> the VM on the host */
	char *hosts_file;                 /* host.hosts_file, default /etc/hosts */
	int ssh_timeout;                  /* timeouts.ssh, seconds */
	int cloud_init_timeout;           /* timeouts.cloud_init, seconds */
	int agent_timeout;                /* timeouts.agent, seconds */
	char *config_file;                /* the file that was loaded, NULL if none */
	struct origin origin[32];         /* per key, indexed like config_keys() */
};

/* Fills c with the built-in defaults (login from $USER when valid). */
void config_defaults(struct config *c);

/* Loads YAML from path over c.  path NULL = search the default places
 * (a missing file there is not an error).  An explicit path must exist. */
int config_load_file(struct config *c, const char *path, struct err *e);

/* Loads YAML from a buffer (name is used in messages in place of a file). */
int config_load_buffer(struct config *c, const char *name, const char *buf, size_t len,
                       struct err *e);

/* Applies INCEPTION_* variables from envp (NULL-terminated "K=V" strings). */
int config_load_env(struct config *c, char *const *envp, struct err *e);

/* Sets one key from a flag: key is the YAML key ("vm.memory"), where the flag
 * name used in messages ("--memory"). */
int config_set(struct config *c, const char *key, const char *value, const char *where,
               struct err *e);

/* Checks the combination of values (after every source is applied). */
int config_validate(const struct config *c, struct err *e);

/* "FILE:LINE:COL: FIELD: message" for a YAML node (libyaml's marks, 1-based),
 * the one located error of the config and the lab file; code 0 keeps e's
 * code.  Returns -1. */
struct yaml_node_s;
int config_yaml_verr(struct err *e, int code, const char *file, const struct yaml_node_s *n,
                     const char *field, const char *fmt, va_list ap);

/* Origin of a key's value ("default", "FILE:L:C", "env INCEPTION_X", "--flag"). */
const char *config_origin(const struct config *c, const char *key);

/* Formats a key's effective value into buf (for `inception config`). */
int config_format(const struct config *c, const char *key, char *buf, size_t n);

/* The list of keys, NULL-terminated, in documentation order; each key's
 * flag name (without "--") and one-line documentation. */
const char *const *config_keys(void);
const char *config_key_flag(const char *key);
const char *config_key_doc(const char *key);

/* The guest directory the tree is pushed to (push.dir or /home/LOGIN/inception). */
const char *config_remote_dir(const struct config *c, char *buf, size_t n);

void config_free(struct config *c);

/* Parsers shared with other modules; return 0 or -1 with a message that does
 * not include the location (the caller adds it). */
int parse_size(const char *s, uint64_t *out, struct err *e);
int parse_login(const char *s, struct err *e);
int parse_url(const char *s, struct err *e);
int parse_forward(const char *s, struct forward *f, struct err *e);

const char *net_mode_name(enum net_mode m);
const char *accel_name(enum accel a);
const char *docker_source_name(enum docker_source d);

#endif
