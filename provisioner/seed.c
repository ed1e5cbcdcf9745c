/*
 * seed.c: the cloud-init NoCloud seed ISO (see seed.h).
 *
 * A template is loaded with libyaml into a document tree, and the tree is
 * written back through libyaml's emitter; placeholder scalars ("${name}")
 * become emitter events for their values.  Values never pass through string
 * concatenation, so quotes, newlines, '#', ':' or a leading '!' or '&' in a
 * login, mirror url or key come out as exactly that string.  Substituted
 * strings are double-quoted (a one-line value) or literal blocks (multi-line,
 * e.g. the private host key), so YAML never reads them as a bool or number.
 */
#include "seed.h"

#include "buf.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <yaml.h>

#include "keys.h"
#include "util.h"

/* Packages the guest agent needs; cloud-init installs what is missing.  The
 * guest is Debian 13, where libcurl4 became libcurl4t64 (same libcurl.so.4). */
static const char *const seed_packages[] = {
    "make", "ca-certificates", "curl", "libcurl4t64", "qemu-guest-agent", NULL,
};

static const char *const seed_files[] = {"user-data", "meta-data", "network-config"};

int data_path(const char *rel, char *buf, size_t n, struct err *e)
{
	const char *env = getenv("INCEPTION_DATADIR");
	char exe[PATH_MAX], *slash;
	ssize_t len;
	int up;

	if (env != NULL && env[0] != '\0') {
		if (path_join(buf, n, e, "%s/%s", env, rel) < 0)
			return -1;
		if (access(buf, R_OK) == 0)
			return 0;
		return err_set(e, "%s not found (INCEPTION_DATADIR=%s)", rel, env);
	}
	/* build/inception and build/unit/test_* live inside the source tree;
	 * an installed PREFIX/bin/inception has its data in PREFIX/share. */
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		for (up = 0; up < 3; up++) {
			slash = strrchr(exe, '/');
			if (slash == NULL || slash == exe)
				break;
			*slash = '\0';
			if (path_join(buf, n, e, "%s/%s", exe, rel) < 0)
				return -1;
			if (access(buf, R_OK) == 0)
				return 0;
			if (up == 1 &&
			    path_join(buf, n, e, "%s/share/inception/%s", exe, rel) == 0 &&
			    access(buf, R_OK) == 0)
				return 0;
		}
	}
	return err_set(e,
	               "%s not found next to the program: set INCEPTION_DATADIR to the "
	               "inception source tree",
	               rel);
}

/* --- rendering ------------------------------------------------------------ */

struct outbuf {
	struct buf b;
	int oom;
};

static int out_write(void *arg, unsigned char *buf, size_t size)
{
	struct outbuf *o = arg;

	if (buf_add(&o->b, buf, size, NULL, NULL) < 0) {
		o->oom = 1;
		return 0;
	}
	return 1;
}

struct render {
	yaml_emitter_t em;
	yaml_document_t doc;
	const struct seed_var *vars;
	size_t nvars;
	const char *name;
	struct err *e;
};

static int emit(struct render *r, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&r->em, ev))
		return err_set(r->e, "%s: YAML emitter: %s", r->name,
		               r->em.problem ? r->em.problem : "error");
	return 0;
}

static int emit_scalar(struct render *r, const char *value, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)value, (int)strlen(value),
	                                  1, 1, style))
		return err_set(r->e, "%s: out of memory", r->name);
	return emit(r, &ev);
}

/* The variable a node stands for, or NULL if the node is no placeholder.
 * An unknown placeholder is an error (*bad set). */
static const struct seed_var *placeholder(struct render *r, yaml_node_t *node, int *bad)
{
	const char *v;
	size_t len, i;

	*bad = 0;
	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return NULL;
	v = (const char *)node->data.scalar.value;
	len = node->data.scalar.length;
	if (len < 4 || strncmp(v, "${", 2) != 0 || v[len - 1] != '}')
		return NULL;
	for (i = 0; i < r->nvars; i++)
		if (strlen(r->vars[i].name) == len - 3 &&
		    strncmp(r->vars[i].name, v + 2, len - 3) == 0)
			return &r->vars[i];
	*bad = 1;
	err_set(r->e, "%s:%zu: unknown placeholder %s", r->name, node->start_mark.line + 1, v);
	return NULL;
}

