/*
 * labfile.c: the lab file (LAB.yaml) and the port allocation (labfile.h).
 *
 * The file is loaded as one libyaml document and walked: the top-level keys,
 * `defaults` and each seat, every value kept as text with its location.
 * Each seat is then applied to a scratch configuration with the same
 * config_set the flags use, so a bad memory size or image url is refused
 * with the configuration's own words, located in the lab file.
 */
#include "labfile.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml.h>

#include "util.h"

static const char *const KEY_NAMES[LK_COUNT] = {
    "image", "checksums", "cpus",       "memory",  "disk", "network",
    "accel", "uri",       "apt_mirror", "project", "ref",  "vm_only",
};

/* The configuration key each lab key sets (image: url or build, decided by
 * its value; project, ref and vm_only are the lab's own). */
static const char *const CONFIG_KEY[LK_COUNT] = {
    NULL,    "image.checksums", "vm.cpus",    "vm.memory", "vm.disk", "network.mode",
    "accel", "libvirt.uri",     "apt.mirror", NULL,        NULL,      NULL,
};

struct lload {
	struct lab *l;
	yaml_document_t *doc;
	const char *file;
	struct err *e;
};

static int lerr(struct lload *L, yaml_node_t *n, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int lerr(struct lload *L, yaml_node_t *n, const char *field, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = config_yaml_verr(L->e, EXIT_USAGE, L->file, n, field, fmt, ap);
	va_end(ap);
	return r;
}

static const char *kind(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

/* Edit distance, for "did you mean" (short words only). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[40], cur[40];

	if (la >= 39 || lb >= 39)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static int unknown(struct lload *L, yaml_node_t *kn, const char *field, const char *const *known)
{
	const char *best = NULL;
	size_t bd = 3, d;

	for (; *known; known++)
		if ((d = distance((const char *)kn->data.scalar.value, *known)) < bd) {
			bd = d;
			best = *known;
		}
	if (best)
		return lerr(L, kn, field, "unknown key (did you mean %s?)", best);
	return lerr(L, kn, field, "unknown key (see `man inception`, LAB FILES)");
}

static const char *scalar(yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A mapping's pairs, each key a plain scalar seen once. */
static int check_keys(struct lload *L, yaml_node_t *map, const char *field)
{
	yaml_node_pair_t *p, *q;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);

		if (kn == NULL || kn->type != YAML_SCALAR_NODE)
			return lerr(L, kn ? kn : map, field, "keys must be plain names");
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = yaml_document_get_node(L->doc, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE &&
			    strcmp(scalar(qk), scalar(kn)) == 0)
				return lerr(L, kn, field, "duplicate key %s (first at line %zu)",
				            scalar(kn), qk->start_mark.line + 1);
		}
	}
	return 0;
}

static int key_index(const char *name)
{
	int i;

	for (i = 0; i < LK_COUNT; i++)
		if (strcmp(KEY_NAMES[i], name) == 0)
			return i;
	return -1;
}

/* One value of defaults or a seat: a scalar, kept with its location. */
static int set_val(struct lload *L, struct lab_val *v, yaml_node_t *val, const char *field)
{
	if (val->type != YAML_SCALAR_NODE)
		return lerr(L, val, field, "expected a value, got %s", kind(val));
	if (val->data.scalar.length != strlen(scalar(val)))
		return lerr(L, val, field, "value contains a NUL byte");
	if (val->data.scalar.length == 0)
		return lerr(L, val, field, "empty value");
	free(v->v);
	v->v = strdup(scalar(val));
	if (v->v == NULL)
		return err_set(L->e, "out of memory");
	snprintf(v->where, sizeof(v->where), "%s:%zu:%zu: %s", L->file, val->start_mark.line + 1,
	         val->start_mark.column + 1, field);
	return 0;
}

static int load_opts(struct lload *L, yaml_node_t *map, const char *prefix, struct lab_val *o,
                     struct lab_seat *seat)
{
	static const char *const seat_keys[] = {
	    "name",  "login", "image",      "checksums", "cpus", "memory",  "disk", "network",
	    "accel", "uri",   "apt_mirror", "project",   "ref",  "vm_only", NULL};
	yaml_node_pair_t *p;
	char field[96];

	if (map->type != YAML_MAPPING_NODE)
		return lerr(L, map, prefix, "expected a mapping of keys, got %s", kind(map));
	if (check_keys(L, map, prefix) < 0)
		return -1;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		int k = key_index(scalar(kn));

