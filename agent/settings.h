/*
 * settings.h: what the agent is told to do, from a file and from flags.
 *
 * The provisioner pushes, next to the agent binary, a settings file
 * (default: agent.conf in the binary's directory, or --conf FILE): one
 * "key=value" per line, '#' starts a comment line, no quoting (the value is
 * the rest of the line).  Flags override it: --set key=value, and the
 * shorthands --login and --tree.  Keys:
 *
 *   login           42 login                                      (required)
 *   domain          the project's DOMAIN_NAME, default LOGIN.42.fr
 *   tree            the pushed project (Makefile, srcs/), default /home/LOGIN/inception
 *   meta            our files outside the project (agent, agent.conf, tree.digest),
 *                   default: the directory of the settings file
 *   compose         the compose file relative to tree, default the first of
 *                   srcs/docker-compose.yml, srcs/docker-compose.yaml,
 *                   srcs/compose.yaml, srcs/compose.yml that exists
 *   services        comma-separated compose service names (empty: every
 *                   container of the project found by its compose labels)
 *   bases           space-separated IMAGE|FILE:LINE, the base images the
 *                   project's Dockerfiles build FROM (FILE relative to tree)
 *   data_dirs       colon-separated absolute host directories of the compose
 *                   file's bind volumes, made by the data step
 *   docker_source   debian (Debian's docker.io + compose v2) | docker (Docker's repo)
 *   docker_cache    the project's Docker cache the VM's Docker disk was made
 *                   from (another VM's), if any: the first docker step removes
 *                   its containers, volumes and networks (images, build cache kept)
 *   apt_mirror      Debian mirror URL for apt and the base image (optional)
 *   apt_proxy       HTTP proxy for apt (optional)
 *   hosts_file      default /etc/hosts
 *   cloud_cfg_dir   default /etc/cloud/cloud.cfg.d (the manage_etc_hosts drop-in)
 *   state_file      default /var/lib/inception/state
 *   log_dir         default /var/log/inception
 *   cert_file       a local CA/certificate file to verify against (else the
 *                   health step looks for the project's own, see steps.h)
 *   pull_timeout    seconds a `docker pull` of a base image may take, default 30
 *   health_tries    attempts of the health check, default 30
 *   health_wait     seconds between attempts, default 2
 *   health_port     default 443
 */
#ifndef INCEPTION_AGENT_SETTINGS_H
#define INCEPTION_AGENT_SETTINGS_H

#include "err.h"

#define SET_STR 256

struct settings {
	char login[64];
	char domain[SET_STR];
	char tree[SET_STR];
	char docker_source[16];
	char docker_cache[SET_STR];
	char apt_mirror[SET_STR];
	char apt_proxy[SET_STR];
	char hosts_file[SET_STR];
	char cloud_cfg_dir[SET_STR];
	char state_file[SET_STR];
	char log_dir[SET_STR];
	char meta[SET_STR];
	char compose[SET_STR];
	char services[1024];
	char bases[4096];
	char data_dirs[4096];
	char cert_file[SET_STR];
	char conf_dir[SET_STR]; /* where the settings file is (meta's default); not a key */
	int pull_timeout;
	int health_tries;
	int health_wait;
	int health_port;
};

void settings_defaults(struct settings *s);

/* Applies "key=value" (one line, no newline). */
int settings_set(struct settings *s, const char *kv, struct err *e);

/* Reads a settings file; missing = error only when required. */
int settings_load(struct settings *s, const char *path, int required, struct err *e);

/* Fills the values that derive from login and the tree (domain, tree,
 * meta, compose) when they were not set, and validates. */
int settings_finish(struct settings *s, struct err *e);

/* One entry of `bases`. */
struct base_ref {
	char image[SET_STR];
	char where[SET_STR]; /* FILE:LINE */
};

/* The next entry of a `bases` value from *p (advanced); 1 = one read, 0 =
 * none left, -1 = a syntax error (message in e; settings_set checks the
 * whole value first, so a loaded value never fails). */
int settings_next_base(const char **p, struct base_ref *b, struct err *e);

/* The next directory of a `data_dirs` value from *p (advanced); 1, 0 or -1
 * as above. */
int settings_next_dir(const char **p, char *dir, size_t n, struct err *e);

#endif
