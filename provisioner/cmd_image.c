/*
 * cmd_image.c: `inception image fetch|build|list|export|import|prune` (see
 * image.h, imgxfer.h).
 *
 *   fetch [--refresh] [--no-build-fallback]
 *                  the image for image.url: the cached one when there is one
 *                  (no network), else downloaded and verified; --refresh
 *                  reads the checksums file again and downloads a newer image.
 *                  An unreachable url with nothing cached builds instead
 *                  (like `up`), unless --no-build-fallback.
 *   build [SUITE]  build the image from the apt mirror (default: image.build,
 *                  else trixie), unless that build is cached
 *   list [--caches]
 *                  the cached images (plain and golden layers) and partial
 *                  downloads, each with the VMs whose overlay it backs;
 *                  --caches: then the projects' Docker cache snapshots in the
 *                  storage pool (asks libvirt)
 *   export FILE    the cached image the configuration uses (and its golden
 *                  layer when one applies and is cached) into one tar file
 *                  with a MANIFEST of SHA-256 digests (see imgxfer.h)
 *   import [--sha256 HEX] FILE
 *                  such a file into the cache, every file checked against
 *                  the MANIFEST (and the archive against HEX first)
 *   prune [--all] [--caches]
 *                  remove partial downloads, logs and the images the current
 *                  configuration does not use (--all: every image); with
 *                  --caches, also the Docker cache snapshots of the storage
 *                  pool that no VM uses and that a newer snapshot of the same
 *                  project replaced (--all: every one no VM uses)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "image.h"
#include "imgxfer.h"
#include "report.h"
#include "virt.h"
#include "vm_cache.h"

static void mib(char *buf, size_t n, uint64_t bytes)
{
	snprintf(buf, n, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

static int show_path(const char *step, const char *what, long t0, const char *path)
{
	report_step_end(step, "ok", report_now_ms() - t0, what);
	report_kv_begin(NULL);
	report_kv("image", path, NULL);
	report_kv_end();
	return 0;
}

static int image_fetch_cmd(struct cli *cli, int refresh, int no_fallback, struct err *e)
{
	char path[PATH_MAX];
	long t0 = report_now_ms();
	int r;

	if (cli->cfg.image_url == NULL)
		return err_setc(e, EXIT_USAGE,
		                "image fetch: image.build is set (%s): there is "
		                "nothing to download; use `inception image build`",
		                cli->cfg.image_build ? cli->cfg.image_build : "?");
	report_step_begin("image", cli->cfg.image_url);
	if (refresh)
		r = image_fetch(&cli->cfg, path, sizeof(path), e);
	else
		r = image_ensure(&cli->cfg, no_fallback, path, sizeof(path), e);
	if (r < 0) {
		report_step_end("image", "fail", report_now_ms() - t0, "");
		return -1;
	}
	return show_path("image", "verified", t0, path);
}

static int image_build_cmd(struct cli *cli, const char *suite, struct err *e)
{
	struct config c = cli->cfg; /* shallow: only image_build is changed */
	char path[PATH_MAX], what[256];
	long t0 = report_now_ms();

	if (suite != NULL)
		c.image_build = (char *)suite;
	if (c.image_build == NULL)
		c.image_build = "trixie";
	c.image_url = NULL;
	snprintf(what, sizeof(what), "build Debian %s from %s", c.image_build,
	         c.apt_mirror ? c.apt_mirror : "the default mirror");
	report_step_begin("image", what);
	if (image_build(&c, path, sizeof(path), e) < 0) {
		report_step_end("image", "fail", report_now_ms() - t0, "");
		return -1;
	}
	return show_path("image", "ready", t0, path);
}

/* "vm1 vm2" that match (a field of the VM's state equal to want). */
struct users {
	const char *want;
	int docker; /* compare cache_from, else base_vol */
	char list[512];
};

static int add_user(const char *vm, const struct vm_state *s, void *arg)
{
	struct users *u = arg;
	size_t l = strlen(u->list);

	if (strcmp(u->docker ? s->cache_from : s->base_vol, u->want) == 0)
		snprintf(u->list + l, sizeof(u->list) - l, "%s%s", l ? " " : "", vm);
	return 0;
}

static void users_of(const char *want, int docker, char *out, size_t n)
{
	struct users u = {want, docker, ""};
	struct err le = {"", 0};

	vm_states_each(add_user, &u, &le);
	snprintf(out, n, "%s", u.list[0] ? u.list : "-");
}

