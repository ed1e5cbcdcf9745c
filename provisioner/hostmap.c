/*
 * hostmap.c: LOGIN.42.fr -> the VM in the host's hosts file (see hostmap.h).
 *
 * The address: in nat mode the guest's own (learnt at boot); in user mode
 * the host address of the forward to guest port 443, preferring one on
 * host port 443 (then https://LOGIN.42.fr/ works as written; with another
 * port the URL needs it, and `up` says so).
 */
#include "hostmap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "hostsfile.h"
#include "report.h"

static void file_dir(const char *file, char *dir, size_t n)
{
	const char *slash = strrchr(file, '/');

	if (slash == NULL)
		snprintf(dir, n, ".");
	else if (slash == file)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - file), file);
}

/* "" or " (a symlink: TARGET is edited)", for the messages. */
static void target_note(const char *file, const char *target, char *note, size_t n)
{
	if (strcmp(file, target) == 0)
		note[0] = '\0';
	else
		snprintf(note, n, " (a symlink: %s is edited)", target);
}

int hostmap_precheck(const struct config *c, struct err *e)
{
	char dir[PATH_MAX], target[PATH_MAX], note[PATH_MAX + 32];

	if (!c->map_domain)
		return 0;
	/* a file that went away: the access() below names it */
	if (hosts_file_target(c->hosts_file, target, sizeof(target), e) < 0)
		snprintf(target, sizeof(target), "%s", c->hosts_file);
	target_note(c->hosts_file, target, note, sizeof(note));
	file_dir(target, dir, sizeof(dir));
	/* the atomic write makes a temp file next to it, then renames */
	if (access(target, W_OK) < 0 || access(dir, W_OK) < 0)
		return err_setc(
		    e, EXIT_USAGE,
		    "host.map_domain: cannot write %s%s (%s): run `sudo inception up`, or "
		    "leave host.map_domain off and use curl --resolve",
		    c->hosts_file, note, strerror(errno));
	return 0;
}

/* The user-mode forward to guest 443 (host port 443 first), or NULL. */
static const struct forward *https_forward(const struct config *c)
{
	const struct forward *any = NULL;
	size_t i;

	for (i = 0; i < c->nforwards; i++) {
		if (c->forwards[i].guest_port != 443)
			continue;
		if (c->forwards[i].host_port == 443)
			return &c->forwards[i];
		if (any == NULL)
			any = &c->forwards[i];
	}
	return any;
}

int hostmap_apply(const struct config *c, const char *domain, struct vm_state *s, struct err *e)
{
	const struct forward *f = NULL;
	char ip[64], target[PATH_MAX], note[PATH_MAX + 32];
	int changed = 0;

	if (!c->map_domain)
		return 0;
	if (hosts_file_target(c->hosts_file, target, sizeof(target), e) < 0)
		return err_wrap(e, "host.hosts_file");
	target_note(c->hosts_file, target, note, sizeof(note));
	if (strcmp(s->net, "nat") == 0) {
		if (s->ssh_host[0] == '\0')
			return err_set(e, "host.map_domain: the VM's address is not known yet");
		snprintf(ip, sizeof(ip), "%s", s->ssh_host);
	} else {
		f = https_forward(c);
		if (f == NULL)
			return err_setc(e, EXIT_USAGE,
			                "host.map_domain: no forward to guest port 443 in "
			                "network.forwards (add e.g. 127.0.0.1:443:443)");
		/* a forward on every address is reached through loopback too */
		snprintf(ip, sizeof(ip), "%s",
		         f->addr[0] && strcmp(f->addr, "0.0.0.0") != 0 ? f->addr : "127.0.0.1");
	}
	if (hosts_edit_file(c->hosts_file, domain, ip, 1, &changed, e) < 0)
		return err_wrap(e, "host.map_domain");
	if (changed) {
		snprintf(s->hosts_file, sizeof(s->hosts_file), "%s", c->hosts_file);
		snprintf(s->hosts_name, sizeof(s->hosts_name), "%s", domain);
	}
	report_info("%s -> %s in %s%s%s", domain, ip, c->hosts_file, note,
	            changed ? " (added; `inception destroy` removes it)" : " (already there)");
	if (f && f->host_port != 443)
		report_info("host port 443 is not forwarded: open https://%s:%u/ (or forward "
		            "127.0.0.1:443:443 for the plain URL)",
		            domain, f->host_port);
	return 0;
}

int hostmap_undo(const struct vm_state *s, struct err *e)
{
	int changed = 0;

	if (s->hosts_file[0] == '\0' || s->hosts_name[0] == '\0')
		return 0;
	if (hosts_edit_file(s->hosts_file, s->hosts_name, NULL, 0, &changed, e) < 0)
		return err_wrap(e, "removing %s from %s (run as the user that ran `up`, e.g. sudo)",
		                s->hosts_name, s->hosts_file);
	if (changed)
		report_info("%s removed from %s", s->hosts_name, s->hosts_file);
	return 0;
}
