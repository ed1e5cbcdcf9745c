/*
 * agent_test_settings.c: the agent's settings for any project: bases
 * (IMAGE|FILE:LINE, space-separated), data_dirs (absolute, colon-separated),
 * services, compose and meta; the errors with their exact messages, in a
 * settings file with its line; no default names a container, path or image
 * of the bundled stack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings.h"

static void test_bases_parsed(void **state)
{
	struct settings s;
	struct err e = {"", 0};
	struct base_ref b;
	const char *p;

	(void)state;
	settings_defaults(&s);
	assert_int_equal(
	    settings_set(&s,
	                 "bases=debian:bookworm|srcs/requirements/db/Dockerfile:1  "
	                 "docker.io/library/debian:trixie-slim|srcs/x/Dockerfile.wp:12",
	                 &e),
	    0);
	p = s.bases;
	assert_int_equal(settings_next_base(&p, &b, &e), 1);
	assert_string_equal(b.image, "debian:bookworm");
	assert_string_equal(b.where, "srcs/requirements/db/Dockerfile:1");
	assert_int_equal(settings_next_base(&p, &b, &e), 1);
	assert_string_equal(b.image, "docker.io/library/debian:trixie-slim");
	assert_string_equal(b.where, "srcs/x/Dockerfile.wp:12");
	assert_int_equal(settings_next_base(&p, &b, &e), 0);
	/* empty: no base needed */
	assert_int_equal(settings_set(&s, "bases=", &e), 0);
	p = s.bases;
	assert_int_equal(settings_next_base(&p, &b, &e), 0);
}

static void bad(const char *kv, const char *want)
{
	struct settings s;
	struct err e = {"", 0};

	settings_defaults(&s);
	assert_int_equal(settings_set(&s, kv, &e), -1);
	assert_string_equal(e.msg, want);
}

static void test_bases_errors(void **state)
{
	(void)state;
	bad("bases=alpine:3.20", "setting bases: \"alpine:3.20\": expected IMAGE|FILE:LINE");
	bad("bases=debian:bookworm|srcs/Dockerfile:1 |srcs/Dockerfile:2",
	    "setting bases: \"|srcs/Dockerfile:2\": expected IMAGE|FILE:LINE");
	bad("bases=debian:bookworm|srcs/Dockerfile",
	    "setting bases: \"debian:bookworm|srcs/Dockerfile\": expected FILE:LINE after the |");
	bad("bases=debian:bookworm|srcs/Dockerfile:x1",
	    "setting bases: \"debian:bookworm|srcs/Dockerfile:x1\": expected FILE:LINE after the "
	    "|");
	bad("bases=debian:bookworm|srcs/Dockerfile:0",
	    "setting bases: \"debian:bookworm|srcs/Dockerfile:0\": expected FILE:LINE after the |");
	bad("bases=debian:bookworm|:3",
	    "setting bases: \"debian:bookworm|:3\": expected FILE:LINE after the |");
	bad("bases=deb$ian|srcs/Dockerfile:1",
	    "setting bases: \"deb$ian|srcs/Dockerfile:1\": invalid image name \"deb$ian\"");
	bad("bases=debian:bookworm|/etc/Dockerfile:1",
	    "setting bases: \"debian:bookworm|/etc/Dockerfile:1\": FILE must be a path relative "
	    "to the tree (no \".\" or \"..\")");
	bad("bases=debian:bookworm|srcs/../../Dockerfile:1",
	    "setting bases: \"debian:bookworm|srcs/../../Dockerfile:1\": FILE must be a path "
	    "relative to the tree (no \".\" or \"..\")");
}

static void test_data_dirs(void **state)
{
	struct settings s;
	struct err e = {"", 0};
	char dir[SET_STR];
	const char *p;

	(void)state;
	settings_defaults(&s);
	assert_int_equal(settings_set(&s, "data_dirs=/home/jdoe/data/db:/srv/wp data", &e), 0);
	p = s.data_dirs;
	assert_int_equal(settings_next_dir(&p, dir, sizeof(dir), &e), 1);
	assert_string_equal(dir, "/home/jdoe/data/db");
	assert_int_equal(settings_next_dir(&p, dir, sizeof(dir), &e), 1);
	assert_string_equal(dir, "/srv/wp data");
	assert_int_equal(settings_next_dir(&p, dir, sizeof(dir), &e), 0);
	assert_int_equal(settings_set(&s, "data_dirs=", &e), 0);
	bad("data_dirs=data/db", "setting data_dirs: \"data/db\" is not an absolute path");
	bad("data_dirs=/a::/b",
	    "setting data_dirs: an empty entry (two colons, or a colon at an end)");
	bad("data_dirs=/a:",
	    "setting data_dirs: an empty entry (two colons, or a colon at an end)");
	bad("data_dirs=:/a",
	    "setting data_dirs: an empty entry (two colons, or a colon at an end)");
	bad("data_dirs=/home/x/../../etc",
	    "setting data_dirs: \"/home/x/../../etc\": \".\", \"..\" and \"//\" are not allowed");
	bad("data_dirs=/home//x", "setting data_dirs: \"/home//x\": \".\", \"..\" and \"//\" are "
	                          "not allowed");
}

