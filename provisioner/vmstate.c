/*
 * vmstate.c: per-VM state directory, lock and state file (see vmstate.h).
 *
 * The lock is an flock() on <dir>/lock held for the whole command; the
 * holder writes its pid into the file so a refused command can name it.
 * The state file is a list of "key=value" lines; unknown keys are ignored
 * so newer versions can add some.
 */
#include "vmstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "jump.h"
#include "util.h"

int vm_paths(const char *vm_name, struct vm_paths *p, struct err *e)
{
	const char *d;

	if (vm_name == NULL || vm_name[0] == '\0' || strchr(vm_name, '/') != NULL ||
	    vm_name[0] == '.')
		return err_set(e, "invalid vm name '%s'", vm_name ? vm_name : "");
	memset(p, 0, sizeof(*p));
	if (xdg_state_dir(p->dir, sizeof(p->dir), vm_name, e) < 0)
		return -1;
	d = p->dir;
	if (path_join(p->state, sizeof(p->state), e, "%s/vm.state", d) < 0 ||
	    path_join(p->lock, sizeof(p->lock), e, "%s/lock", d) < 0 ||
	    path_join(p->console, sizeof(p->console), e, "%s/console.log", d) < 0 ||
	    path_join(p->identity, sizeof(p->identity), e, "%s/id_ed25519", d) < 0 ||
	    path_join(p->hostkey_pub, sizeof(p->hostkey_pub), e, "%s/ssh_host_ed25519_key.pub", d) <
	        0 ||
	    path_join(p->seed, sizeof(p->seed), e, "%s/seed.iso", d) < 0 ||
	    path_join(p->known_hosts, sizeof(p->known_hosts), e, "%s/known_hosts", d) < 0 ||
	    path_join(p->ssh_config, sizeof(p->ssh_config), e, "%s/ssh_config", d) < 0 ||
	    path_join(p->log, sizeof(p->log), e, "%s/provision.log", d) < 0)
		return -1;
	return 0;
}

int vm_lock(const struct vm_paths *p, int *fd, struct err *e)
{
	char pid[32];
	int f;

	if (mkdir_p(p->dir, 0700, e) < 0)
		return -1;
	f = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return err_set(e, "open %s: %s", p->lock, strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		ssize_t r = errno == EWOULDBLOCK ? pread(f, pid, sizeof(pid) - 1, 0) : -1;

		pid[r > 0 ? r : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(f);
		if (r >= 0)
			return err_set(e,
			               "another inception command (pid %s) is working on this VM; "
			               "wait for it or stop it",
			               pid[0] ? pid : "?");
		return err_set(e, "lock %s: %s", p->lock, strerror(errno));
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) == 0 && pwrite(f, pid, strlen(pid), 0) < 0) {
		/* the pid is only informative */
	}
	*fd = f;
	return 0;
}

void vm_unlock(int fd)
{
	if (fd >= 0) {
		if (ftruncate(fd, 0) < 0) {
			/* informative only */
		}
		close(fd); /* releases the flock */
	}
}

/* The fields of struct vm_state, for both directions. */
struct field {
	const char *key;
	size_t off, size; /* size 0 = unsigned */
};
#define S(k)                                                                                       \
	{                                                                                          \
#k, offsetof(struct vm_state, k), sizeof(((struct vm_state *)0)->k)                \
	}
