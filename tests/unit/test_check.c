/*
 * test_check.c: the static half of `inception check` (checkstatic.h) on
 * exact inputs: Dockerfile logical lines, FROM with ARG substitution,
 * ENTRYPOINT/CMD in JSON and shell form, COPY sources, the PID-1 scan of
 * argv and scripts, compose files, the penultimate stable releases,
 * variable expansion and credential lines; and the check table's shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "checkstatic.h"
#include "report.h"
#include "util.h"

/* The findings as "line:msg|line:msg" for exact comparisons. */
static char *flat(const struct ck_findings *f)
{
	static char buf[4096];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < f->n; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%d:%s", i ? "|" : "",
		                         f->v[i].line, f->v[i].msg);
	return buf;
}

static void test_dockerfile_lines(void **state)
{
	struct dockerfile df;
	const char *text = "# syntax comment\n"
	                   "FROM debian:bookworm\n"
	                   "\n"
	                   "run apt-get update \\\n"
	                   "# a comment inside the continuation\n"
	                   "\n"
	                   " && apt-get install -y nginx   \\  \n"
	                   " && rm -rf /var/lib/apt/lists/*\n"
	                   "ENTRYPOINT [\"nginx\", \"-g\", \"daemon off;\"]\r\n"
	                   "CMD echo unfinished \\\n";

	(void)state;
	dockerfile_parse(text, &df);
	assert_int_equal(df.n, 4);
	assert_string_equal(df.v[0].kw, "FROM");
	assert_int_equal(df.v[0].line, 2);
	assert_string_equal(df.v[1].kw, "RUN");
	assert_int_equal(df.v[1].line, 4);
	assert_string_equal(
	    df.v[1].args,
	    "apt-get update  && apt-get install -y nginx    && rm -rf /var/lib/apt/lists/*");
	assert_string_equal(df.v[2].kw, "ENTRYPOINT");
	assert_int_equal(df.v[2].line, 9);
	assert_string_equal(df.v[2].args, "[\"nginx\", \"-g\", \"daemon off;\"]");
	assert_string_equal(df.v[3].kw, "CMD");
	assert_string_equal(df.v[3].args, "echo unfinished");
	dockerfile_free(&df);

	/* the escape directive changes the continuation character */
	dockerfile_parse("# escape=`\nFROM alpine:3.22\nRUN a `\n  b\\\nCMD x\n", &df);
	assert_int_equal(df.n, 3);
	assert_string_equal(df.v[1].args, "a   b\\");
	assert_string_equal(df.v[2].kw, "CMD");
	dockerfile_free(&df);
}

static void test_froms_args(void **state)
{
	struct dockerfile df;
	struct df_from *fr;
	size_t n;

	(void)state;
	dockerfile_parse("ARG DIST=debian\n"
	                 "ARG REL\n"
	                 "ARG TAG=${REL:-bookworm}\n"
	                 "FROM --platform=linux/amd64 ${DIST}:$TAG AS build\n"
	                 "ARG INNER=alpine\n"
	                 "FROM $INNER:3.22\n"
	                 "FROM build\n"
	                 "FROM debian:${REL}\n",
	                 &df);
	dockerfile_froms(&df, &fr, &n);
	assert_int_equal(n, 4);
	assert_string_equal(fr[0].image, "debian:bookworm");
	assert_string_equal(fr[0].stage, "build");
	assert_int_equal(fr[0].line, 4);
	assert_int_equal(fr[0].unknown, 0);
	/* an ARG after the first FROM is not in scope for FROM */
	assert_string_equal(fr[1].image, ":3.22");
	assert_int_equal(fr[1].unknown, 1);
	assert_string_equal(fr[2].image, "build");
	assert_null(fr[2].stage);
	assert_string_equal(fr[3].image, "debian:");
	assert_int_equal(fr[3].unknown, 1);
	df_froms_free(fr, n);
	dockerfile_free(&df);
}