		snprintf(field, sizeof(field), "%s.%s", prefix, scalar(kn));
		if (vn == NULL)
			continue;
		if (seat && (strcmp(scalar(kn), "name") == 0 || strcmp(scalar(kn), "login") == 0)) {
			int is_name = scalar(kn)[0] == 'n';
			char *dst = is_name ? seat->name : seat->login;
			size_t max = is_name ? LAB_SEAT_MAX : CONFIG_LOGIN_MAX;
			struct err pe = {"", 0};
			const char *s;

			if (vn->type != YAML_SCALAR_NODE)
				return lerr(L, vn, field, "expected a value, got %s", kind(vn));
			s = scalar(vn);
			if (is_name &&
			    (s[0] == '\0' || strlen(s) > max ||
			     strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s) ||
			     s[0] == '-'))
				return lerr(
				    L, vn, field,
				    "\"%s\" is not a seat name ([a-z0-9-], 1-%zu characters, "
				    "not starting with -)",
				    s, max);
			if (!is_name && parse_login(s, &pe) < 0)
				return lerr(L, vn, field, "%s", pe.msg);
			snprintf(dst, max + 1, "%s", s);
			continue;
		}
		if (!seat && (strcmp(scalar(kn), "name") == 0 || strcmp(scalar(kn), "login") == 0))
			return lerr(L, kn, field, "only a seat has its own %s", scalar(kn));
		if (k < 0)
			return unknown(L, kn, field, seat ? seat_keys : seat_keys + 2);
		if (set_val(L, &o[k], vn, field) < 0)
			return -1;
	}
	return 0;
}

static int parse_port(struct lload *L, yaml_node_t *vn, const char *field, unsigned *out)
{
	char *end;
	long v;

	if (vn->type != YAML_SCALAR_NODE)
		return lerr(L, vn, field, "expected a port number, got %s", kind(vn));
	errno = 0;
	v = strtol(scalar(vn), &end, 10);
	if (errno || end == scalar(vn) || *end || v < 1024 || v > 65535)
		return lerr(L, vn, field, "\"%s\" is not a port in 1024..65535", scalar(vn));
	*out = (unsigned)v;
	return 0;
}

static int load_seats(struct lload *L, yaml_node_t *seq)
{
	yaml_node_item_t *it;
	size_t n;

	if (seq->type != YAML_SEQUENCE_NODE)
		return lerr(L, seq, "seats", "expected a list of seats, got %s", kind(seq));
	n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n == 0)
		return lerr(L, seq, "seats", "the list is empty (a lab needs at least one seat)");
	if (n > LAB_MAX_SEATS)
		return lerr(L, seq, "seats", "%zu seats (at most %d)", n, LAB_MAX_SEATS);
	L->l->seats = calloc(n, sizeof(*L->l->seats));
	if (L->l->seats == NULL)
		return err_set(L->e, "out of memory");
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *sn = yaml_document_get_node(L->doc, *it);
		struct lab_seat *s = &L->l->seats[L->l->nseats];
		char field[32];
		size_t i;

		snprintf(field, sizeof(field), "seats[%zu]", L->l->nseats + 1);
		L->l->nseats++;
		if (sn == NULL)
			return lerr(L, seq, field, "empty seat");
		snprintf(s->where, sizeof(s->where), "%s:%zu:%zu: %s", L->file,
		         sn->start_mark.line + 1, sn->start_mark.column + 1, field);
		if (load_opts(L, sn, field, s->o, s) < 0)
			return -1;
		if (s->name[0] == '\0')
			return lerr(L, sn, field, "no name (every seat needs `name:`)");
		if (s->login[0] == '\0')
			snprintf(s->login, sizeof(s->login), "%s", s->name);
		for (i = 0; i + 1 < L->l->nseats; i++)
			if (strcmp(L->l->seats[i].name, s->name) == 0)
				return lerr(L, sn, field,
				            "duplicate seat name \"%s\" (also seats[%zu])", s->name,
				            i + 1);
	}
	return 0;
}

