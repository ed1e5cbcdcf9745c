/*
 * test_seed.c: the cloud-init seed.  The real templates are rendered with
 * ordinary and hostile values (quotes, newlines, colons, '#', leading '!',
 * '&' and '*', "true", numbers) and parsed back with libyaml: every value
 * must come back as exactly the same string, in the right place.  Then a
 * real ISO is built with xorriso and read back.
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
#include <yaml.h>

#include "keys.h"
#include "seed.h"
#include "util.h"

static const char *const pkgs[] = {"make", "a: b", "#x", NULL};

/* --- a small YAML reader for the checks ------------------------------------ */

struct doc {
	yaml_document_t d;
	char *text;
};

static void doc_load(struct doc *doc, char *text, size_t len)
{
	yaml_parser_t p;

	doc->text = text;
	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc->d))
		fail_msg("rendered YAML does not parse: %s\n%s", p.problem, text);
	yaml_parser_delete(&p);
}

static void doc_free(struct doc *doc)
{
	yaml_document_delete(&doc->d);
	free(doc->text);
}

/* Node at a dotted path ("users.0.name"); NULL if absent. */
static yaml_node_t *at(struct doc *doc, const char *path)
{
	yaml_node_t *n = yaml_document_get_root_node(&doc->d);
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && n; tok = strtok_r(NULL, ".", &save)) {
		yaml_node_t *next = NULL;

		if (n->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *pr;
			for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
			     pr++) {
				yaml_node_t *k = yaml_document_get_node(&doc->d, pr->key);
				if (k->type == YAML_SCALAR_NODE &&
				    strcmp((char *)k->data.scalar.value, tok) == 0)
					next = yaml_document_get_node(&doc->d, pr->value);
			}
		} else if (n->type == YAML_SEQUENCE_NODE) {
			long i = strtol(tok, NULL, 10);
			yaml_node_item_t *it = n->data.sequence.items.start + i;
			if (it < n->data.sequence.items.top)
				next = yaml_document_get_node(&doc->d, *it);
		}
		n = next;
	}
	return n;
}

static const char *str_at(struct doc *doc, const char *path)
{
	yaml_node_t *n = at(doc, path);

	if (n == NULL || n->type != YAML_SCALAR_NODE) {
		fail_msg("no scalar at %s in:\n%s", path, doc->text);
		return "";
	}
	return (const char *)n->data.scalar.value;
}

/* A substituted value must be quoted or a block: plain "true" would be a bool. */
static void assert_string_value(struct doc *doc, const char *path, const char *want)
{
	yaml_node_t *n = at(doc, path);

	assert_non_null(n);
	assert_int_equal(n->type, YAML_SCALAR_NODE);
	assert_int_not_equal(n->data.scalar.style, YAML_PLAIN_SCALAR_STYLE);
	assert_int_equal(n->data.scalar.length, strlen(want));
	assert_memory_equal(n->data.scalar.value, want, strlen(want));
}