static void test_cmdline(void **state)
{
	struct ck_argv a;

	(void)state;
	cmdline_parse("[\"nginx\", \"-g\", \"daemon off;\"]", &a);
	assert_int_equal(a.shell_form, 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[2], "daemon off;");
	assert_null(a.v[3]);
	ck_argv_free(&a);
	cmdline_parse(" [ \"sh\",\"-c\" , \"echo \\\"hi\\\" \\u0041\\\\\" ] ", &a);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[2], "echo \"hi\" A\\");
	ck_argv_free(&a);
	cmdline_parse("[]", &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.shell_form, 0);
	ck_argv_free(&a);
	/* not valid JSON: the shell form, as Docker does */
	cmdline_parse("['nginx', '-g']", &a);
	assert_int_equal(a.shell_form, 1);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[0], "/bin/sh");
	assert_string_equal(a.v[1], "-c");
	assert_string_equal(a.v[2], "['nginx', '-g']");
	ck_argv_free(&a);
	cmdline_parse("nginx -g 'daemon off;'", &a);
	assert_int_equal(a.shell_form, 1);
	assert_string_equal(a.v[2], "nginx -g 'daemon off;'");
	ck_argv_free(&a);
}

static void argv_findings(const char *args, const char *want)
{
	struct ck_argv a;
	struct ck_findings f = {0};

	cmdline_parse(args, &a);
	argv_scan("Dockerfile", 7, &a, &f);
	assert_string_equal(flat(&f), want);
	ck_findings_free(&f);
	ck_argv_free(&a);
}

static void test_argv_scan(void **state)
{
	(void)state;
	argv_findings("[\"bash\"]", "7:bare bash (runs no script)");
	argv_findings("[\"/bin/sh\", \"-x\"]", "7:bare sh (runs no script)");
	argv_findings("[\"sh\", \"/entrypoint.sh\"]", "");
	argv_findings("[\"tail\", \"-f\", \"/dev/null\"]", "7:tail -f keeps the container alive");
	argv_findings("[\"sleep\", \"infinity\"]", "7:sleep infinity");
	argv_findings("[\"nginx\", \"-g\", \"daemon off;\"]", "");
	argv_findings("nginx & bash", "7:runs a program in the background (&): nginx & bash|7:bare "
	                              "bash (runs no script): nginx & bash");
	argv_findings("[\"sh\", \"-c\", \"php-fpm -F\"]", "");
	argv_findings("tail -f /var/log/nginx/access.log",
	              "7:tail -f keeps the container alive: tail -f /var/log/nginx/access.log");
}

static void test_argv_script(void **state)
{
	struct ck_argv a;

	(void)state;
	cmdline_parse("[\"/usr/local/bin/entrypoint.sh\", \"mariadbd\"]", &a);
	assert_string_equal(argv_script(&a), "/usr/local/bin/entrypoint.sh");
	ck_argv_free(&a);
	cmdline_parse("[\"bash\", \"-e\", \"/setup.sh\"]", &a);
	assert_string_equal(argv_script(&a), "/setup.sh");
	ck_argv_free(&a);
	cmdline_parse("sh /setup.sh", &a); /* shell form: /bin/sh -c "..." */
	assert_null(argv_script(&a));
	ck_argv_free(&a);
}

static void test_script_scan(void **state)
{
	struct ck_findings f = {0};
	const char *script = "#!/bin/sh\n"                                   /* 1 */
	                     "set -eu\n"                                     /* 2 */
	                     "mysqld_safe --datadir=/var/lib/mysql &\n"      /* 3 */
	                     "cmd >/dev/null 2>&1 &\n"                       /* 4 */
	                     "a && b || c\n"                                 /* 5 */
	                     "echo \"a & b\" >&2 # trailing & comment\n"     /* 6 */
	                     "ls &>/dev/null; echo x |& cat\n"               /* 7 */
	                     "tail -F /var/log/x.log\n"                      /* 8 */
	                     "tail -n 5 file\n"                              /* 9 */
	                     "sleep infinity\n"                              /* 10 */
	                     "while :; do sleep 1; done\n"                   /* 11 */
	                     "while true\n"                                  /* 12 */
	                     "until false; do x; done\n"                     /* 13 */
	                     "for (( ; ; )); do x; done\n"                   /* 14 */
	                     "while [ \"$i\" -lt 3 ]; do i=$((i+1)); done\n" /* 15 */
	                     "exec bash\n"                                   /* 16 */
	                     "bash /init.sh\n"                               /* 17 */
	                     "if true; then sh -c 'x'; fi\n"                 /* 18 */
	                     "exec \"$@\"\n";                                /* 19 */

	(void)state;
	script_scan("e.sh", 1, script, &f);
	assert_string_equal(
	    flat(&f),
	    "3:runs a program in the background (&): mysqld_safe --datadir=/var/lib/mysql &|"
	    "4:runs a program in the background (&): cmd >/dev/null 2>&1 &|"
	    "8:tail -f keeps the container alive: tail -F /var/log/x.log|"
	    "10:sleep infinity: sleep infinity|"
	    "11:infinite loop: while :; do sleep 1; done|"
	    "12:infinite loop: while true|"
	    "13:infinite loop: until false; do x; done|"
	    "14:infinite loop: for (( ; ; )); do x; done|"
	    "16:bare bash (runs no script): exec bash");
	assert_string_equal(f.v[0].file, "e.sh");
	ck_findings_free(&f);
}