/* The Docker cache snapshots in the pool, with the VMs backed by them. */
static void list_caches(struct cli *cli)
{
	struct virt v;
	struct err le = {"", 0};
	char **names = NULL;
	size_t count = 0, i;

	if (virt_open(cli->cfg.libvirt_uri, &v, &le) < 0) {
		report_info("Docker caches: not listed (%s)", le.msg);
		return;
	}
	if (virt_vol_list(&v, "inception", VM_CACHE_PREFIX, &names, &count, &le) < 0)
		count = 0;
	report_kv_begin("Docker caches (storage pool inception):");
	for (i = 0; i < count; i++) {
		char path[4096], val[600];
		long long kb = 0;

		users_of(names[i], 1, val, sizeof(val));
		if (virt_vol_exists(&v, "inception", names[i], path, sizeof(path), &le) == 1) {
			struct stat st;

			if (stat(path, &st) == 0)
				kb = (long long)st.st_blocks / 2;
		}
		{
			char line[700];

			snprintf(line, sizeof(line), "%8.1f MiB  used by: %s", (double)kb / 1024.0,
			         val);
			report_kv(names[i], line, NULL);
		}
	}
	report_kv_end();
	if (count == 0)
		report_info("no Docker cache yet (kept after a healthy up)");
	virt_names_free(names);
	virt_close(&v);
}

static int image_list_cmd(struct cli *cli, int caches, struct err *e)
{
	struct image_entry *v = NULL;
	size_t n = 0, i;
	char dir[PATH_MAX], title[PATH_MAX + 32];

	if (image_cache_dir(dir, sizeof(dir), e) < 0 || image_list(&v, &n, e) < 0)
		return -1;
	snprintf(title, sizeof(title), "Images in %s:", dir);
	report_kv_begin(title);
	for (i = 0; i < n; i++) {
		char val[900], size[32], when[32], vol[160], ok[160], used[600], note[1200];
		struct tm tm;
		struct err le = {"", 0};

		mib(size, sizeof(size), v[i].size);
		localtime_r(&v[i].mtime, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		if (vm_base_names(v[i].name, vol, sizeof(vol), ok, sizeof(ok), &le) < 0)
			vol[0] = '\0';
		users_of(vol, 0, used, sizeof(used));
		/* the note stays the source alone (url, or what it was made from) */
		snprintf(val, sizeof(val), "%-6s %10s  %s  sha512 %.16s  used by: %s", v[i].kind,
		         size, when, v[i].sha512[0] ? v[i].sha512 : "-", used);
		snprintf(note, sizeof(note), "%s", v[i].source);
		report_kv(v[i].name, val, note[0] ? note : NULL);
	}
	report_kv_end();
	if (n == 0)
		report_info("no cached image (`inception image build` or `inception image fetch`)");
	free(v);
	if (caches)
		list_caches(cli);
	return 0;
}

static int image_prune_cmd(struct cli *cli, int all, int caches, struct err *e)
{
	size_t removed;
	uint64_t freed;
	char num[32], size[32];

	if (image_prune(&cli->cfg, all, &removed, &freed, e) < 0)
		return -1;
	if (caches) {
		struct virt v;
		size_t n = 0;

		/* the pool's Docker caches (what a VM uses stays) */
		if (virt_open(cli->cfg.libvirt_uri, &v, e) < 0)
			return err_wrap(e, "image prune --caches");
		if (vm_cache_prune(&v, "inception", all, &n, e) < 0) {
			virt_close(&v);
			return err_wrap(e, "image prune --caches");
		}
		virt_close(&v);
		removed += n;
	}
	mib(size, sizeof(size), freed);
	snprintf(num, sizeof(num), "%zu", removed);
	report_kv_begin(NULL);
	report_kv_raw("removed", num, NULL);
	report_kv("freed", size, NULL);
	report_kv_end();
	return 0;
}

/* What went in or came out: each file's SHA-256, then the archive's. */
static void show_xfer(const struct imgxfer *x, const char *file)
{
	char val[300], num[32];
	size_t i;

	report_kv_begin(NULL);
	for (i = 0; i < x->n; i++) {
		if (report_mode() == REPORT_JSON) {
			/* names, digests and states are [A-Za-z0-9._ -]: no escaping */
			snprintf(val, sizeof(val),
			         "{\"sha256\":\"%s\",\"size\":%llu,\"state\":\"%s\"}",
			         x->f[i].sha256, (unsigned long long)x->f[i].size, x->f[i].state);
			report_kv_raw(x->f[i].name, val, NULL);
			continue;
		}
		snprintf(val, sizeof(val), "sha256 %s  %llu bytes%s%s", x->f[i].sha256,
		         (unsigned long long)x->f[i].size, x->f[i].state[0] ? "  " : "",
		         x->f[i].state);
		report_kv(x->f[i].name, val, NULL);
	}
	report_kv("archive", file, NULL);
	report_kv("archive_sha256", x->sha256, NULL);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)x->size);
	report_kv_raw("archive_size", num, NULL);
	report_kv_end();
}

