/*
 * stack.h: the second half of `up`: from an SSH-reachable VM to a healthy
 * project, and the `push` command.
 *
 * stack_resolve (before the VM starts): which project (project.h: a
 * directory or a git URL, cloned into $XDG_CACHE_HOME/inception/projects;
 * by default the current directory if it is an Inception project, else the
 * bundled stack; this repository's own top is the bundled stack, whose
 * Makefile and srcs/ alone are pushed).  Not a project: exit 2.
 *
 * stack_up: connect (pinned key, vmstate.h's vm_target); the project's
 * files (working tree, or git's tree with --committed), its inputs (each
 * missing one listed up front; with --generate-missing, and always for the
 * bundled stack, made in the VM's state dir, creds.h), its compose facts
 * and base images for the agent's settings; when the VM ran another
 * project, that one's containers are stopped (compose down, volumes kept);
 * then push (push.h: the project to push.dir, ours to META =
 * /home/LOGIN/.local/share/inception), the project recorded in vm.state,
 * and the agent run (agentrun.h): hosts, docker, data; then each base image
 * the guest lacks (`agent --missing-bases`) that this host's Docker has is
 * streamed over SSH (`docker save` here, `docker load` there); then the
 * rest from the base step.  When the host-built agent cannot start in the
 * guest (a newer glibc on the host), it is compiled in the guest from the
 * pushed sources (agent/build-in-guest.sh) and that binary is used.
 * Failures: the step, the last 30 lines of its log in the guest, the
 * project's Dockerfile and line when the build names "Dockerfile:N", the
 * missing inputs (and --generate-missing) when make fails without them;
 * e->code = EXIT_UNHEALTHY for the health step, else EXIT_FAIL.
 *
 * stack_push: the same with only make and health run by the agent (every
 * step when the VM ran another project), on a connection of its own.
 */
#ifndef INCEPTION_STACK_H
#define INCEPTION_STACK_H

#include "cli.h"
#include "err.h"
#include "sshc.h"
#include "vmstate.h"

#include "project.h"

/* What up, rebuild and push were asked about the project. */
struct stack_opts {
	const char *project; /* PROJECT, --project or the project key; NULL = default */
	const char *ref;     /* --ref REV */
	int committed;       /* --committed: git's tree, not the working tree */
	int generate_missing;
	int bundled;      /* the bundled stack, whatever the current directory */
	int listed;       /* the inputs were listed already (stack_precheck) */
	char domain[256]; /* out: the domain the project answers for (its
	                   * DOMAIN_NAME, else LOGIN.42.fr), once healthy */
};

/* docker save of image here piped into `sudo -n docker load -q` on s: 0
 * loaded, 1 this host has no such image, -1 failed (bounded by timeout_s;
 * the remote's stderr is drained too). */
int stack_stream_base(ssh_session s, const char *image, const char *log, int timeout_s,
                      struct err *e);

/* The agent's settings (agent.conf) for project p: login, tree (remote),
 * meta, docker_source, apt_mirror/apt_proxy when set, domain (info's
 * DOMAIN_NAME, else LOGIN.42.fr), compose, services, bases ("IMAGE|FILE:LINE"
 * each image once, first place kept, space-separated) and data_dirs.  A
 * value with a newline is refused.  *out is malloc'd. */
int stack_agent_conf(const struct config *c, const struct project *p,
                     const struct project_info *info, const struct project_base *bases,
                     size_t nbases, const char *remote, const char *meta, char **out,
                     struct err *e);

/* The project o names (see above); EXIT_USAGE when it is none. */
int stack_resolve(const struct stack_opts *o, struct project *p, struct err *e);

/* Before any long work (the VM's boot): p's compose file and Dockerfiles
 * read, the inputs it lacks listed, and made with --generate-missing (in
 * the VM's state directory; call it with the VM's lock held). */
int stack_precheck(struct cli *cli, struct stack_opts *o, const struct project *p, struct err *e);

/* The second half of `up` on the target vm_up gave, with the VM's lock held. */
int stack_up(struct cli *cli, struct stack_opts *o, const struct project *p,
             const struct vm_target *t, struct err *e);
int stack_push(struct cli *cli, struct stack_opts *o, const struct project *p, struct err *e);

/* The project tree (Makefile + srcs/): $INCEPTION_TOP, else the current
 * directory, else the directory above the binary's (build/inception). */
int stack_find_top(char *buf, size_t n, struct err *e);

#endif