static void test_copy_source(void **state)
{
	char dir[] = "/tmp/inception-check-XXXXXX", p[512];
	struct dockerfile df;
	struct err e;
	char *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/tools", dir);
	assert_int_equal(mkdir_p(p, 0755, &e), 0);
	dockerfile_parse("FROM debian:bookworm\n"
	                 "COPY tools/ /usr/local/bin/\n"
	                 "COPY conf/a.conf conf/b.conf /etc/x/\n"
	                 "COPY --chown=1:1 start.sh /start\n"
	                 "WORKDIR /app\n"
	                 "COPY [\"run me.sh\", \"./run.sh\"]\n"
	                 "COPY --from=build /out/bin /usr/bin/app\n",
	                 &df);
	s = dockerfile_copy_source(&df, dir, "/usr/local/bin/entrypoint.sh");
	assert_string_equal(s, "tools/entrypoint.sh");
	free(s);
	s = dockerfile_copy_source(&df, dir, "/etc/x/b.conf");
	assert_string_equal(s, "conf/b.conf");
	free(s);
	s = dockerfile_copy_source(&df, dir, "/start");
	assert_string_equal(s, "start.sh");
	free(s);
	s = dockerfile_copy_source(&df, dir, "/app/./run.sh");
	assert_string_equal(s, "run me.sh");
	free(s);
	assert_null(dockerfile_copy_source(&df, dir, "/usr/bin/app"));
	assert_null(dockerfile_copy_source(&df, dir, "/nowhere"));
	dockerfile_free(&df);
	rmdir(p);
	rmdir(dir);
}

static void test_secrets_in_dockerfile(void **state)
{
	struct dockerfile df;
	struct ck_findings f = {0};

	(void)state;
	dockerfile_parse("FROM debian:bookworm\n"
	                 "ARG DB_PASSWORD=hunter2x\n"
	                 "ARG DEBIAN_FRONTEND=noninteractive\n"
	                 "ENV MYSQL_DATABASE=wp \\\n"
	                 "    MYSQL_ROOT_PASSWORD=\"s3cr3t-pw\"\n"
	                 "ENV WP_ADMIN_PWD letmein42\n"
	                 "ENV MYSQL_PASSWORD_FILE=/run/secrets/db_password\n"
	                 "ENV DB_PASS=${DB_PASS}\n"
	                 "ARG API_TOKEN\n",
	                 &df);
	dockerfile_scan_secrets(&df, "Dockerfile", &f);
	assert_string_equal(flat(&f), "2:ARG DB_PASSWORD holds a literal password|"
	                              "4:ENV MYSQL_ROOT_PASSWORD holds a literal password|"
	                              "6:ENV WP_ADMIN_PWD holds a literal password");
	ck_findings_free(&f);
	dockerfile_free(&df);
}