static int image_xfer_cmd(struct cli *cli, int import, const char *file, const char *sha,
                          struct err *e)
{
	struct imgxfer x;
	long t0 = report_now_ms();
	const char *step = import ? "import" : "export";

	report_step_begin(step, file);
	if ((import ? imgxfer_import(file, sha, &x, e) : imgxfer_export(&cli->cfg, file, &x, e)) <
	    0) {
		report_step_end(step, "fail", report_now_ms() - t0, "");
		return -1;
	}
	report_step_end(step, "ok", report_now_ms() - t0,
	                import ? "every file matches its MANIFEST digest" : "written");
	show_xfer(&x, file);
	return 0;
}

int cmd_image(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
	                                     {"refresh", no_argument, NULL, 'r'},
	                                     {"no-build-fallback", no_argument, NULL, 'n'},
	                                     {"caches", no_argument, NULL, 'C'},
	                                     {"sha256", required_argument, NULL, 'S'},
	                                     {NULL, 0, NULL, 0}};
	const char *sub, *sha = NULL;
	int ch, all = 0, refresh = 0, no_fallback = 0, caches = 0;

	while ((ch = cli_getopt(cli, argc, argv, "a", opts, e)) != -1) {
		if (ch == '?')
			return -1;
		if (ch == 'a')
			all = 1;
		else if (ch == 'r')
			refresh = 1;
		else if (ch == 'n')
			no_fallback = 1;
		else if (ch == 'C')
			caches = 1;
		else if (ch == 'S')
			sha = optarg;
	}
	if (optind >= argc)
		return err_setc(e, EXIT_USAGE,
		                "image: say fetch, build, list, export, import or prune");
	sub = argv[optind++];
	if (all && strcmp(sub, "prune") != 0)
		return err_setc(e, EXIT_USAGE, "image %s: --all is for prune", sub);
	if (caches && strcmp(sub, "prune") != 0 && strcmp(sub, "list") != 0)
		return err_setc(e, EXIT_USAGE, "image %s: --caches is for list and prune", sub);
	if ((refresh || no_fallback) && strcmp(sub, "fetch") != 0)
		return err_setc(e, EXIT_USAGE,
		                "image %s: --refresh and --no-build-fallback are for "
		                "fetch",
		                sub);
	if (sha && strcmp(sub, "import") != 0)
		return err_setc(e, EXIT_USAGE, "image %s: --sha256 is for import", sub);
	if (strcmp(sub, "export") == 0 || strcmp(sub, "import") == 0) {
		if (argc - optind != 1)
			return err_setc(e, EXIT_USAGE, "image %s: say one FILE", sub);
		return image_xfer_cmd(cli, sub[0] == 'i', argv[optind], sha, e);
	}
	if (strcmp(sub, "build") == 0) {
		if (argc - optind > 1)
			return err_setc(e, EXIT_USAGE, "image build: one suite at most");
		return image_build_cmd(cli, optind < argc ? argv[optind] : NULL, e);
	}
	if (optind < argc)
		return err_setc(e, EXIT_USAGE, "image %s: unexpected argument \"%s\"", sub,
		                argv[optind]);
	if (strcmp(sub, "fetch") == 0)
		return image_fetch_cmd(cli, refresh, no_fallback, e);
	if (strcmp(sub, "list") == 0)
		return image_list_cmd(cli, caches, e);
	if (strcmp(sub, "prune") == 0)
		return image_prune_cmd(cli, all, caches, e);
	return err_setc(e, EXIT_USAGE,
	                "image: unknown subcommand \"%s\" (fetch, build, list, export, "
	                "import, prune)",
	                sub);
}
