/*
 * vm_cache.c: the per-project Docker cache (see vm_cache.h).
 *
 * Every VM has a second disk, vdb, that cloud-init formats (once) and mounts
 * on /var/lib/docker.  After a healthy `up` whose tree is new to that VM, the
 * disk is copied into an immutable qcow2 volume of the storage pool,
 * "dcache-<project key>-<ms>.qcow2", while the guest's filesystems are frozen
 * through qemu-guest-agent (fsfreeze: every filesystem flushed, writes held;
 * QEMU writes a guest flush through to the file).  The copy is `qemu-img
 * convert -U`: -U because the running QEMU holds the image's write lock;
 * what it reads is consistent because nothing is written while frozen.  The
 * copy is flat (no backing file), so older snapshots can go.
 *
 * The next VM of the same project (`rebuild`, or another vm.name) gets the
 * newest snapshot as the backing file of its Docker disk: the images, the
 * build cache and the base image are there, copy-on-write, so the guest's
 * real `make` (its compose build) finds every unchanged step cached, and a
 * changed Dockerfile line rebuilds from that line.  `up --clean` gives the
 * VM a blank Docker disk instead.
 */
#include "vm_cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "report.h"
#include "stack.h"
#include "util.h"
#include "vm.h"
#include "vm_int.h"

static char project_dir[PATH_MAX];

void vm_cache_set_project(const char *dir)
{
	snprintf(project_dir, sizeof(project_dir), "%s", dir ? dir : "");
}

int vm_cache_ident(const struct config *cfg, char *ident, size_t n, struct err *e)
{
	char top[PATH_MAX], real[PATH_MAX], dir[PATH_MAX];
	int r;

	/* the resolved project tree on the host (a URL's clone directory is
	 * the same for every up of that URL) and where it goes in the guest;
	 * without a project set, the tree this binary finds */
	if (project_dir[0])
		snprintf(top, sizeof(top), "%s", project_dir);
	else if (stack_find_top(top, sizeof(top), e) < 0)
		return -1;
	if (realpath(top, real) == NULL)
		snprintf(real, sizeof(real), "%s", top);
	r = snprintf(ident, n, "project=%s\nguest_dir=%s\ndocker.source=%s\n", real,
	             config_remote_dir(cfg, dir, sizeof(dir)),
	             docker_source_name(cfg->docker_source));
	if (r < 0 || (size_t)r >= n)
		return err_set(e, "project identity too long");
	return 0;
}

int vm_cache_key_of(const char *ident, char key[17], struct err *e)
{
	unsigned char d[32];
	unsigned int dl = 0;
	char hex[65];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(ctx, ident, strlen(ident)) == 1 &&
	         EVP_DigestFinal_ex(ctx, d, &dl) == 1;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set(e, "digest of the project identity failed");
	hex_encode(d, 8, hex);
	memcpy(key, hex, 16);
	key[16] = '\0';
	return 0;
}

int vm_cache_key(const struct config *cfg, char key[17], struct err *e)
{
	char ident[3 * PATH_MAX];

	if (vm_cache_ident(cfg, ident, sizeof(ident), e) < 0)
		return -1;
	return vm_cache_key_of(ident, key, e);
}

int vm_cache_name(const char *key, long long ms, char *buf, size_t n, struct err *e)
{
	return path_join(buf, n, e, VM_CACHE_PREFIX "%s-%013lld.qcow2", key, ms);
}

int vm_cache_newest(char *const *names, size_t count, const char *key, char *out, size_t n)
{
	char prefix[64];
	size_t i, plen;
	const char *best = NULL;

	snprintf(prefix, sizeof(prefix), VM_CACHE_PREFIX "%s-", key);
	plen = strlen(prefix);
	for (i = 0; i < count; i++) {
		size_t l = strlen(names[i]);

		/* prefix, 13 digits, ".qcow2": fixed width, so names sort by time */
		if (strncmp(names[i], prefix, plen) != 0 || l != plen + 13 + 6 ||
		    strcmp(names[i] + l - 6, ".qcow2") != 0)
			continue;
		if (best == NULL || strcmp(names[i], best) > 0)
			best = names[i];
	}
	if (best == NULL)
		return 0;
	snprintf(out, n, "%s", best);
	return 1;
}