static int is_unset(const struct seed_var *v)
{
	return v != NULL && v->str == NULL && v->list == NULL;
}

static int emit_var(struct render *r, const struct seed_var *v)
{
	yaml_event_t ev;
	size_t i;

	if (v->list != NULL) {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          YAML_BLOCK_SEQUENCE_STYLE))
			return err_set(r->e, "%s: out of memory", r->name);
		if (emit(r, &ev) < 0)
			return -1;
		for (i = 0; v->list[i] != NULL; i++)
			if (emit_scalar(r, v->list[i], YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return emit(r, &ev);
	}
	/* Multi-line values as literal blocks (the emitter falls back to double
	 * quotes when a literal cannot hold the value exactly). */
	return emit_scalar(r, v->str,
	                   strchr(v->str, '\n') ? YAML_LITERAL_SCALAR_STYLE
	                                        : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

/* Longer than 60 lines: one case per YAML node kind (scalar, sequence, mapping), each a few lines
 * of the emitter's events. */
static int emit_node(struct render *r, yaml_node_t *node, int depth)
{
	const struct seed_var *v;
	yaml_event_t ev;
	int bad;

	if (depth > 64)
		return err_set(r->e, "%s: template nested too deeply", r->name);
	v = placeholder(r, node, &bad);
	if (bad)
		return -1;
	if (v != NULL) {
		if (is_unset(v))
			return err_set(r->e, "%s: ${%s} has no value here", r->name, v->name);
		return emit_var(r, v);
	}
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return emit_scalar(r, (const char *)node->data.scalar.value,
		                   node->data.scalar.style);
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;

		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          node->data.sequence.style))
			return err_set(r->e, "%s: out of memory", r->name);
		if (emit(r, &ev) < 0)
			return -1;
		for (it = node->data.sequence.items.start; it < node->data.sequence.items.top;
		     it++) {
			yaml_node_t *item = yaml_document_get_node(&r->doc, *it);

			v = placeholder(r, item, &bad);
			if (bad)
				return -1;
			if (is_unset(v))
				continue;
			if (emit_node(r, item, depth + 1) < 0)
				return -1;
		}
		yaml_sequence_end_event_initialize(&ev);
		return emit(r, &ev);
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;

		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		                                         node->data.mapping.style))
			return err_set(r->e, "%s: out of memory", r->name);
		if (emit(r, &ev) < 0)
			return -1;
		for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *key = yaml_document_get_node(&r->doc, p->key);
			yaml_node_t *val = yaml_document_get_node(&r->doc, p->value);

			v = placeholder(r, val, &bad);
			if (bad)
				return -1;
			if (is_unset(v))
				continue; /* an unset optional value: leave the key out */
			if (emit_node(r, key, depth + 1) < 0 || emit_node(r, val, depth + 1) < 0)
				return -1;
		}
		yaml_mapping_end_event_initialize(&ev);
		return emit(r, &ev);
	}
	default: return err_set(r->e, "%s: empty node in template", r->name);
	}
}

/* Longer than 60 lines: parser, document, emitter and output buffer are set up and freed under one
 * label, in libyaml's order. */