static void test_penultimate(void **state)
{
	const struct ck_release *st, *p;
	char why[256];

	(void)state;
	p = ck_penultimate("debian", "2026-12-02", &st);
	assert_string_equal(p->codename, "bookworm");
	assert_string_equal(st->codename, "trixie");
	p = ck_penultimate("debian", "2025-08-08", &st); /* the day before trixie */
	assert_string_equal(p->codename, "bullseye");
	assert_string_equal(st->codename, "bookworm");
	p = ck_penultimate("debian", "2025-08-09", &st);
	assert_string_equal(p->version, "12");
	p = ck_penultimate("alpine", "2026-12-02", &st);
	assert_string_equal(p->version, "3.22");
	assert_string_equal(st->version, "3.23");
	p = ck_penultimate("alpine", "2024-06-01", NULL);
	assert_string_equal(p->version, "3.19");
	assert_null(ck_penultimate("debian", "2017-07-01", NULL));
	assert_null(ck_penultimate("ubuntu", "2026-12-02", NULL));

	assert_int_equal(ck_image_is_penultimate("debian:bookworm", "2026-12-02", why, sizeof(why)),
	                 1);
	assert_string_equal(why,
	                    "penultimate stable debian on 2026-12-02 is 12 bookworm (stable 13 "
	                    "trixie; release table of 2026-12-01)");
	assert_int_equal(ck_image_is_penultimate("debian:12", "2026-12-02", why, sizeof(why)), 1);
	assert_int_equal(ck_image_is_penultimate("debian:12.8", "2026-12-02", why, sizeof(why)), 1);
	assert_int_equal(
	    ck_image_is_penultimate("debian:bookworm-slim", "2026-12-02", why, sizeof(why)), 1);
	assert_int_equal(ck_image_is_penultimate("docker.io/library/debian:bookworm", "2026-12-02",
	                                         why, sizeof(why)),
	                 1);
	assert_int_equal(ck_image_is_penultimate("debian:trixie", "2026-12-02", why, sizeof(why)),
	                 0);
	assert_int_equal(ck_image_is_penultimate("debian:bookworm", "2025-01-01", why, sizeof(why)),
	                 0);
	assert_int_equal(ck_image_is_penultimate("debian", "2026-12-02", why, sizeof(why)), 0);
	assert_int_equal(ck_image_is_penultimate("debian:120", "2026-12-02", why, sizeof(why)), 0);
	assert_int_equal(ck_image_is_penultimate("alpine:3.22.2", "2026-12-02", why, sizeof(why)),
	                 1);
	assert_int_equal(ck_image_is_penultimate("alpine:3.2", "2026-12-02", why, sizeof(why)), 0);
	assert_int_equal(ck_image_is_penultimate("alpine:3.23", "2026-12-02", why, sizeof(why)), 0);
	assert_int_equal(ck_image_is_penultimate("ubuntu:22.04", "2026-12-02", why, sizeof(why)),
	                 0);
	assert_string_equal(why, "ubuntu:22.04 is neither debian nor alpine");
}

static void test_image_names(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(ck_image_tag("nginx", b, sizeof(b)), "latest");
	assert_string_equal(ck_image_tag("localhost:5000/x/nginx:1.2", b, sizeof(b)), "1.2");
	assert_string_equal(ck_image_tag("localhost:5000/nginx", b, sizeof(b)), "latest");
	assert_null(ck_image_tag("debian@sha256:abc", b, sizeof(b)));
	ck_image_name("registry:5000/team/wordpress:inception", b, sizeof(b));
	assert_string_equal(b, "wordpress");
	ck_image_name("mariadb", b, sizeof(b));
	assert_string_equal(b, "mariadb");
	assert_string_equal(ck_mandatory_role("my_nginx"), "nginx");
	assert_string_equal(ck_mandatory_role("WordPress"), "wordpress");
	assert_string_equal(ck_mandatory_role("db"), "mariadb");
	assert_null(ck_mandatory_role("redis"));
	/* by content, for services named otherwise */
	assert_string_equal(ck_content_role("FROM debian:bookworm\nRUN apt-get update && \\\n"
	                                    "    apt-get install -y nginx openssl\n"),
	                    "nginx");
	assert_string_equal(ck_content_role("FROM debian:bookworm\nRUN apt-get install -y "
	                                    "php8.2-fpm php8.2-mysql curl\n"),
	                    "wordpress");
	assert_string_equal(ck_content_role("FROM alpine:3.22\nRUN apk add php83 php83-fpm\n"),
	                    "wordpress");
	assert_string_equal(ck_content_role("FROM debian:bookworm\nRUN apt-get install -y "
	                                    "mariadb-server\n"),
	                    "mariadb");
	/* php-mysql is WordPress's client, not a database server */
	assert_string_equal(ck_content_role("RUN apt-get install -y php-fpm php-mysql nginx\n"),
	                    "wordpress");
	/* a comment says nothing; neither does a Dockerfile without any of them */
	assert_null(ck_content_role("FROM debian:bookworm\n  # like nginx\nRUN true\n"));
	assert_null(ck_content_role("FROM redis:7\n"));
	assert_null(ck_content_role(""));
}

