/*
 * vm_create.c: a new VM's parts, each an idempotent step recorded in the
 * VM's state file: image (the golden layer, Debian + Docker, when one
 * applies and not --clean; else the plain image: cached, downloaded or
 * built) -> keys and the cloud-init seed -> volumes (the base image uploaded
 * once per pool under a host-wide lock and shared read-only, a qcow2 overlay
 * per VM, the VM's Docker disk backed by its project's newest Docker cache
 * snapshot unless --clean (vm_cache.c), the seed ISO) -> domain.  The domain
 * is defined again on every start, so memory, cpus and forwards follow the
 * configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "domxml.h"
#include "image.h"
#include "keys.h"
#include "report.h"
#include "seed.h"
#include "util.h"
#include "vm_cache.h"
#include "vm_int.h"

static void upload_progress(uint64_t done, uint64_t total, void *arg)
{
	report_progress((const char *)arg, done, total);
}

/* A host-wide lock around the upload of a shared base volume. */
int vm_pool_lock(int *fd, struct err *e)
{
	char path[PATH_MAX];

	if (xdg_state_dir(path, sizeof(path), NULL, e) < 0 || mkdir_p(path, 0700, e) < 0)
		return -1;
	if (path_join(path, sizeof(path), e, "%s/.pool.lock", path) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_set(e, "open %s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX) < 0) {
		close(*fd);
		return err_set(e, "lock %s: %s", path, strerror(errno));
	}
	return 0;
}

/* Volume name of the base image: "base-<cache file stem>.qcow2", with a
 * marker volume "<...>.ok" that exists only after a complete upload. */
int vm_base_names(const char *image, char *vol, size_t n, char *ok, size_t m, struct err *e)
{
	const char *b = strrchr(image, '/');
	char stem[64];
	size_t len;

	b = b ? b + 1 : image;
	len = strlen(b);
	if (len > 6 && strcmp(b + len - 6, ".qcow2") == 0)
		len -= 6;
	if (len > 48)
		len = 48;
	memcpy(stem, b, len);
	stem[len] = '\0';
	if (path_join(vol, n, e, "base-%s.qcow2", stem) < 0 ||
	    path_join(ok, m, e, "base-%s.ok", stem) < 0)
		return -1;
	return 0;
}

static int ensure_base_volume(struct up *u, const char *image, struct err *e)
{
	char vol[128], ok[128];
	int lock = -1, r, ret = -1;

	if (vm_base_names(image, vol, sizeof(vol), ok, sizeof(ok), e) < 0)
		return -1;
	snprintf(u->s.base_vol, sizeof(u->s.base_vol), "%s", vol);
	if (vm_pool_lock(&lock, e) < 0)
		return -1;
	r = virt_vol_exists(&u->v, POOL_NAME, ok, NULL, 0, e);
	if (r < 0)
		goto done;
	if (r == 1 && virt_vol_exists(&u->v, POOL_NAME, vol, NULL, 0, e) == 1) {
		ret = 0;
		goto done;
	}
	/* missing, or an upload that did not finish */
	if (virt_vol_delete(&u->v, POOL_NAME, vol, e) < 0 ||
	    virt_vol_delete(&u->v, POOL_NAME, ok, e) < 0)
		goto done;
	if (virt_vol_upload(&u->v, POOL_NAME, vol, image, "raw", upload_progress,
	                    (void *)"upload base image", e) < 0)
		goto done;
	report_progress_done();
	if (virt_vol_create(&u->v, POOL_NAME, ok, 0, NULL, e) < 0)
		goto done;
	ret = 0;
done:
	report_progress_done();
	if (lock >= 0)
		close(lock);
	return ret;
}

static const struct forward *ssh_forward(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nforwards; i++)
		if (cfg->forwards[i].guest_port == 22)
			return &cfg->forwards[i];
	return NULL;
}

static void format_forwards(const struct config *cfg, char *buf, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < cfg->nforwards && len < n; i++) {
		int r = snprintf(buf + len, n - len, "%s%s:%u->%u", i ? " " : "",
		                 cfg->forwards[i].addr[0] ? cfg->forwards[i].addr : "127.0.0.1",
		                 cfg->forwards[i].host_port, cfg->forwards[i].guest_port);
		if (r < 0)
			break;
		len += (size_t)r;
	}
}