static const struct field fields[] = {
    S(uri),
    S(domain),
    S(pool),
    S(base_vol),
    S(disk_vol),
    S(seed_vol),
    S(net),
    S(network),
    S(ssh_host),
    {"ssh_port", offsetof(struct vm_state, ssh_port), 0},
    S(login),
    S(accel),
    S(forwards),
    S(phase),
    S(hosts_file),
    S(hosts_name),
    S(stack_ok),
    S(project),
    S(project_dir),
    S(project_compose),
    S(project_commit),
    S(project_ref),
    {"project_dirty", offsetof(struct vm_state, project_dirty), 0},
    S(project_gen),
    S(docker_vol),
    S(cache_from),
    S(cache_saved),
    S(cache_tree),
};
#undef S
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int vmstate_format(const struct vm_state *s, char *buf, size_t n, struct err *e)
{
	size_t i, len = 0;

	for (i = 0; i < NFIELDS; i++) {
		const char *base = (const char *)s + fields[i].off;
		int r;

		if (fields[i].size == 0)
			r = snprintf(buf + len, n - len, "%s=%u\n", fields[i].key,
			             *(const unsigned *)(const void *)base);
		else if (strchr(base, '\n') != NULL)
			return err_set(e, "state value for %s contains a newline", fields[i].key);
		else
			r = snprintf(buf + len, n - len, "%s=%s\n", fields[i].key, base);
		if (r < 0 || (size_t)r >= n - len)
			return err_set(e, "state too large");
		len += (size_t)r;
	}
	return 0;
}