int seed_render(const char *tmpl, size_t len, const char *tmpl_name, const struct seed_var *vars,
                size_t nvars, const char *header, char **out, size_t *out_len, struct err *e)
{
	struct render r;
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_node_t *root;
	struct outbuf o;
	int ret = -1, have_parser = 0, have_doc = 0, have_em = 0;

	buf_init(&o.b, SIZE_MAX);
	o.oom = 0;
	memset(&r, 0, sizeof(r));
	r.vars = vars;
	r.nvars = nvars;
	r.name = tmpl_name;
	r.e = e;
	if (!yaml_parser_initialize(&parser)) {
		err_set(e, "%s: out of memory", tmpl_name);
		goto done;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)tmpl, len);
	if (!yaml_parser_load(&parser, &r.doc)) {
		err_set(e, "%s:%zu:%zu: %s", tmpl_name, parser.problem_mark.line + 1,
		        parser.problem_mark.column + 1,
		        parser.problem ? parser.problem : "bad YAML");
		goto done;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&r.doc);
	if (root == NULL) {
		err_set(e, "%s: empty template", tmpl_name);
		goto done;
	}
	if (header != NULL && out_write(&o, (unsigned char *)header, strlen(header)) == 0) {
		err_set(e, "out of memory");
		goto done;
	}
	if (!yaml_emitter_initialize(&r.em)) {
		err_set(e, "%s: out of memory", tmpl_name);
		goto done;
	}
	have_em = 1;
	yaml_emitter_set_output(&r.em, out_write, &o);
	yaml_emitter_set_unicode(&r.em, 1);
	yaml_emitter_set_width(&r.em, -1); /* never fold a key line */
	yaml_emitter_set_indent(&r.em, 2);

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (emit(&r, &ev) < 0)
		goto done;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (emit(&r, &ev) < 0 || emit_node(&r, root, 0) < 0)
		goto done;
	yaml_document_end_event_initialize(&ev, 1);
	if (emit(&r, &ev) < 0)
		goto done;
	yaml_stream_end_event_initialize(&ev);
	if (emit(&r, &ev) < 0)
		goto done;
	if (!yaml_emitter_flush(&r.em) || o.oom) {
		err_set(e, "%s: out of memory", tmpl_name);
		goto done;
	}
	*out = buf_detach(&o.b, out_len);
	if (*out == NULL) {
		err_set(e, "%s: out of memory", tmpl_name);
		goto done;
	}
	ret = 0;
done:
	buf_free(&o.b);
	if (have_em)
		yaml_emitter_delete(&r.em);
	if (have_doc)
		yaml_document_delete(&r.doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return ret;
}

/* --- the seed ------------------------------------------------------------- */

/* Reads a key file; one-line files lose their trailing newline. */
static int read_key(const char *dir, const char *name, int one_line, char **out, struct err *e)
{
	char path[PATH_MAX];
	size_t len;

	if (path_join(path, sizeof(path), e, "%s/%s", dir, name) < 0)
		return -1;
	if (read_file(path, out, &len, e) < 0)
		return err_wrap(e, "seed needs the VM's keys");
	if (one_line) {
		while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
			(*out)[--len] = '\0';
		if (strchr(*out, '\n') != NULL) {
			free(*out);
			*out = NULL;
			return err_set(e, "%s: expected one line", path);
		}
	}
	return 0;
}

static int render_file(const char *name, const struct seed_var *vars, size_t nvars,
                       const char *stage, struct err *e)
{
	char rel[PATH_MAX], tpath[PATH_MAX], opath[PATH_MAX];
	char *tmpl = NULL, *text = NULL;
	size_t tlen, olen;
	int ret = -1;

	if (path_join(rel, sizeof(rel), e, "cloud-init/%s", name) < 0 ||
	    data_path(rel, tpath, sizeof(tpath), e) < 0 || read_file(tpath, &tmpl, &tlen, e) < 0)
		goto done;
	if (seed_render(tmpl, tlen, tpath, vars, nvars,
	                strcmp(name, "user-data") == 0 ? "#cloud-config\n" : NULL, &text, &olen,
	                e) < 0)
		goto done;
	if (path_join(opath, sizeof(opath), e, "%s/%s", stage, name) < 0 ||
	    write_file_atomic(opath, text, olen, 0600, e) < 0)
		goto done;
	ret = 0;
done:
	free(tmpl);
	free(text);
	return ret;
}