/* The network part of the state, from the configuration. */
static int set_network(struct up *u, struct err *e)
{
	if (u->cfg->net_mode == NET_NAT) {
		if (virt_net_ensure(&u->v, NAT_NETWORK, NAT_BRIDGE, NAT_PREFIX, e) < 0)
			return -1;
		snprintf(u->s.net, sizeof(u->s.net), "nat");
		snprintf(u->s.network, sizeof(u->s.network), "%s", NAT_NETWORK);
		u->s.ssh_host[0] = '\0'; /* learnt from DHCP or the guest agent at boot */
		u->s.ssh_port = 22;
		u->s.forwards[0] = '\0';
	} else {
		const struct forward *f = ssh_forward(u->cfg);
		if (f == NULL)
			return err_setc(
			    e, EXIT_USAGE,
			    "network.forwards: user mode needs a forward to guest port 22");
		snprintf(u->s.net, sizeof(u->s.net), "user");
		u->s.network[0] = '\0';
		snprintf(u->s.ssh_host, sizeof(u->s.ssh_host), "%s",
		         f->addr[0] ? f->addr : "127.0.0.1");
		u->s.ssh_port = f->host_port;
		format_forwards(u->cfg, u->s.forwards, sizeof(u->s.forwards));
	}
	return 0;
}

/* (Re)defines the domain from the configuration: on every start of a
 * stopped VM, so memory, cpus and forwards follow the configuration. */
int vm_define_domain(struct up *u, const char *domtype, struct err *e)
{
	struct domspec ds = {0};
	char *xml = NULL, uuid[64];
	int ret;

	if (set_network(u, e) < 0 || virt_dom_uuid(&u->v, u->s.domain, uuid, sizeof(uuid), e) < 0)
		return -1;
	ds.uuid = uuid[0] ? uuid : NULL;

	ds.name = u->s.domain;
	ds.domtype = domtype;
	ds.memory = u->cfg->memory;
	ds.cpus = u->cfg->cpus;
	ds.pool = u->s.pool;
	ds.disk_vol = u->s.disk_vol;
	ds.seed_vol = u->s.seed_vol;
	ds.docker_vol = u->s.docker_vol[0] ? u->s.docker_vol : NULL;
	ds.console_log = u->v.local ? u->p.console : NULL;
	ds.net = u->cfg->net_mode;
	ds.network = NAT_NETWORK;
	ds.usernet =
	    domxml_usernet_for(u->v.libver, u->v.local && access("/usr/bin/passt", X_OK) == 0);
	ds.forwards = u->cfg->forwards;
	ds.nforwards = u->cfg->nforwards;
	if (domxml_domain(&ds, &xml, e) < 0)
		return -1;
	ret = virt_dom_define(&u->v, xml, e);
	free(xml);
	if (ret == 0)
		snprintf(u->s.accel, sizeof(u->s.accel), "%s", domtype);
	return ret;
}

/* The base layer: the golden layer unless --clean or none applies (then
 * the plain Debian image). */
static int choose_image(struct up *u, const struct vm_up_opts *o, char *image, size_t n,
                        struct err *e)
{
	char why[256];
	long t0 = report_now_ms();

	if (!o->clean && image_golden_why(u->cfg, why, sizeof(why))) {
		report_step_begin("image",
		                  "golden layer: Debian + Docker (cached or built natively)");
		if (image_golden(u->cfg, image, n, e) < 0)
			return vm_step_fail("image", t0, e);
		return vm_step_ok("image", t0, image);
	}
	if (o->clean)
		report_info(
		    "--clean: the plain Debian image, a blank Docker disk (no golden layer, "
		    "no Docker cache)");
	else
		report_info("no golden layer: %s", why);
	report_step_begin("image", "base image (cached, downloaded or built)");
	if (image_ensure(u->cfg, o->no_build_fallback, image, n, e) < 0)
		return vm_step_fail("image", t0, e);
	return vm_step_ok("image", t0, image);
}

/* The VM's Docker disk (kept when an interrupted up left it): backed by the
 * project's newest Docker cache snapshot, or blank with --clean, with none
 * yet, or when libvirt is remote. */