int vm_cache_latest(struct virt *v, const char *pool, const char *key, char *out, size_t n,
                    struct err *e)
{
	char **names = NULL, prefix[64];
	size_t count = 0;
	int r;

	snprintf(prefix, sizeof(prefix), VM_CACHE_PREFIX "%s-", key);
	if (virt_vol_list(v, pool, prefix, &names, &count, e) < 0)
		return -1;
	r = vm_cache_newest(names, count, key, out, n);
	virt_names_free(names);
	return r;
}

int vm_states_each(int (*fn)(const char *vm, const struct vm_state *s, void *arg), void *arg,
                   struct err *e)
{
	char root[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (xdg_state_dir(root, sizeof(root), NULL, e) < 0)
		return -1;
	d = opendir(root);
	if (d == NULL)
		return errno == ENOENT ? 0 : err_set(e, "open %s: %s", root, strerror(errno));
	while (ret == 0 && (de = readdir(d)) != NULL) {
		struct vm_paths p;
		struct vm_state s;
		struct err le = {"", 0};

		if (de->d_name[0] == '.' || vm_paths(de->d_name, &p, &le) < 0 ||
		    access(p.state, F_OK) != 0 || vmstate_load(&p, &s, &le) < 0)
			continue;
		ret = fn(de->d_name, &s, arg);
	}
	closedir(d);
	return ret;
}

static int uses_cache(const char *vm, const struct vm_state *s, void *arg)
{
	(void)vm;
	return strcmp(s->cache_from, (const char *)arg) == 0 ? 1 : 0;
}

/* A snapshot is in use when a VM's state names it or a volume of the pool
 * is backed by it (a VM of another state directory, or anything else); an
 * unanswered question counts as in use. */
static int cache_in_use(struct virt *v, const char *pool, const char *name)
{
	struct err le = {"", 0};
	int users = 0;

	if (vm_states_each(uses_cache, (void *)name, &le) != 0)
		return 1;
	if (virt_vol_users(v, pool, name, &users, &le) < 0)
		return 1;
	return users > 0;
}

/* Deletes the project's older snapshots that no VM's Docker disk is backed
 * by (the newest, keep, stays). */
static void drop_old(struct virt *v, const char *pool, const char *key, const char *keep)
{
	char **names = NULL, prefix[64];
	size_t count = 0, i;
	struct err le = {"", 0};

	snprintf(prefix, sizeof(prefix), VM_CACHE_PREFIX "%s-", key);
	if (virt_vol_list(v, pool, prefix, &names, &count, &le) < 0)
		return;
	for (i = 0; i < count; i++) {
		if (strcmp(names[i], keep) == 0 || cache_in_use(v, pool, names[i]))
			continue;
		if (virt_vol_delete(v, pool, names[i], &le) == 0)
			report_debug("docker cache: %s dropped (superseded by %s)", names[i], keep);
	}
	virt_names_free(names);
}

/* The copy itself, with the guest frozen; the guest is always thawed. */
static int copy_frozen(struct virt *v, const struct vm_state *s, const char *src, const char *tmp,
                       const char *log, struct err *e)
{
	char *const argv[] = {"qemu-img", "convert", "-U",        "-f",        "qcow2",
	                      "-O",       "qcow2",   (char *)src, (char *)tmp, NULL};
	struct err te = {"", 0};
	int r;

	if (virt_dom_fsfreeze(v, s->domain, 1, e) < 0)
		return -1;
	r = run_argv(argv, log, e);
	if (virt_dom_fsfreeze(v, s->domain, 0, &te) < 0) {
		/* one more try: a frozen guest is stuck */
		if (virt_dom_fsfreeze(v, s->domain, 0, &te) < 0) {
			unlink(tmp);
			return err_set(e, "%s", te.msg);
		}
	}
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Longer than 60 lines: the checks that decide whether there is anything to
 * keep, then copy, rename, refresh and record, as one step the user sees. */
int vm_cache_keep(struct cli *cli, struct err *e)
{
	const struct config *cfg = &cli->cfg;
	struct vm_paths p;
	struct vm_state s;
	struct virt v;
	struct timespec ts;
	char key[17], name[96], src[PATH_MAX], dir[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX];
	char msg[256], *slash;
	struct stat st;
	long t0 = report_now_ms();
	int ret = -1;

	if (vm_paths(cfg->vm_name, &p, e) < 0 || vmstate_load(&p, &s, e) < 0)
		return -1;
	/* nothing new to keep: no Docker disk, not healthy, or this very tree
	 * was kept already (a no-op up costs nothing here) */
	if (s.docker_vol[0] == '\0' || s.stack_ok[0] == '\0' ||
	    strcmp(s.cache_tree, s.stack_ok) == 0)
		return 0;
	if (vm_open_virt(cfg, &s, &v, e) < 0)
		return -1;
	report_step_begin("cache", "the project's Docker cache (snapshot of /var/lib/docker)");
	if (!v.local) {
		vm_step_ok("cache", t0, "not kept: libvirt is remote (the copy is local)");
		ret = 0;
		goto done;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (vm_cache_key(cfg, key, e) < 0 ||
	    vm_cache_name(key, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, name,
	                  sizeof(name), e) < 0 ||
	    virt_vol_exists(&v, s.pool, s.docker_vol, src, sizeof(src), e) != 1) {
		if (e->msg[0] == '\0')
			err_set(e, "the VM's Docker disk %s/%s is missing", s.pool, s.docker_vol);
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s", src);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		err_set(e, "volume path %s has no directory", src);
		goto fail;
	}
	*slash = '\0';
	if (path_join(dst, sizeof(dst), e, "%s/%s", dir, name) < 0 ||
	    path_join(tmp, sizeof(tmp), e, "%s/.%s.tmp", dir, name) < 0)
		goto fail;
	if (copy_frozen(&v, &s, src, tmp, p.log, e) < 0) {
		/* the stack is healthy: a cache not kept is a warning, not a failure */
		report_warn("Docker cache not kept: %s", e->msg);
		err_clear(e);
		vm_step_ok("cache", t0, "not kept");
		ret = 0;
		goto done;
	}
	if (chmod(tmp, 0644) < 0 || rename(tmp, dst) < 0) {
		err_set(e, "keep %s: %s", dst, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if (virt_pool_refresh(&v, s.pool, e) < 0)
		goto fail;
	snprintf(s.cache_saved, sizeof(s.cache_saved), "%s", name);
	snprintf(s.cache_tree, sizeof(s.cache_tree), "%s", s.stack_ok);
	if (vmstate_save(&p, &s, e) < 0)
		goto fail;
	drop_old(&v, s.pool, key, name);
	snprintf(msg, sizeof(msg), "%s (%.0f MiB, guest frozen for the copy)", name,
	         stat(dst, &st) == 0 ? (double)st.st_blocks * 512.0 / 1048576.0 : 0.0);
	vm_step_ok("cache", t0, msg);
	ret = 0;
	goto done;
fail:
	vm_step_fail("cache", t0, e);
done:
	virt_close(&v);
	return ret;
}

int vm_cache_prune(struct virt *v, const char *pool, int all, size_t *removed, struct err *e)
{
	char **names = NULL;
	size_t count = 0, i, plen = strlen(VM_CACHE_PREFIX);
	int ret = 0;

	*removed = 0;
	if (virt_vol_list(v, pool, VM_CACHE_PREFIX, &names, &count, e) < 0)
		return -1;
	for (i = 0; i < count && ret == 0; i++) {
		char key[17], newest[160];

		if (strlen(names[i]) < plen + 16)
			continue;
		memcpy(key, names[i] + plen, 16);
		key[16] = '\0';
		if (cache_in_use(v, pool, names[i]))
			continue; /* a VM's Docker disk is backed by it */
		if (!all && vm_cache_newest(names, count, key, newest, sizeof(newest)) == 1 &&
		    strcmp(newest, names[i]) == 0)
			continue; /* the project's cache */
		if (virt_vol_delete(v, pool, names[i], e) < 0)
			ret = -1;
		else
			(*removed)++;
	}
	virt_names_free(names);
	return ret;
}
