/*
 * settings.h: what the agent is told to do, from a file and from flags.
 *
 * The provisioner pushes, next to the agent binary, a settings file
 * (default: agent.conf in the binary's directory, or --conf FILE): one
 * "key=value" per line, '#' starts a comment line, no quoting (the value is
 * the rest of the line).  Flags override it: --set key=value, and the
 * shorthands --login and --tree.  Keys:
 *
 *   login           42 login; the domain is LOGIN.42.fr          (required)
 *   domain          default LOGIN.42.fr
 *   tree            the pushed tree (Makefile, srcs/)   default /home/LOGIN/inception
 *   docker_source   debian (Debian's docker.io + compose v2) | docker (Docker's repo)
 *   apt_mirror      Debian mirror URL for apt and the base image (optional)
 *   apt_proxy       HTTP proxy for apt (optional)
 *   hosts_file      default /etc/hosts
 *   cloud_cfg_dir   default /etc/cloud/cloud.cfg.d (the manage_etc_hosts drop-in)
 *   state_file      default /var/lib/inception/state
 *   log_dir         default /var/log/inception
 *   data_dir        default /home/LOGIN/data
 *   cert_container  container holding the stack's certificate, default nginx
 *   cert_path       its path there, default /etc/nginx/ssl/inception.crt (nginx entrypoint)
 *   cert_file       a local CA/certificate file to use instead (tests)
 *   stack_containers  comma-separated containers that must run healthy for
 *                   an unchanged tree to skip make, default
 *                   nginx,wordpress,mariadb (empty: the tree alone decides)
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
	char apt_mirror[SET_STR];
	char apt_proxy[SET_STR];
	char hosts_file[SET_STR];
	char cloud_cfg_dir[SET_STR];
	char state_file[SET_STR];
	char log_dir[SET_STR];
	char data_dir[SET_STR];
	char cert_container[64];
	char cert_path[SET_STR];
	char cert_file[SET_STR];
	char stack_containers[SET_STR];
	int health_tries;
	int health_wait;
	int health_port;
};

void settings_defaults(struct settings *s);

/* Applies "key=value" (one line, no newline). */
int settings_set(struct settings *s, const char *kv, struct err *e);

/* Reads a settings file; missing = error only when required. */
int settings_load(struct settings *s, const char *path, int required, struct err *e);

/* Fills the values that derive from login (domain, tree, data_dir,
 * cert_path) when they were not set, and validates. */
int settings_finish(struct settings *s, struct err *e);

#endif