static void test_services_compose(void **state)
{
	struct settings s;
	struct err e = {"", 0};

	(void)state;
	settings_defaults(&s);
	assert_int_equal(settings_set(&s, "services=db,php,web_1,my.svc-2", &e), 0);
	assert_string_equal(s.services, "db,php,web_1,my.svc-2");
	bad("services=db,,web", "setting services: invalid service name \"\"");
	bad("services=db,", "setting services: invalid service name \"\"");
	bad("services=db,we b", "setting services: invalid service name \"we b\"");
	bad("services=-x", "setting services: invalid service name \"-x\"");
	assert_int_equal(settings_set(&s, "compose=srcs/compose.yaml", &e), 0);
	bad("compose=/srcs/compose.yaml",
	    "setting compose: \"/srcs/compose.yaml\" must be a path relative to the tree");
	bad("compose=../x.yml",
	    "setting compose: \"../x.yml\" must be a path relative to the tree");
	/* removed keys of the bundled stack */
	bad("cert_container=nginx", "unknown setting \"cert_container\"");
	bad("stack_containers=nginx", "unknown setting \"stack_containers\"");
	bad("cert_path=/etc/nginx/ssl/inception.crt", "unknown setting \"cert_path\"");
}

static void test_file_line_and_defaults(void **state)
{
	char dir[] = "/tmp/agent-settings.XXXXXX", conf[64], tree[128], path[192];
	struct settings s;
	struct err e = {"", 0};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "# comment\nlogin=jdoe\nbases=debian:bookworm|srcs/Dockerfile:1\n"
	           "data_dirs=relative\n");
	fclose(f);
	settings_defaults(&s);
	assert_int_equal(settings_load(&s, conf, 1, &e), -1);
	snprintf(path, sizeof(path),
	         "%s:4: setting data_dirs: \"relative\" is not an absolute path", conf);
	assert_string_equal(e.msg, path);

	/* defaults: meta is the settings file's directory; compose the
	 * project's own file; nothing of the bundled stack */
	f = fopen(conf, "w");
	assert_non_null(f);
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	fprintf(f, "login=jdoe\ntree=%s\n", tree);
	fclose(f);
	snprintf(path, sizeof(path), "%s/srcs", tree);
	assert_int_equal(mkdir(tree, 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/srcs/compose.yaml", tree);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	settings_defaults(&s);
	assert_int_equal(settings_load(&s, conf, 1, &e), 0);
	assert_int_equal(settings_finish(&s, &e), 0);
	assert_string_equal(s.meta, dir);
	assert_string_equal(s.compose, "srcs/compose.yaml");
	assert_string_equal(s.domain, "jdoe.42.fr");
	assert_string_equal(s.services, "");
	assert_string_equal(s.bases, "");
	assert_string_equal(s.data_dirs, "");
	assert_string_equal(s.cert_file, "");
	assert_int_equal(s.pull_timeout, 30);
	unlink(path);
	snprintf(path, sizeof(path), "%s/srcs", tree);
	rmdir(path);
	rmdir(tree);
	unlink(conf);
	rmdir(dir);

	/* no file: meta is where the file would have been */
	settings_defaults(&s);
	assert_int_equal(settings_load(&s, "/nonexistent-dir/agent.conf", 0, &e), 0);
	assert_int_equal(settings_set(&s, "login=jdoe", &e), 0);
	assert_int_equal(settings_finish(&s, &e), 0);
	assert_string_equal(s.meta, "/nonexistent-dir");
	assert_string_equal(s.compose, "srcs/docker-compose.yml");
}

/* The text the host writes for fixture a (provisioner: stack_agent_conf,
 * CONTRACT-12), read as it is. */
static void test_host_text(void **state)
{
	static const char text[] = "# Written by inception (the provisioner) for its guest agent.\n"
	                           "login=jdoe\n"
	                           "tree=/home/jdoe/inception\n"
	                           "meta=/home/jdoe/.local/share/inception\n"
	                           "docker_source=debian\n"
	                           "apt_mirror=http://deb.debian.org/debian\n"
	                           "domain=jdoe.42.fr\n"
	                           "compose=srcs/compose.yaml\n"
	                           "services=db,php,web\n"
	                           "bases=debian:bookworm|srcs/requirements/db/Dockerfile:1\n"
	                           "data_dirs=/home/jdoe/data/mariadb:/home/jdoe/data/wordpress\n";
	char path[] = "/tmp/agent-conf.XXXXXX";
	struct settings s;
	struct err e = {"", 0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	settings_defaults(&s);
	assert_int_equal(settings_load(&s, path, 1, &e), 0);
	assert_int_equal(settings_finish(&s, &e), 0);
	unlink(path);
	assert_string_equal(s.meta, "/home/jdoe/.local/share/inception");
	assert_string_equal(s.compose, "srcs/compose.yaml");
	assert_string_equal(s.services, "db,php,web");
	assert_string_equal(s.domain, "jdoe.42.fr");
	assert_string_equal(s.bases, "debian:bookworm|srcs/requirements/db/Dockerfile:1");
	assert_string_equal(s.data_dirs, "/home/jdoe/data/mariadb:/home/jdoe/data/wordpress");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bases_parsed),
	    cmocka_unit_test(test_bases_errors),
	    cmocka_unit_test(test_data_dirs),
	    cmocka_unit_test(test_services_compose),
	    cmocka_unit_test(test_file_line_and_defaults),
	    cmocka_unit_test(test_host_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