static void test_expand(void **state)
{
	struct ck_env env = {0};
	int unknown = 0;
	char *s;

	(void)state;
	ck_env_parse(&env, "# comment\nexport LOGIN=jdoe\nEMPTY=\nQ=\"a b\" \nH=x #c\nbad line\n");
	assert_string_equal(ck_env_get(&env, "LOGIN"), "jdoe");
	assert_string_equal(ck_env_get(&env, "Q"), "a b");
	assert_string_equal(ck_env_get(&env, "H"), "x");
	assert_string_equal(ck_env_get(&env, "EMPTY"), "");
	assert_null(ck_env_get(&env, "bad line"));
	s = ck_expand("/home/${LOGIN}/data/$LOGIN", &env, 1, &unknown);
	assert_string_equal(s, "/home/jdoe/data/jdoe");
	assert_int_equal(unknown, 0);
	free(s);
	s = ck_expand("${EMPTY:-d1} ${EMPTY-d2} ${NOPE:-${LOGIN}} ${LOGIN:+set} ${NOPE:+x}$$", &env,
	              1, &unknown);
	assert_string_equal(s, "d1  jdoe set $");
	assert_int_equal(unknown, 0);
	free(s);
	s = ck_expand("${DATA_DIR:?DATA_DIR is not set, run make}/mariadb", &env, 1, &unknown);
	assert_string_equal(s, "/mariadb");
	assert_int_equal(unknown, 1);
	free(s);
	unknown = 0;
	s = ck_expand("$$HOME ${unterminated", &env, 0, &unknown);
	assert_string_equal(s, "$ ${unterminated");
	assert_int_equal(unknown, 1); /* $HOME after a literal $ */
	free(s);
	ck_env_free(&env);
}

static const char COMPOSE[] =
    "services:\n"                                                                  /* 1 */
    "  nginx:\n"                                                                   /* 2 */
    "    build: requirements/nginx\n"                                              /* 3 */
    "    image: nginx:${TAG:-inception}\n"                                         /* 4 */
    "    ports:\n"                                                                 /* 5 */
    "      - \"${PORT}:443\"\n"                                                    /* 6 */
    "      - 127.0.0.1:8080:80/tcp\n"                                              /* 7 */
    "      - target: 9000\n"                                                       /* 8 */
    "        published: 9000\n"                                                    /* 9 */
    "    networks: [front]\n"                                                      /* 10 */
    "  wordpress:\n"                                                               /* 11 */
    "    build:\n"                                                                 /* 12 */
    "      context: requirements/wordpress\n"                                      /* 13 */
    "      dockerfile: wp.Dockerfile\n"                                            /* 14 */
    "      network: host\n"                                                        /* 15 */
    "    links: [mariadb]\n"                                                       /* 16 */
    "    volumes:\n"                                                               /* 17 */
    "      - wp:/var/www/html\n"                                                   /* 18 */
    "      - ./conf:/etc/conf:ro\n"                                                /* 19 */
    "      - type: volume\n"                                                       /* 20 */
    "        source: extra\n"                                                      /* 21 */
    "        target: /x\n"                                                         /* 22 */
    "  mariadb:\n"                                                                 /* 23 */
    "    image: mariadb:10\n"                                                      /* 24 */
    "    network_mode: host\n"                                                     /* 25 */
    "networks:\n"                                                                  /* 26 */
    "  front: {}\n"                                                                /* 27 */
    "volumes:\n"                                                                   /* 28 */
    "  wp:\n"                                                                      /* 29 */
    "    driver_opts: {type: none, o: bind, device: \"/home/${LOGIN}/data/wp\"}\n" /* 30 */
    "  extra:\n"                                                                   /* 31 */
    "    driver_opts:\n"                                                           /* 32 */
    "      device: ${DATA_DIR}/extra\n";                                           /* 33 */