static int ensure_docker_volume(struct up *u, const struct vm_up_opts *o, struct err *e)
{
	char key[17], snap[160] = "";
	int r;

	snprintf(u->s.docker_vol, sizeof(u->s.docker_vol), "%s-docker.qcow2", u->s.domain);
	r = virt_vol_exists(&u->v, POOL_NAME, u->s.docker_vol, NULL, 0, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!o->clean && u->v.local) {
		if (vm_cache_key(u->cfg, key, e) < 0)
			return -1;
		r = vm_cache_latest(&u->v, POOL_NAME, key, snap, sizeof(snap), e);
		if (r < 0)
			return -1;
		if (r == 0)
			snap[0] = '\0';
	}
	snprintf(u->s.cache_from, sizeof(u->s.cache_from), "%s", snap[0] ? snap : "none");
	if (virt_vol_create(&u->v, POOL_NAME, u->s.docker_vol, u->cfg->disk, snap[0] ? snap : NULL,
	                    e) < 0)
		return -1;
	if (snap[0])
		report_info("Docker disk from the project's cache %s (copy-on-write)", snap);
	return 0;
}

/* Whether image-build.sh made the image (build-*.qcow2, golden-*.qcow2 in
 * the cache): it holds every package the agent needs already. */
static int image_is_ours(const char *image)
{
	const char *b = strrchr(image, '/');

	b = b ? b + 1 : image;
	return strncmp(b, "build-", 6) == 0 || strncmp(b, "golden-", 7) == 0;
}

/* Creates what is missing: keys, seed, volumes, network, domain. */
int vm_create(struct up *u, const struct vm_up_opts *o, struct err *e)
{
	char image[PATH_MAX];
	long t0;
	uint64_t size;
	int r;

	if (choose_image(u, o, image, sizeof(image), e) < 0)
		return -1;

	t0 = report_now_ms();
	report_step_begin("seed", "SSH keys and cloud-init seed");
	if (keys_ensure(u->p.dir, e) < 0 ||
	    seed_build(u->cfg, u->p.dir, u->p.seed, !image_is_ours(image), e) < 0)
		return vm_step_fail("seed", t0, e);
	vm_step_ok("seed", t0, u->p.seed);

	t0 = report_now_ms();
	report_step_begin("volumes", "storage pool, base volume, overlay, seed volume");
	{
		char pool_path[PATH_MAX];
		if (virt_pool_path(&u->v, pool_path, sizeof(pool_path), e) < 0 ||
		    virt_pool_ensure(&u->v, POOL_NAME, pool_path, e) < 0)
			return vm_step_fail("volumes", t0, e);
	}
	snprintf(u->s.pool, sizeof(u->s.pool), "%s", POOL_NAME);
	if (ensure_base_volume(u, image, e) < 0 || vmstate_save(&u->p, &u->s, e) < 0)
		return vm_step_fail("volumes", t0, e);
	snprintf(u->s.disk_vol, sizeof(u->s.disk_vol), "%s.qcow2", u->s.domain);
	snprintf(u->s.seed_vol, sizeof(u->s.seed_vol), "%s-seed.iso", u->s.domain);
	/* a disk left by an interrupted up keeps its data: reuse it */
	r = virt_vol_exists(&u->v, POOL_NAME, u->s.disk_vol, NULL, 0, e);
	if (r < 0 || (r == 0 && virt_vol_create(&u->v, POOL_NAME, u->s.disk_vol, u->cfg->disk,
	                                        u->s.base_vol, e) < 0))
		return vm_step_fail("volumes", t0, e);
	if (ensure_docker_volume(u, o, e) < 0 || vmstate_save(&u->p, &u->s, e) < 0)
		return vm_step_fail("volumes", t0, e);
	if (virt_vol_delete(&u->v, POOL_NAME, u->s.seed_vol, e) < 0 ||
	    virt_vol_upload(&u->v, POOL_NAME, u->s.seed_vol, u->p.seed, "raw", NULL, NULL, e) < 0)
		return vm_step_fail("volumes", t0, e);
	size = u->cfg->disk;
	{
		char msg[1024];
		snprintf(msg, sizeof(msg),
		         "%s/%s (%llu GiB, backed by %s), Docker disk %s (from %s)", POOL_NAME,
		         u->s.disk_vol, (unsigned long long)(size >> 30), u->s.base_vol,
		         u->s.docker_vol, u->s.cache_from);
		vm_step_ok("volumes", t0, msg);
	}

	t0 = report_now_ms();
	report_step_begin("define", "libvirt domain");
	if (vm_define_domain(u, u->plan.first, e) < 0)
		return vm_step_fail("define", t0, e);
	snprintf(u->s.phase, sizeof(u->s.phase), "created");
	if (vmstate_save(&u->p, &u->s, e) < 0)
		return vm_step_fail("define", t0, e);
	vm_step_ok("define", t0, u->s.domain);
	return 0;
}