/* Longer than 60 lines: the three seed files rendered from their templates, then the ISO written;
 * one temp directory and one cleanup. */
int seed_build(const struct config *c, const char *state_dir, const char *iso_path,
               int with_packages, struct err *e)
{
	char *user_pub = NULL, *host_priv = NULL, *host_pub = NULL;
	char stage[PATH_MAX], tmp_iso[PATH_MAX], log[PATH_MAX], iid[64], path[PATH_MAX];
	unsigned char rnd[16];
	int staged = 0, ret = -1;
	size_t i;

	stage[0] = tmp_iso[0] = '\0';
	if (read_key(state_dir, KEYS_USER_PUB, 1, &user_pub, e) < 0 ||
	    read_key(state_dir, KEYS_HOST, 0, &host_priv, e) < 0 ||
	    read_key(state_dir, KEYS_HOST_PUB, 1, &host_pub, e) < 0)
		goto done;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		err_set(e, "no random bytes for the instance-id");
		goto done;
	}
	snprintf(iid, sizeof(iid), "iid-inception-");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(iid + strlen(iid), sizeof(iid) - strlen(iid), "%02x", rnd[i]);

	{
		const struct seed_var vars[] = {
		    {"hostname", c->vm_name, NULL},
		    {"login", c->login, NULL},
		    {"user_public_key", user_pub, NULL},
		    {"host_private_key", host_priv, NULL},
		    {"host_public_key", host_pub, NULL},
		    {"apt_mirror", c->apt_mirror, NULL},
		    {"apt_proxy", c->apt_proxy, NULL},
		    {"packages", NULL, with_packages ? seed_packages : NULL},
		    {"instance_id", iid, NULL},
		};
		const size_t nvars = sizeof(vars) / sizeof(vars[0]);

		if (c->login == NULL || c->vm_name == NULL) {
			err_set(e, "seed: login and vm.name must be set");
			goto done;
		}
		if (path_join(stage, sizeof(stage), e, "%s/seed.XXXXXX", state_dir) < 0)
			goto done;
		if (mkdtemp(stage) == NULL) {
			err_set(e, "mkdtemp %s: %s", stage, strerror(errno));
			stage[0] = '\0';
			goto done;
		}
		staged = 1;
		for (i = 0; i < sizeof(seed_files) / sizeof(seed_files[0]); i++)
			if (render_file(seed_files[i], vars, nvars, stage, e) < 0)
				goto done;
	}

	if (path_join(tmp_iso, sizeof(tmp_iso), e, "%s.tmp", iso_path) < 0 ||
	    path_join(log, sizeof(log), e, "%s/seed.log", state_dir) < 0)
		goto done;
	unlink(tmp_iso);
	{
		char *const argv[] = {
		    "xorriso", "-as",     "genisoimage", "-output", tmp_iso, "-volid",
		    "cidata",  "-joliet", "-rock",       stage,     NULL,
		};

		if (run_argv(argv, log, e) < 0) {
			err_wrap(e, "packing the cloud-init seed");
			goto done;
		}
	}
	if (chmod(tmp_iso, 0600) < 0) {
		err_set(e, "chmod %s: %s", tmp_iso, strerror(errno));
		goto done;
	}
	if (rename(tmp_iso, iso_path) < 0) {
		err_set(e, "rename %s -> %s: %s", tmp_iso, iso_path, strerror(errno));
		goto done;
	}
	tmp_iso[0] = '\0';
	ret = 0;
done:
	if (tmp_iso[0])
		unlink(tmp_iso);
	if (staged) {
		for (i = 0; i < sizeof(seed_files) / sizeof(seed_files[0]); i++)
			if (path_join(path, sizeof(path), NULL, "%s/%s", stage, seed_files[i]) == 0)
				unlink(path);
		rmdir(stage);
	}
	free(user_pub);
	if (host_priv) {
		memset(host_priv, 0, strlen(host_priv));
		free(host_priv);
	}
	free(host_pub);
	return ret;
}