static char *template(const char *name, size_t *len)
{
	char rel[128], path[4096], *text = NULL;
	struct err e;

	snprintf(rel, sizeof(rel), "cloud-init/%s", name);
	if (data_path(rel, path, sizeof(path), &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(read_file(path, &text, len, &e), 0);
	return text;
}

static void render(const char *name, const struct seed_var *vars, size_t n, const char *header,
                   struct doc *doc)
{
	size_t tlen, olen;
	char *tmpl = template(name, &tlen), *out = NULL;
	struct err e;

	err_clear(&e);
	if (seed_render(tmpl, tlen, name, vars, n, header, &out, &olen, &e) < 0)
		fail_msg("render %s: %s", name, e.msg);
	free(tmpl);
	if (header)
		assert_memory_equal(out, header, strlen(header));
	doc_load(doc, out, olen);
}

#define PRIV                                                                                       \
	"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJD\n-----END OPENSSH "   \
	"PRIVATE KEY-----\n"

static void check_user_data(const char *login, const char *host, const char *mirror,
                            const char *proxy)
{
	const struct seed_var vars[] = {
	    {"hostname", host, NULL},
	    {"login", login, NULL},
	    {"user_public_key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK user@x", NULL},
	    {"host_private_key", PRIV, NULL},
	    {"host_public_key", "ssh-ed25519 AAAAhost inception-host", NULL},
	    {"apt_mirror", mirror, NULL},
	    {"apt_proxy", proxy, NULL},
	    {"packages", NULL, pkgs},
	    {"instance_id", "iid-1", NULL},
	};
	struct doc doc;

	render("user-data", vars, sizeof(vars) / sizeof(vars[0]), "#cloud-config\n", &doc);
	assert_string_value(&doc, "users.0.name", login);
	assert_string_value(&doc, "hostname", host);
	assert_string_value(&doc, "users.0.ssh_authorized_keys.0",
	                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK user@x");
	assert_string_value(&doc, "ssh_keys.ed25519_private", PRIV);
	assert_string_value(&doc, "ssh_keys.ed25519_public", "ssh-ed25519 AAAAhost inception-host");
	assert_string_value(&doc, "apt.primary.0.uri", mirror);
	if (proxy)
		assert_string_value(&doc, "apt.proxy", proxy);
	else
		assert_null(at(&doc, "apt.proxy")); /* unset: the key is left out */
	assert_string_value(&doc, "packages.0", "make");
	assert_string_value(&doc, "packages.1", "a: b");
	assert_string_value(&doc, "packages.2", "#x");
	assert_null(at(&doc, "packages.3"));
	/* the template's own settings */
	assert_string_equal(str_at(&doc, "users.0.sudo"), "ALL=(ALL) NOPASSWD:ALL");
	assert_string_equal(str_at(&doc, "ssh_pwauth"), "false");
	assert_string_equal(str_at(&doc, "disable_root"), "true");
	assert_string_equal(str_at(&doc, "manage_etc_hosts"), "false");
	assert_string_equal(str_at(&doc, "users.0.lock_passwd"), "true");
	assert_null(at(&doc, "ssh_genkeytypes")); /* cloud-init's schema rejects [] */
	assert_string_equal(str_at(&doc, "ssh_deletekeys"), "true");
	doc_free(&doc);
}

static void test_user_data_plain_values(void **state)
{
	(void)state;
	check_user_data("jdoe", "inception", "http://deb.debian.org/debian", NULL);
	check_user_data("jdoe", "inception", "http://deb.debian.org/debian",
	                "http://127.0.0.1:3142");
}

static void test_user_data_hostile_values(void **state)
{
	(void)state;
	check_user_data("a\"b'c: d # e", "host\nname: x", "!tag &anchor *alias", "#not a comment");
	check_user_data("true", "123", "null", "~");
	check_user_data("- item", "{flow: map}", "[x, y]", "|\n  block");
	check_user_data("  leading and trailing  ", "tab\there", "é ü 日本", "\\back\\slash\\");
	check_user_data("line1\nline2\n", "%percent", "@at `tick`", "key: value\n- x\n");
}

static void test_meta_data_and_network(void **state)
{
	const struct seed_var vars[] = {
	    {"hostname", "vm: 1", NULL},
	    {"instance_id", "iid-inception-0123", NULL},
	};
	struct doc doc;

	(void)state;
	render("meta-data", vars, 2, NULL, &doc);
	assert_string_value(&doc, "instance-id", "iid-inception-0123");
	assert_string_value(&doc, "local-hostname", "vm: 1");
	doc_free(&doc);
	render("network-config", NULL, 0, NULL, &doc);
	assert_string_equal(str_at(&doc, "version"), "2");
	assert_string_equal(str_at(&doc, "ethernets.en.match.name"), "en*");
	assert_string_equal(str_at(&doc, "ethernets.eth.match.name"), "eth*");
	assert_string_equal(str_at(&doc, "ethernets.en.dhcp4"), "true");
	doc_free(&doc);
}

static void test_render_errors(void **state)
{
	const struct seed_var vars[] = {{"a", "x", NULL}, {"unset", NULL, NULL}};
	char *out = NULL;
	struct err e;
	const char *t1 = "k: ${nope}\n", *t2 = "k: [unclosed\n", *t3 = "${unset}\n";
	const char *t4 =
	    "keep: ${a}\ndrop: ${unset}\nlist:\n  - ${unset}\n  - ${a}\nquoted: \"${a}\"\n";
	size_t len;

	(void)state;
	assert_int_equal(seed_render(t1, strlen(t1), "t1", vars, 2, NULL, &out, &len, &e), -1);
	assert_non_null(strstr(e.msg, "unknown placeholder ${nope}"));
	assert_int_equal(seed_render(t2, strlen(t2), "t2", vars, 2, NULL, &out, &len, &e), -1);
	assert_non_null(strstr(e.msg, "t2:"));
	assert_int_equal(seed_render(t3, strlen(t3), "t3", vars, 2, NULL, &out, &len, &e), -1);
	assert_non_null(strstr(e.msg, "has no value"));
	assert_int_equal(seed_render(t4, strlen(t4), "t4", vars, 2, NULL, &out, &len, &e), 0);
	{
		struct doc doc;

		doc_load(&doc, out, len);
		assert_string_value(&doc, "keep", "x");
		assert_null(at(&doc, "drop"));
		assert_string_value(&doc, "list.0", "x");
		assert_null(at(&doc, "list.1"));
		/* a quoted "${a}" in a template is text, not a placeholder */
		assert_string_equal(str_at(&doc, "quoted"), "${a}");
		doc_free(&doc);
	}
}

/* --- the real ISO ------------------------------------------------------------ */

static char *iso_file(const char *iso, const char *dir, const char *name)
{
	char out[512], src[64];
	char *text = NULL;
	struct err e;

	snprintf(out, sizeof(out), "%s/x-%s", dir, name);
	snprintf(src, sizeof(src), "/%s", name);
	unlink(out);
	{
		char *const argv[] = {"xorriso",  "-osirrox", "on", "-indev", (char *)iso,
		                      "-extract", src,        out,  NULL};
		if (run_argv(argv, NULL, &e) < 0)
			fail_msg("extract %s: %s", name, e.msg);
	}
	assert_int_equal(read_file(out, &text, NULL, &e), 0);
	unlink(out);
	return text;
}

static void test_seed_iso(void **state)
{
	char dir[] = "/tmp/test_seed.XXXXXX", iso[256], path[256];
	char login[] = "jdoe", name[] = "inception-t", mirror[] = "http://deb.debian.org/debian";
	char vol[33];
	struct config c;
	struct err e;
	struct stat st;
	FILE *f;
	char *ud, *pub, *md1, *md2;
	struct doc doc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keys_ensure(dir, &e), 0);
	memset(&c, 0, sizeof(c));
	c.login = login;
	c.vm_name = name;
	c.apt_mirror = mirror;
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	err_clear(&e);
	if (seed_build(&c, dir, iso, 1, &e) < 0)
		fail_msg("seed_build: %s", e.msg);
	assert_int_equal(stat(iso, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* ISO 9660 primary volume descriptor: volume id at 32768 + 40 */
	f = fopen(iso, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 32768 + 40, SEEK_SET), 0);
	assert_int_equal(fread(vol, 1, 32, f), 32);
	fclose(f);
	vol[32] = '\0';
	assert_memory_equal(vol, "cidata ", 7); /* the label cloud-init's NoCloud looks for */
	ud = iso_file(iso, dir, "user-data");
	assert_memory_equal(ud, "#cloud-config\n", 14);
	doc_load(&doc, ud, strlen(ud));
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_USER_PUB);
	assert_int_equal(read_file(path, &pub, NULL, &e), 0);
	pub[strcspn(pub, "\n")] = '\0';
	assert_string_equal(str_at(&doc, "users.0.ssh_authorized_keys.0"), pub);
	assert_string_equal(str_at(&doc, "users.0.name"), "jdoe");
	assert_string_equal(str_at(&doc, "hostname"), "inception-t");
	free(pub);
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_HOST);
	assert_int_equal(read_file(path, &pub, NULL, &e), 0);
	assert_string_equal(str_at(&doc, "ssh_keys.ed25519_private"), pub);
	free(pub);
	/* a downloaded image gets the agent's packages from cloud-init */
	assert_string_equal(str_at(&doc, "packages.0"), "make");
	doc_free(&doc);
	md1 = iso_file(iso, dir, "network-config");
	assert_non_null(strstr(md1, "dhcp4"));
	free(md1);
	/* a new instance-id on every build */
	md1 = iso_file(iso, dir, "meta-data");
	assert_int_equal(seed_build(&c, dir, iso, 1, &e), 0);
	md2 = iso_file(iso, dir, "meta-data");
	assert_non_null(strstr(md1, "iid-inception-"));
	assert_string_not_equal(md1, md2);
	free(md1);
	free(md2);
	/* an image of ours has them: no packages key, so no apt-get update at boot */
	assert_int_equal(seed_build(&c, dir, iso, 0, &e), 0);
	md1 = iso_file(iso, dir, "user-data");
	doc_load(&doc, md1, strlen(md1));
	assert_null(at(&doc, "packages"));
	assert_non_null(at(&doc, "users.0.name"));
	doc_free(&doc); /* frees md1, the document's text */
	/* no staging directory or temp ISO left behind, and keys missing = error */
	{
		char *const argv[] = {"rm", "-rf", dir, NULL};
		char *ls = NULL;
		char *const lsargv[] = {"find", dir,  "-mindepth", "1",     "(", "-type",
		                        "d",    "-o", "-name",     "*.tmp", ")", NULL};

		assert_int_equal(run_argv_capture(lsargv, NULL, &ls, &e), 0);
		assert_string_equal(ls, "");
		free(ls);
		assert_int_equal(run_argv(argv, NULL, &e), 0);
	}
	err_clear(&e);
	assert_int_equal(seed_build(&c, "/nonexistent-inception", iso, 1, &e), -1);
	assert_non_null(strstr(e.msg, "keys"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_data_plain_values),
	    cmocka_unit_test(test_user_data_hostile_values),
	    cmocka_unit_test(test_meta_data_and_network),
	    cmocka_unit_test(test_render_errors),
	    cmocka_unit_test(test_seed_iso),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