static void test_compose(void **state)
{
	struct ck_env env = {0};
	struct compose c;
	struct err e = {.msg = ""};
	const struct cs_service *s;

	(void)state;
	ck_env_set(&env, "LOGIN", "jdoe");
	ck_env_set(&env, "PORT", "8443");
	assert_int_equal(compose_parse("dc.yml", COMPOSE, &env, &c, &e), 0);
	assert_int_equal(c.nsvc, 3);
	s = compose_service(&c, "nginx");
	assert_string_equal(s->image, "nginx:inception");
	assert_int_equal(s->image_line, 4);
	assert_string_equal(s->build_ctx, "requirements/nginx");
	assert_string_equal(s->dockerfile, "Dockerfile");
	assert_int_equal(s->nports, 3);
	assert_string_equal(s->ports[0].spec, "8443:443");
	assert_int_equal(s->ports[0].target, 443);
	assert_int_equal(s->ports[1].target, 80);
	assert_int_equal(s->ports[1].line, 7);
	assert_string_equal(s->ports[2].spec, "9000:9000");
	assert_int_equal(s->ports[2].target, 9000);
	assert_int_equal(s->has_networks, 1);
	s = compose_service(&c, "wordpress");
	assert_string_equal(s->build_ctx, "requirements/wordpress");
	assert_string_equal(s->dockerfile, "wp.Dockerfile");
	assert_int_equal(s->has_networks, 0);
	assert_int_equal(s->nvolumes, 3);
	assert_string_equal(s->volumes[0], "wp");
	assert_string_equal(s->volumes[1], "./conf");
	assert_string_equal(s->volumes[2], "extra");
	s = compose_service(&c, "mariadb");
	assert_null(s->build_ctx);
	assert_int_equal(c.networks_line, 26);
	assert_int_equal(c.nvol, 2);
	assert_string_equal(c.vol[0].device, "/home/jdoe/data/wp");
	assert_int_equal(c.vol[0].device_unknown, 0);
	assert_string_equal(c.vol[1].device, "/extra");
	assert_int_equal(c.vol[1].device_unknown, 1);
	assert_string_equal(flat(&c.forbidden), "15:network: host|16:links:|25:network_mode: host");
	compose_free(&c);

	assert_int_equal(compose_parse("bad.yml", "services:\n  a: [\n", &env, &c, &e), -1);
	assert_non_null(strstr(e.msg, "bad.yml:3:1: "));
	assert_int_equal(compose_parse("x.yml", "version: '3'\n", &env, &c, &e), -1);
	assert_string_equal(e.msg, "x.yml:1: no services: mapping");
	ck_env_free(&env);
}

static void test_credentials(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(cred_line("MYSQL_ROOT_PASSWORD=hunter22", why, sizeof(why)), 1);
	assert_string_equal(why, "MYSQL_ROOT_PASSWORD has a literal value");
	assert_int_equal(cred_line("  - DB_PASS: 'p4ssw0rd!'", why, sizeof(why)), 1);
	assert_int_equal(cred_line("export WP_USER_PWD=\"abcd1234\"", why, sizeof(why)), 1);
	assert_int_equal(cred_line("db_password := s3cretvalue", why, sizeof(why)), 1);
	assert_int_equal(
	    cred_line("CREATE USER 'wp'@'%' IDENTIFIED BY 'wp-pass';", why, sizeof(why)), 1);
	assert_string_equal(why, "IDENTIFIED BY with a literal password");
	assert_int_equal(cred_line("-----BEGIN OPENSSH PRIVATE KEY-----", why, sizeof(why)), 1);
	/* not credentials */
	assert_int_equal(
	    cred_line("MYSQL_PASSWORD_FILE: /run/secrets/db_password", why, sizeof(why)), 0);
	assert_int_equal(cred_line("MYSQL_PASSWORD=${MYSQL_PASSWORD}", why, sizeof(why)), 0);
	assert_int_equal(cred_line("DB_PASSWORD=$(cat /run/secrets/x)", why, sizeof(why)), 0);
	assert_int_equal(cred_line("'DB_PASSWORD' => secret('db_password'),", why, sizeof(why)), 0);
	assert_int_equal(cred_line("T_PASS=0", why, sizeof(why)), 0);
	assert_int_equal(cred_line("PASSWORD_LENGTH=32", why, sizeof(why)), 0);
	assert_int_equal(
	    cred_line("SECRET_NAMES := db_password db_root_password", why, sizeof(why)), 0);
	assert_int_equal(cred_line("WP_ADMIN_PASSWORD=__PW__", why, sizeof(why)), 0);
	assert_int_equal(cred_line("IDENTIFIED BY '${DB_PASS}'", why, sizeof(why)), 0);
	assert_int_equal(cred_line("grep -E 'pass|identified by' \\", why, sizeof(why)), 0);
	assert_int_equal(cred_line("passwd_chroot_enable=YES", why, sizeof(why)), 0);
	assert_int_equal(cred_path("srcs/.env"), 1);
	assert_int_equal(cred_path("prod.env"), 1);
	assert_int_equal(cred_path("secrets/db_password.txt"), 1);
	assert_int_equal(cred_path("srcs/requirements/nginx/tools/server.key"), 1);
	assert_int_equal(cred_path("srcs/.env.example"), 0);
	assert_int_equal(cred_path("srcs/requirements/tools/secrets.sh"), 0);
}