/* Longer than 60 lines: the top-level keys, each a short case. */
static int load_top(struct lload *L, yaml_node_t *root)
{
	static const char *const top_keys[] = {"lab",      "forwards_from", "forwards_to", "jobs",
	                                       "defaults", "seats",         NULL};
	yaml_node_pair_t *p;
	yaml_node_t *seats = NULL, *to = NULL;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return err_setc(L->e, EXIT_USAGE,
		                "%s: expected a mapping with lab: and seats:", L->file);
	if (check_keys(L, root, "(top level)") < 0)
		return -1;
	L->l->from = 20000;
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		const char *k = scalar(kn);

		if (vn == NULL)
			continue;
		if (strcmp(k, "lab") == 0) {
			const char *s = vn->type == YAML_SCALAR_NODE ? scalar(vn) : "";
			if (s[0] == '\0' || s[0] == '-' || strlen(s) > LAB_NAME_MAX ||
			    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s))
				return lerr(L, vn, "lab",
				            "\"%s\" is not a lab name ([a-z0-9-], 1-%d characters)",
				            s, LAB_NAME_MAX);
			snprintf(L->l->name, sizeof(L->l->name), "%s", s);
		} else if (strcmp(k, "forwards_from") == 0) {
			if (parse_port(L, vn, k, &L->l->from) < 0)
				return -1;
		} else if (strcmp(k, "forwards_to") == 0) {
			if (parse_port(L, vn, k, &L->l->to) < 0)
				return -1;
			to = vn;
		} else if (strcmp(k, "jobs") == 0) {
			char *end;
			long v = vn->type == YAML_SCALAR_NODE ? strtol(scalar(vn), &end, 10) : 0;
			if (vn->type != YAML_SCALAR_NODE || *end || v < 1 || v > 64)
				return lerr(L, vn, "jobs", "expected a number in 1..64");
			L->l->jobs = (int)v;
		} else if (strcmp(k, "defaults") == 0) {
			if (load_opts(L, vn, "defaults", L->l->defaults, NULL) < 0)
				return -1;
		} else if (strcmp(k, "seats") == 0) {
			seats = vn;
		} else {
			return unknown(L, kn, k, top_keys);
		}
	}
	if (L->l->name[0] == '\0')
		return lerr(L, root, "lab", "missing (name the lab: `lab: NAME`)");
	if (to == NULL)
		L->l->to = L->l->from + 999 > 65535 ? 65535 : L->l->from + 999;
	else if (L->l->to < L->l->from + 1)
		return lerr(L, to, "forwards_to", "%u is below forwards_from + 1 (%u)", L->l->to,
		            L->l->from + 1);
	if (seats == NULL)
		return lerr(L, root, "seats", "missing (a lab needs a list of seats)");
	return load_seats(L, seats);
}

/* Every seat applied to a scratch configuration: values, combination, and
 * a project unless vm_only. */
static int check_seats(struct lab *l, struct err *e)
{
	size_t i;

	for (i = 0; i < l->nseats; i++) {
		struct lab_seat *s = &l->seats[i];
		struct config c;
		int r;

		if (lab_get(l, s, LK_VM_ONLY) && lab_vm_only(l, s) < 0) {
			const struct lab_val *v =
			    s->o[LK_VM_ONLY].v ? &s->o[LK_VM_ONLY] : &l->defaults[LK_VM_ONLY];
			return err_setc(e, EXIT_USAGE, "%s: \"%s\" is not true or false", v->where,
			                v->v);
		}
		if (!lab_vm_only(l, s) && lab_get(l, s, LK_PROJECT) == NULL)
			return err_setc(
			    e, EXIT_USAGE,
			    "%s: no project (set project: DIR or URL, or vm_only: true)", s->where);
		if (snprintf(s->vm, sizeof(s->vm), "%s-%s", l->name, s->name) >= (int)sizeof(s->vm))
			return err_setc(e, EXIT_USAGE, "%s: name too long", s->where);
		config_defaults(&c);
		r = lab_seat_config(l, s, &c, e);
		if (r == 0 && config_validate(&c, e) < 0)
			r = err_wrap(e, "%s", s->where);
		config_free(&c);
		if (r < 0)
			return (e->code = EXIT_USAGE, -1);
	}
	if (l->nseats * 2 > (size_t)l->to - (size_t)l->from + 1)
		return err_setc(
		    e, EXIT_USAGE, "%s: forwards_from: %zu seats need %zu ports, %u..%u has %u",
		    l->file, l->nseats, l->nseats * 2, l->from, l->to, l->to - l->from + 1);
	return 0;
}

int lab_load_buffer(struct lab *l, const char *name, const char *buf, size_t len, struct err *e)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct lload L = {l, &doc, name, e};
	int ret = -1, have_doc = 0;
	char *slash;

	memset(l, 0, sizeof(*l));
	snprintf(l->file, sizeof(l->file), "%s", name);
	snprintf(l->dir, sizeof(l->dir), "%s", name);
	slash = strrchr(l->dir, '/');
	if (slash)
		*(slash == l->dir ? slash + 1 : slash) = '\0';
	else
		snprintf(l->dir, sizeof(l->dir), ".");
	if (strlen(buf) != len)
		return err_setc(e, EXIT_USAGE, "%s: not a text file (contains NUL bytes)", name);
	if (!yaml_parser_initialize(&parser))
		return err_set(e, "%s: cannot initialise the YAML parser", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err_setc(e, EXIT_USAGE, "%s:%zu:%zu: YAML syntax error: %s", name,
		         parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		         parser.problem ? parser.problem : "unknown problem");
		goto done;
	}
	have_doc = 1;
	if (load_top(&L, yaml_document_get_root_node(&doc)) < 0 || check_seats(l, e) < 0)
		goto done;
	ret = 0;
done:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret < 0) {
		e->code = EXIT_USAGE;
		lab_free(l);
	}
	return ret;
}

int lab_load_file(struct lab *l, const char *path, struct err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (read_file(path, &buf, &len, e) < 0) {
		err_wrap(e, "lab file (-f)");
		return (e->code = EXIT_USAGE, -1);
	}
	ret = lab_load_buffer(l, path, buf, len, e);
	free(buf);
	return ret;
}

void lab_free(struct lab *l)
{
	size_t i, k;

	for (k = 0; k < LK_COUNT; k++)
		free(l->defaults[k].v);
	for (i = 0; i < l->nseats; i++)
		for (k = 0; k < LK_COUNT; k++)
			free(l->seats[i].o[k].v);
	free(l->seats);
	l->seats = NULL;
	l->nseats = 0;
	memset(l->defaults, 0, sizeof(l->defaults));
}

const char *lab_get(const struct lab *l, const struct lab_seat *s, enum lab_key k)
{
	return s->o[k].v ? s->o[k].v : l->defaults[k].v;
}

int lab_vm_only(const struct lab *l, const struct lab_seat *s)
{
	const char *v = lab_get(l, s, LK_VM_ONLY);

	if (v == NULL || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
		return 1;
	return -1;
}

int lab_find(const struct lab *l, const char *seat)
{
	size_t i;

	for (i = 0; i < l->nseats; i++)
		if (strcmp(l->seats[i].name, seat) == 0)
			return (int)i;
	return -1;
}

int lab_seat_config(const struct lab *l, const struct lab_seat *s, struct config *c, struct err *e)
{
	size_t k;

	if (config_set(c, "vm.name", s->vm, s->where, e) < 0 ||
	    config_set(c, "login", s->login, s->where, e) < 0)
		return -1;
	for (k = 0; k < LK_COUNT; k++) {
		const struct lab_val *v = s->o[k].v ? &s->o[k] : &l->defaults[k];
		const char *key = CONFIG_KEY[k];

		if (v->v == NULL)
			continue;
		if (k == LK_IMAGE)
			key = strchr(v->v, ':') ? "image.url" : "image.build";
		if (key && config_set(c, key, v->v, v->where, e) < 0)
			return -1;
	}
	/* checksums after image: an image url clears nothing, a build clears both */
	if (lab_get(l, s, LK_CHECKSUMS) && lab_get(l, s, LK_IMAGE) &&
	    !strchr(lab_get(l, s, LK_IMAGE), ':'))
		return err_set(
		    e, "%s: checksums: only with an image url",
		    (s->o[LK_CHECKSUMS].v ? &s->o[LK_CHECKSUMS] : &l->defaults[LK_CHECKSUMS])
		        ->where);
	return 0;
}

/* ---- ports ------------------------------------------------------------- */

int lab_port_busy(unsigned port, void *arg)
{
	struct sockaddr_in a;
	int fd, one = 1, busy;

	(void)arg;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	/* as qemu binds its hostfwd: SO_REUSEADDR, so TIME_WAIT does not count */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	busy = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0;
	close(fd);
	return busy;
}

static int take(unsigned char *used, unsigned port, unsigned from, unsigned to)
{
	if (port < from || port > to || used[port])
		return 0;
	used[port] = 1;
	return 1;
}

int lab_ports_assign(struct lab_ports *p, size_t n, unsigned from, unsigned to, lab_busy_fn busy,
                     void *arg, struct err *e)
{
	unsigned char *used = calloc(65536, 1);
	unsigned next = from;
	size_t i;
	int pass;

	if (used == NULL)
		return err_set(e, "out of memory");
	/* the ports of existing VMs first, then recorded ones still free */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			unsigned *port[2] = {&p[i].ssh, &p[i].https};
			int j;

			if ((pass == 0) != (p[i].keep != 0))
				continue;
			for (j = 0; j < 2; j++)
				if (*port[j] && (!take(used, *port[j], from, to) ||
				                 (!p[i].keep && busy(*port[j], arg))))
					*port[j] = 0;
		}
	for (i = 0; i < n; i++) {
		unsigned *port[2] = {&p[i].ssh, &p[i].https};
		int j;

		for (j = 0; j < 2; j++) {
			if (*port[j])
				continue;
			while (next <= to && (used[next] || busy(next, arg)))
				next++;
			if (next > to) {
				free(used);
				return err_setc(
				    e, EXIT_USAGE,
				    "no free port left in %u..%u (forwards_from/forwards_to)", from,
				    to);
			}
			used[next] = 1;
			*port[j] = next++;
		}
	}
	free(used);
	return 0;
}
