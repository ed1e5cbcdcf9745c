/*
 * cmd_image.c: `inception image fetch|build|list|prune` (see image.h).
 *
 *   fetch [--refresh] [--no-build-fallback]
 *                  the image for image.url: the cached one when there is one
 *                  (no network), else downloaded and verified; --refresh
 *                  reads the checksums file again and downloads a newer image.
 *                  An unreachable url with nothing cached builds instead
 *                  (like `up`), unless --no-build-fallback.
 *   build [SUITE]  build the image from the apt mirror (default: image.build,
 *                  else trixie), unless that build is cached
 *   list           the cached images and partial downloads
 *   prune [--all]  remove partial downloads, logs and the images the current
 *                  configuration does not use (--all: every image)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "image.h"
#include "report.h"

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

static int image_list_cmd(struct err *e)
{
	struct image_entry *v = NULL;
	size_t n = 0, i;
	char dir[PATH_MAX], title[PATH_MAX + 32];

	if (image_cache_dir(dir, sizeof(dir), e) < 0 || image_list(&v, &n, e) < 0)
		return -1;
	snprintf(title, sizeof(title), "Images in %s:", dir);
	report_kv_begin(title);
	for (i = 0; i < n; i++) {
		char val[128], size[32], when[32];
		struct tm tm;

		mib(size, sizeof(size), v[i].size);
		localtime_r(&v[i].mtime, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		snprintf(val, sizeof(val), "%-5s %10s  %s", v[i].kind, size, when);
		report_kv(v[i].name, val, v[i].source[0] ? v[i].source : NULL);
	}
	report_kv_end();
	if (n == 0)
		report_info("no cached image (`inception image build` or `inception image fetch`)");
	free(v);
	return 0;
}

static int image_prune_cmd(struct cli *cli, int all, struct err *e)
{
	size_t removed;
	uint64_t freed;
	char num[32], size[32];

	if (image_prune(&cli->cfg, all, &removed, &freed, e) < 0)
		return -1;
	mib(size, sizeof(size), freed);
	snprintf(num, sizeof(num), "%zu", removed);
	report_kv_begin(NULL);
	report_kv_raw("removed", num, NULL);
	report_kv("freed", size, NULL);
	report_kv_end();
	return 0;
}

int cmd_image(struct cli *cli, int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
	                                     {"refresh", no_argument, NULL, 'r'},
	                                     {"no-build-fallback", no_argument, NULL, 'n'},
	                                     {NULL, 0, NULL, 0}};
	const char *sub;
	int ch, all = 0, refresh = 0, no_fallback = 0;

	while ((ch = cli_getopt(cli, argc, argv, "a", opts, e)) != -1) {
		if (ch == '?')
			return -1;
		if (ch == 'a')
			all = 1;
		else if (ch == 'r')
			refresh = 1;
		else if (ch == 'n')
			no_fallback = 1;
	}
	if (optind >= argc)
		return err_setc(e, EXIT_USAGE, "image: say fetch, build, list or prune");
	sub = argv[optind++];
	if (all && strcmp(sub, "prune") != 0)
		return err_setc(e, EXIT_USAGE, "image %s: --all is for prune", sub);
	if ((refresh || no_fallback) && strcmp(sub, "fetch") != 0)
		return err_setc(e, EXIT_USAGE,
		                "image %s: --refresh and --no-build-fallback are for "
		                "fetch",
		                sub);
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
		return image_list_cmd(e);
	if (strcmp(sub, "prune") == 0)
		return image_prune_cmd(cli, all, e);
	return err_setc(e, EXIT_USAGE,
	                "image: unknown subcommand \"%s\" (fetch, build, list, prune)", sub);
}