static void test_findings_format(void **state)
{
	struct ck_findings f = {0};
	char buf[80];
	int i;

	(void)state;
	ck_add(&f, "a.sh", 3, "one");
	ck_add(&f, "Makefile", 0, "two");
	ck_add(&f, NULL, 0, "three");
	ck_findings_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "a.sh:3: one; Makefile: two; three");
	for (i = 0; i < 10; i++)
		ck_add(&f, "some/long/path/file.sh", i + 10, "a finding with words");
	ck_findings_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "a.sh:3: one; Makefile: two; three (+10 more)");
	ck_findings_free(&f);
}

/* The subprocess helper check.c uses for docker and git: stdout and
 * stderr together, the exit status kept, a hung program killed. */
static void test_run_output(void **state)
{
	char *const ok[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	char *const big[] = {"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x", NULL};
	char *const hang[] = {"sleep", "5", NULL};
	char *const none[] = {"/nonexistent/prog", NULL};
	struct err e = {.msg = ""};
	char *out = NULL;
	int st = 0;

	(void)state;
	assert_int_equal(run_argv_output(ok, 5000, 1024, &out, &st, &e), 0);
	assert_int_equal(st, 3);
	assert_string_equal(out, "out\nerr\n");
	free(out);
	assert_int_equal(run_argv_output(big, 5000, 10, &out, &st, &e), 0);
	assert_int_equal(st, 0);
	assert_string_equal(out, "xxxxxxxxxx");
	free(out);
	assert_int_equal(run_argv_output(hang, 200, 1024, &out, &st, &e), 0);
	assert_int_equal(st, -1);
	free(out);
	assert_int_equal(run_argv_output(none, 2000, 1024, &out, &st, &e), 0);
	assert_int_equal(st, 127);
	assert_non_null(strstr(out, "exec /nonexistent/prog"));
	free(out);
}

/* The reporter's rows: JSON through the string encoder (quotes, control
 * characters), human mode with control characters blanked. */
static void test_report_rows(void **state)
{
	char path[] = "/tmp/inception-check-out-XXXXXX", *text = NULL;
	struct err e = {.msg = ""};
	size_t len;
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	report_init(REPORT_JSON, 0);
	report_check_row("nginx", "a \"point\"", "FAIL", 1, "line1\nline2\t\x01");
	report_check_summary(1, 2, 3, 4);
	report_init(REPORT_HUMAN, 0);
	report_check_row("nginx", "p", "PASS", 0, "a\nb\033[2Jc");
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(read_file(path, &text, &len, &e), 0);
	assert_string_equal(
	    text,
	    "{\"type\":\"check\",\"section\":\"nginx\",\"point\":\"a \\\"point\\\"\","
	    "\"state\":\"FAIL\",\"ends_evaluation\":true,"
	    "\"evidence\":\"line1\\nline2\\t\\u0001\"}\n"
	    "{\"type\":\"check-summary\",\"pass\":1,\"fail\":2,\"manual\":3,\"skip\":4}\n"
	    "nginx\n"
	    /* escaped by report_sanitize, the one path for shown text */
	    "  p                                              PASS        a\\x0ab\\x1b[2Jc\n");
	free(text);
	unlink(path);
}

/* The runtime text the bonus points read: docker inspect's published
 * ports, redis INFO fields, the bonus roles of service names. */
static void test_runtime_text(void **state)
{
	struct ck_port p[4];
	size_t n;

	(void)state;
	n = ck_published_ports("8080/tcp=127.0.0.1:29080, 8081/tcp=127.0.0.1:29081, ", p, 4);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].ctr, 8080);
	assert_int_equal(p[0].host, 29080);
	assert_int_equal(p[1].ctr, 8081);
	assert_int_equal(p[1].host, 29081);
	/* IPv4 and IPv6 bindings of one port: the first; udp and junk skipped */
	n = ck_published_ports("443/tcp=0.0.0.0:8443,:::8443, 53/udp=0.0.0.0:53, x=1:2, "
	                       "21/tcp=:::2121, ",
	                       p, 4);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].host, 8443);
	assert_int_equal(p[1].ctr, 21);
	assert_int_equal(p[1].host, 2121);
	assert_int_equal(ck_published_ports("", p, 4), 0);
	assert_int_equal(ck_published_ports("80/tcp=0.0.0.0:, ", p, 4), 0);
	/* at most max */
	assert_int_equal(ck_published_ports("1/tcp=a:1, 2/tcp=a:2, 3/tcp=a:3, ", p, 2), 2);

	assert_int_equal(
	    ck_info_field("# Stats\r\nkeyspace_hits:120\r\nkeyspace_misses:7\r\n", "keyspace_hits"),
	    120);
	assert_int_equal(ck_info_field("keyspace_misses:7\r\n", "keyspace_hits"), -1);
	assert_int_equal(ck_info_field("keyspace_hits_x:5\nkeyspace_hits:\n", "keyspace_hits"), -1);
	assert_int_equal(ck_info_field("a:1\nkeyspace_hits:0\n", "keyspace_hits"), 0);

	assert_string_equal(ck_bonus_role("redis"), "redis");
	assert_string_equal(ck_bonus_role("Redis-Cache"), "redis");
	assert_string_equal(ck_bonus_role("ftp"), "ftp");
	assert_string_equal(ck_bonus_role("vsftpd"), "ftp");
	assert_string_equal(ck_bonus_role("adminer"), "adminer");
	assert_string_equal(ck_bonus_role("website"), "site");
	assert_string_equal(ck_bonus_role("static-site"), "site");
	assert_null(ck_bonus_role("backup"));
	assert_null(ck_bonus_role("nginx"));
	assert_null(ck_bonus_role("wordpress"));
}

