/*
 * test_stack.c: the agent's settings (agent.conf) the host writes for a
 * project, exactly as CONTRACT-12 has them: domain, compose, services,
 * bases (each image once, first place kept), data_dirs, meta.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stack.h"

static char *conf_of(const char *dir, struct config *c, struct err *e)
{
	struct project_req r = {0};
	struct project p;
	struct project_inputs in;
	struct project_info info;
	struct project_base *bases = NULL;
	size_t nbases = 0;
	char *out = NULL;

	r.spec = dir;
	assert_int_equal(project_resolve(&r, &p, e), 0);
	assert_int_equal(project_inputs(&p, &in, e), 0);
	assert_int_equal(project_compose_info(&p, &in, NULL, &info, e), 0);
	assert_int_equal(project_bases(&p, &bases, &nbases, e), 0);
	if (stack_agent_conf(c, &p, &info, bases, nbases, "/home/jdoe/inception",
	                     "/home/jdoe/.local/share/inception", &out, e) < 0)
		out = NULL;
	project_bases_free(bases, nbases);
	project_info_free(&info);
	project_inputs_free(&in);
	return out;
}

static void test_conf_fixture_a(void **state)
{
	struct config c;
	struct err e = {.msg = ""};
	char *t;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.login = (char *)"jdoe";
	c.docker_source = DOCKER_DEBIAN;
	c.apt_mirror = (char *)"http://deb.debian.org/debian";
	t = conf_of("tests/projects/a-secrets", &c, &e);
	assert_non_null(t);
	assert_string_equal(t, "# Written by inception (the provisioner) for its guest agent.\n"
	                       "login=jdoe\n"
	                       "tree=/home/jdoe/inception\n"
	                       "meta=/home/jdoe/.local/share/inception\n"
	                       "docker_source=debian\n"
	                       "apt_mirror=http://deb.debian.org/debian\n"
	                       "domain=jdoe.42.fr\n"
	                       "compose=srcs/compose.yaml\n"
	                       "services=db,php,web\n"
	                       "bases=debian:bookworm|srcs/requirements/db/Dockerfile:1\n"
	                       "data_dirs=/home/jdoe/data/mariadb:/home/jdoe/data/wordpress\n");
	free(t);
}

/* c: its DOMAIN_NAME; alpine:3.20 named once, at its first Dockerfile
 * line; no bind directory; a newline in a setting refused */
static void test_conf_fixture_c(void **state)
{
	struct config c;
	struct err e = {.msg = ""};
	char *t;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.login = (char *)"jdoe";
	c.docker_source = DOCKER_DEBIAN;
	t = conf_of("tests/projects/c-alpine", &c, &e);
	assert_non_null(t);
	assert_string_equal(t, "# Written by inception (the provisioner) for its guest agent.\n"
	                       "login=jdoe\n"
	                       "tree=/home/jdoe/inception\n"
	                       "meta=/home/jdoe/.local/share/inception\n"
	                       "docker_source=debian\n"
	                       "domain=ghost.42.fr\n"
	                       "compose=srcs/docker-compose.yml\n"
	                       "services=nginx,wordpress,mariadb\n"
	                       "bases=alpine:3.20|srcs/requirements/nginx/Dockerfile:1\n"
	                       "data_dirs=\n");
	free(t);
	c.apt_proxy = (char *)"http://proxy\nlogin=root";
	assert_null(conf_of("tests/projects/c-alpine", &c, &e));
	assert_string_equal(e.msg, "the agent setting apt_proxy contains a newline");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_fixture_a),
	    cmocka_unit_test(test_conf_fixture_c),
	};

	return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