int vmstate_parse(const char *text, struct vm_state *s, struct err *e)
{
	const char *line = text;
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *eq = memchr(line, '=', len);
		size_t i;

		lineno++;
		if (len > 0 && eq == NULL)
			return err_set(e, "state line %d: no '='", lineno);
		for (i = 0; eq && i < NFIELDS; i++) {
			size_t klen = (size_t)(eq - line), vlen = len - klen - 1;
			char *dst = (char *)s + fields[i].off;

			if (strlen(fields[i].key) != klen ||
			    strncmp(fields[i].key, line, klen) != 0)
				continue;
			if (fields[i].size == 0) {
				char num[16] = "";
				char *end;
				unsigned long v;

				if (vlen >= sizeof(num))
					return err_set(e, "state line %d: bad number", lineno);
				memcpy(num, eq + 1, vlen);
				v = strtoul(num, &end, 10);
				if (*end != '\0' || v > 65535)
					return err_set(e, "state line %d: bad number", lineno);
				*(unsigned *)(void *)dst = (unsigned)v;
			} else {
				if (vlen >= fields[i].size)
					return err_set(e, "state line %d: value too long", lineno);
				memcpy(dst, eq + 1, vlen);
				dst[vlen] = '\0';
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int vmstate_load(const struct vm_paths *p, struct vm_state *s, struct err *e)
{
	char *text = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	if (access(p->state, F_OK) < 0)
		return err_setc(e, EXIT_NOVM, "no VM state in %s (run `inception up` first)",
		                p->dir);
	if (read_file(p->state, &text, NULL, e) < 0)
		return -1;
	ret = vmstate_parse(text, s, e);
	free(text);
	if (ret < 0)
		return err_wrap(e, "%s", p->state);
	return 0;
}

int vmstate_save(const struct vm_paths *p, const struct vm_state *s, struct err *e)
{
	char buf[8192];

	if (vmstate_format(s, buf, sizeof(buf), e) < 0)
		return -1;
	return write_file_atomic(p->state, buf, strlen(buf), 0600, e);
}

void vm_target_from(const struct vm_paths *p, const struct vm_state *s, int timeout_s,
                    struct vm_target *out)
{
	memset(out, 0, sizeof(*out));
	out->paths = *p;
	snprintf(out->host, sizeof(out->host), "%s", s->ssh_host);
	snprintf(out->user, sizeof(out->user), "%s", s->login);
	out->t.host = out->host;
	out->t.port = s->ssh_port ? s->ssh_port : 22;
	out->t.user = out->user;
	out->t.identity = out->paths.identity;
	out->t.hostkey_pub = out->paths.hostkey_pub;
	out->t.timeout_s = timeout_s > 0 ? timeout_s : 10;
	snprintf(out->jump_uri, sizeof(out->jump_uri), "%s", s->uri);
	out->t.jump_uri = out->jump_uri;
}

int vm_target(const struct config *cfg, struct vm_target *out, struct err *e)
{
	struct vm_paths p;
	struct vm_state s;

	if (vm_paths(cfg->vm_name, &p, e) < 0 || vmstate_load(&p, &s, e) < 0)
		return -1;
	if (s.ssh_host[0] == '\0' || s.ssh_port == 0)
		return err_setc(e, EXIT_NOVM, "VM %s has no SSH address yet (is it up?)",
		                cfg->vm_name);
	vm_target_from(&p, &s, 10, out);
	return 0;
}

/* The ssh_config block of the libvirt host for ProxyJump (empty when the
 * VM is on this host): the URI's user, port, keyfile and known_hosts, and
 * never an unknown key accepted. */
static int jump_block(const struct vm_state *s, const char *vm_name, char *buf, size_t n,
                      struct err *e)
{
	struct jump_host j;
	int r = jump_parse_uri(s->uri, &j, e);

	buf[0] = '\0';
	if (r <= 0)
		return r;
	r = snprintf(buf, n,
	             "  ProxyJump inception-jump-%s\n"
	             "Host inception-jump-%s\n"
	             "  HostName %s\n"
	             "  Port %u\n"
	             "  User %s\n"
	             "%s%s%s"
	             "  UserKnownHostsFile \"%s\"\n"
	             "  StrictHostKeyChecking yes\n",
	             vm_name, vm_name, j.host, j.port, j.user,
	             j.keyfile[0] ? "  IdentityFile \"" : "", j.keyfile,
	             j.keyfile[0] ? "\"\n  IdentitiesOnly yes\n" : "", j.known_hosts);
	if (r < 0 || (size_t)r >= n)
		return err_set(e, "ssh_config too long");
	return 0;
}

int vm_write_ssh_files(const struct vm_paths *p, const struct vm_state *s, const char *vm_name,
                       struct err *e)
{
	char *pub = NULL;
	char host[96], buf[8192], jump[4096];
	size_t len;
	int r, ret = -1;

	if (jump_block(s, vm_name, jump, sizeof(jump), e) < 0)
		return -1;
	if (read_file(p->hostkey_pub, &pub, &len, e) < 0)
		return -1;
	while (len > 0 && (pub[len - 1] == '\n' || pub[len - 1] == '\r'))
		pub[--len] = '\0';
	if (s->ssh_port == 22)
		snprintf(host, sizeof(host), "%s", s->ssh_host);
	else
		snprintf(host, sizeof(host), "[%s]:%u", s->ssh_host, s->ssh_port);
	r = snprintf(buf, sizeof(buf), "%s %s\n", host, pub);
	if (r < 0 || (size_t)r >= sizeof(buf)) {
		err_set(e, "host key too long");
		goto done;
	}
	if (write_file_atomic(p->known_hosts, buf, strlen(buf), 0600, e) < 0)
		goto done;
	r = snprintf(buf, sizeof(buf),
	             "# Written by inception for VM %s: ssh -F %s %s\n"
	             "Host %s\n"
	             "  HostName %s\n"
	             "  Port %u\n"
	             "  User %s\n"
	             "  IdentityFile \"%s\"\n"
	             "  IdentitiesOnly yes\n"
	             "  UserKnownHostsFile \"%s\"\n"
	             "  GlobalKnownHostsFile /dev/null\n"
	             "  StrictHostKeyChecking yes\n"
	             "  HostKeyAlgorithms ssh-ed25519\n"
	             "  LogLevel ERROR\n"
	             "%s",
	             vm_name, p->ssh_config, vm_name, vm_name, s->ssh_host, s->ssh_port, s->login,
	             p->identity, p->known_hosts, jump);
	if (r < 0 || (size_t)r >= sizeof(buf)) {
		err_set(e, "ssh_config too long");
		goto done;
	}
	ret = write_file_atomic(p->ssh_config, buf, strlen(buf), 0600, e);
done:
	free(pub);
	return ret;
}