static void test_table_and_markdown(void **state)
{
	const struct check_point *p = check_points();
	struct check_row rows[2];
	struct check_opts o;
	struct err e = {.msg = ""};
	char *md;
	size_t n = 0;
	int statics = 0;

	(void)state;
	for (; p[n].point; n++) {
		assert_non_null(p[n].fn);
		assert_true(strlen(p[n].point) <= 46); /* the human table's column */
		statics += (p[n].flags & CKP_STATIC) != 0;
	}
	assert_true(n >= 40);
	assert_true(statics >= 20);
	/* the evaluator's flow first (cleanup, make), then the sheet */
	assert_string_equal(p[0].section, "evaluate");
	assert_true((p[0].flags & CKP_EVALUATE) && (p[1].flags & CKP_EVALUATE));
	assert_string_equal(p[2].section, "preliminaries");
	assert_int_equal(check_sections_valid("nginx,restart", &e), 0);
	assert_int_equal(check_sections_valid("nginx,nope", &e), -1);
	assert_non_null(strstr(e.msg, "no section \"nope\""));

	memset(&o, 0, sizeof(o));
	o.dir = "/p";
	memset(rows, 0, sizeof(rows));
	rows[0].pt = &p[2];
	rows[0].state = CK_FAIL;
	snprintf(rows[0].evidence, sizeof(rows[0].evidence), "a|b\nc");
	rows[1].pt = &p[3];
	rows[1].state = CK_PASS;
	md = check_markdown(&o, rows, 2);
	assert_non_null(strstr(md, "1 PASS, 1 FAIL, 0 MANUAL, 0 SKIP"));
	assert_non_null(strstr(
	    md,
	    "| preliminaries | no credentials in tracked files | **FAIL** | yes | a\\|b c |\n"));
	assert_non_null(strstr(md, "| Section | Point | Result | Ends | Evidence |\n|---|"));
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dockerfile_lines), cmocka_unit_test(test_froms_args),
	    cmocka_unit_test(test_cmdline),          cmocka_unit_test(test_argv_scan),
	    cmocka_unit_test(test_argv_script),      cmocka_unit_test(test_script_scan),
	    cmocka_unit_test(test_copy_source),      cmocka_unit_test(test_secrets_in_dockerfile),
	    cmocka_unit_test(test_penultimate),      cmocka_unit_test(test_image_names),
	    cmocka_unit_test(test_expand),           cmocka_unit_test(test_compose),
	    cmocka_unit_test(test_credentials),      cmocka_unit_test(test_findings_format),
	    cmocka_unit_test(test_run_output),       cmocka_unit_test(test_report_rows),
	    cmocka_unit_test(test_runtime_text),     cmocka_unit_test(test_table_and_markdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
