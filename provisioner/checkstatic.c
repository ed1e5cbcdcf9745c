/*
 * checkstatic.c: reading a project's files the way an evaluator does (see
 * checkstatic.h).  Every function works on text already in memory, so the
 * unit tests feed it exact inputs; check.c reads the files and runs them.
 */
#include "checkstatic.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* ------------------------------------------------------------ helpers */
static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		abort();
	return d;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d == NULL)
		abort();
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		abort();
	return q;
}

/* A growable string: always NUL-terminated. */
struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}
static void sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

static char *sb_take(struct sbuf *b)
{
	if (b->s == NULL)
		return xstrdup("");
	return b->s;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static int strcaseprefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* ------------------------------------------------------------ findings */
void ck_add(struct ck_findings *f, const char *file, int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	f->v[f->n].file = file ? xstrdup(file) : NULL;
	f->v[f->n].line = line;
	f->v[f->n].msg = xstrdup(buf);
	f->n++;
}

void ck_findings_free(struct ck_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].file);
		free(f->v[i].msg);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void ck_findings_format(const struct ck_findings *f, char *buf, size_t n)
{
	size_t i, used = 0;
	char one[700];

	if (n == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < f->n; i++) {
		const struct ck_finding *x = &f->v[i];
		int w;

		if (x->file && x->line)
			snprintf(one, sizeof(one), "%s%s:%d: %s", i ? "; " : "", x->file, x->line,
			         x->msg);
		else if (x->file)
			snprintf(one, sizeof(one), "%s%s: %s", i ? "; " : "", x->file, x->msg);
		else
			snprintf(one, sizeof(one), "%s%s", i ? "; " : "", x->msg);
		if (used + strlen(one) + 16 >= n) {
			snprintf(buf + used, n - used, " (+%zu more)", f->n - i);
			return;
		}
		w = snprintf(buf + used, n - used, "%s", one);
		used += (size_t)w;
	}
}

/* ------------------------------------------------------------ variables */
void ck_env_set(struct ck_env *env, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < env->n; i++)
		if (strcmp(env->key[i], key) == 0) {
			free(env->val[i]);
			env->val[i] = xstrdup(val);
			return;
		}
	if (env->n == env->cap) {
		env->cap = env->cap ? env->cap * 2 : 16;
		env->key = xrealloc(env->key, env->cap * sizeof(char *));
		env->val = xrealloc(env->val, env->cap * sizeof(char *));
	}
	env->key[env->n] = xstrdup(key);
	env->val[env->n] = xstrdup(val);
	env->n++;
}

const char *ck_env_get(const struct ck_env *env, const char *key)
{
	size_t i;

	for (i = 0; env && i < env->n; i++)
		if (strcmp(env->key[i], key) == 0)
			return env->val[i];
	return NULL;
}

void ck_env_free(struct ck_env *env)
{
	size_t i;

	for (i = 0; i < env->n; i++) {
		free(env->key[i]);
		free(env->val[i]);
	}
	free(env->key);
	free(env->val);
	memset(env, 0, sizeof(*env));
}

void ck_env_parse(struct ck_env *env, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n'), *eq, *k;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len), *key, *val;
		size_t vl;

		p += len + (eol ? 1 : 0);
		k = skip_ws(line);
		if (strncmp(k, "export ", 7) == 0)
			k = skip_ws(k + 7);
		eq = strchr(k, '=');
		if (*k == '#' || *k == '\0' || eq == NULL) {
			free(line);
			continue;
		}
		key = trim_dup(k, (size_t)(eq - k));
		val = trim_dup(eq + 1, strlen(eq + 1));
		vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			memmove(val, val + 1, vl - 2);
			val[vl - 2] = '\0';
		} else {
			char *hash = strstr(val, " #");

			if (hash)
				*hash = '\0';
		}
		ck_env_set(env, key, val);
		free(key);
		free(val);
		free(line);
	}
}

static int is_name_start(int c)
{
	return isalpha(c) || c == '_';
}
static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* ${NAME...} at p (p[0] == '$', p[1] == '{') appended to b; returns the
 * character after it.
 * Longer than 60 lines: the operators of ${...} (:-, -, :+, +, :?, ?), one case each. */
static const char *expand_braced(const char *p, const struct ck_env *env, int dollar_escape,
                                 int *unknown, struct sbuf *b)
{
	const char *q = p + 2, *close, *op;
	char *name, *word;
	const char *v;
	int depth = 1;

	close = q;
	while (*close && depth) {
		if (*close == '{')
			depth++;
		else if (*close == '}')
			depth--;
		if (depth)
			close++;
	}
	if (*close != '}') { /* unterminated: keep as written */
		sb_add(b, p);
		return p + strlen(p);
	}
	op = q;
	while (op < close && is_name_char((unsigned char)*op))
		op++;
	name = xstrndup(q, (size_t)(op - q));
	v = ck_env_get(env, name);
	word = xstrndup(op, (size_t)(close - op));
	if (word[0] == '\0') {
		if (v)
			sb_add(b, v);
		else if (unknown)
			*unknown = 1;
	} else {
		int colon = word[0] == ':';
		char kind = word[colon];
		const char *arg = word + colon + 1;
		int set = v != NULL && (!colon || v[0] != '\0');

		if (kind == '-') {
			if (set) {
				sb_add(b, v);
			} else {
				char *x = ck_expand(arg, env, dollar_escape, unknown);
				sb_add(b, x);
				free(x);
			}
		} else if (kind == '+') {
			if (set) {
				char *x = ck_expand(arg, env, dollar_escape, unknown);
				sb_add(b, x);
				free(x);
			}
		} else { /* '?' and anything else: the value or unknown */
			if (set)
				sb_add(b, v);
			else if (unknown)
				*unknown = 1;
		}
	}
	free(name);
	free(word);
	return close + 1;
}

char *ck_expand(const char *s, const struct ck_env *env, int dollar_escape, int *unknown)
{
	struct sbuf b = {0};
	const char *p = s;

	while (*p) {
		if (*p != '$') {
			sb_addc(&b, *p++);
			continue;
		}
		if (dollar_escape && p[1] == '$') {
			sb_addc(&b, '$');
			p += 2;
			continue;
		}
		if (is_name_start((unsigned char)p[1])) {
			const char *q = p + 1;
			char *name;
			const char *v;

			while (is_name_char((unsigned char)*q))
				q++;
			name = xstrndup(p + 1, (size_t)(q - p - 1));
			v = ck_env_get(env, name);
			if (v)
				sb_add(&b, v);
			else if (unknown)
				*unknown = 1;
			free(name);
			p = q;
			continue;
		}
		if (p[1] == '{') {
			p = expand_braced(p, env, dollar_escape, unknown, &b);
			continue;
		}
		sb_addc(&b, *p++);
	}
	return sb_take(&b);
}

/* ----------------------------------------------------------- Dockerfile */
static void df_push(struct dockerfile *df, int line, const char *text)
{
	const char *p = skip_ws(text), *q = p;
	char *kw;
	size_t i;

	while (*q && !isspace((unsigned char)*q))
		q++;
	if (q == p)
		return;
	kw = xstrndup(p, (size_t)(q - p));
	for (i = 0; kw[i]; i++)
		kw[i] = (char)toupper((unsigned char)kw[i]);
	if (df->n == df->cap) {
		df->cap = df->cap ? df->cap * 2 : 16;
		df->v = xrealloc(df->v, df->cap * sizeof(*df->v));
	}
	df->v[df->n].line = line;
	df->v[df->n].kw = kw;
	df->v[df->n].args = trim_dup(q, strlen(q));
	df->n++;
}

/* Parser directives: `# escape=`` before anything else. */
static char df_escape_char(const char *text)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *q = skip_ws(p);

		if (*q != '#')
			break;
		q = skip_ws(q + 1);
		if (strncasecmp(q, "escape", 6) == 0) {
			q = skip_ws(q + 6);
			if (*q == '=') {
				q = skip_ws(q + 1);
				if (*q == '`')
					return '`';
			}
		}
		p += len + (eol ? 1 : 0);
	}
	return '\\';
}

int dockerfile_parse(const char *text, struct dockerfile *df)
{
	char esc = df_escape_char(text);
	struct sbuf cur = {0};
	const char *p = text;
	int lineno = 0, start = 0, cont = 0;

	memset(df, 0, sizeof(*df));
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len);
		const char *t = skip_ws(line);
		size_t tl;

		p += len + (eol ? 1 : 0);
		lineno++;
		tl = strlen(line);
		if (tl && line[tl - 1] == '\r')
			line[--tl] = '\0';
		/* comment lines go, inside a continuation too; so do blank
		 * lines inside one */
		if (*t == '#' || (*t == '\0' && cont)) {
			free(line);
			continue;
		}
		if (*t == '\0') {
			free(line);
			continue;
		}
		if (!cont) {
			start = lineno;
			cur.n = 0;
			if (cur.s)
				cur.s[0] = '\0';
		}
		while (tl && (line[tl - 1] == ' ' || line[tl - 1] == '\t'))
			tl--;
		if (tl && line[tl - 1] == esc) {
			sb_addn(&cur, line, tl - 1);
			cont = 1;
		} else {
			sb_addn(&cur, line, tl);
			cont = 0;
			df_push(df, start, cur.s);
		}
		free(line);
	}
	if (cont && cur.s)
		df_push(df, start, cur.s);
	free(cur.s);
	return 0;
}

void dockerfile_free(struct dockerfile *df)
{
	size_t i;

	for (i = 0; i < df->n; i++) {
		free(df->v[i].kw);
		free(df->v[i].args);
	}
	free(df->v);
	memset(df, 0, sizeof(*df));
}

/* ARG NAME[=default] [NAME2[=d2]...] into env (a default is expanded with
 * what env already holds; a name without one stays unset). */
static void df_arg(struct ck_env *env, const char *args)
{
	const char *p = args;

	for (;;) {
		const char *q, *eq;
		char *word, *name;

		p = skip_ws(p);
		if (*p == '\0')
			break;
		q = p;
		while (*q && !isspace((unsigned char)*q))
			q++;
		word = xstrndup(p, (size_t)(q - p));
		p = q;
		eq = strchr(word, '=');
		if (eq) {
			char *val = xstrdup(eq + 1), *x;
			size_t vl = strlen(val);

			if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
				memmove(val, val + 1, vl - 2);
				val[vl - 2] = '\0';
			}
			name = xstrndup(word, (size_t)(eq - word));
			x = ck_expand(val, env, 0, NULL);
			ck_env_set(env, name, x);
			free(x);
			free(val);
			free(name);
		}
		free(word);
	}
}

int dockerfile_froms(const struct dockerfile *df, struct df_from **out, size_t *n)
{
	struct ck_env global = {0};
	struct df_from *v = NULL;
	size_t i, cnt = 0;
	int seen_from = 0;

	for (i = 0; i < df->n; i++) {
		const struct df_instr *in = &df->v[i];
		const char *p;
		const char *words[8];
		size_t wl[8], nw = 0, k;
		char *img;

		if (strcmp(in->kw, "ARG") == 0 && !seen_from)
			df_arg(&global, in->args);
		if (strcmp(in->kw, "FROM") != 0)
			continue;
		seen_from = 1;
		p = in->args;
		while (*p && nw < 8) {
			const char *q;

			p = skip_ws(p);
			if (*p == '\0')
				break;
			q = p;
			while (*q && !isspace((unsigned char)*q))
				q++;
			words[nw] = p;
			wl[nw++] = (size_t)(q - p);
			p = q;
		}
		k = 0;
		while (k < nw && strncmp(words[k], "--", 2) == 0) /* --platform=... */
			k++;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].line = in->line;
		img = xstrndup(k < nw ? words[k] : "", k < nw ? wl[k] : 0);
		v[cnt].image = ck_expand(img, &global, 0, &v[cnt].unknown);
		free(img);
		if (k + 2 < nw && wl[k + 1] == 2 && strncasecmp(words[k + 1], "as", 2) == 0)
			v[cnt].stage = xstrndup(words[k + 2], wl[k + 2]);
		cnt++;
	}
	ck_env_free(&global);
	*out = v;
	*n = cnt;
	return 0;
}

void df_froms_free(struct df_from *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].image);
		free(v[i].stage);
	}
	free(v);
}

/* A JSON string at *pp (after the opening quote); NULL on a bad one. */
static char *json_str(const char **pp)
{
	struct sbuf b = {0};
	const char *p = *pp;

	while (*p && *p != '"') {
		if (*p == '\\') {
			p++;
			switch (*p) {
			case 'n': sb_addc(&b, '\n'); break;
			case 't': sb_addc(&b, '\t'); break;
			case 'r': sb_addc(&b, '\r'); break;
			case 'b': sb_addc(&b, '\b'); break;
			case 'f': sb_addc(&b, '\f'); break;
			case '"':
			case '\\':
			case '/': sb_addc(&b, *p); break;
			case 'u': { /* ASCII only; others kept as '?' */
				unsigned v = 0;
				int i;

				for (i = 1; i <= 4; i++) {
					if (!isxdigit((unsigned char)p[i])) {
						free(b.s);
						return NULL;
					}
					v = v * 16 +
					    (unsigned)(isdigit((unsigned char)p[i])
					                   ? p[i] - '0'
					                   : (tolower((unsigned char)p[i]) - 'a' +
					                      10));
				}
				sb_addc(&b, v < 0x80 ? (char)v : '?');
				p += 4;
				break;
			}
			default: free(b.s); return NULL;
			}
			p++;
			continue;
		}
		sb_addc(&b, *p++);
	}
	if (*p != '"') {
		free(b.s);
		return NULL;
	}
	*pp = p + 1;
	return sb_take(&b);
}

static void argv_push(struct ck_argv *a, char *s)
{
	a->v = xrealloc(a->v, (a->n + 2) * sizeof(char *));
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

/* 0 and the array in a, or -1 when args is not a JSON array of strings. */
static int json_array(const char *args, struct ck_argv *a)
{
	const char *p = skip_ws(args);

	if (*p != '[')
		return -1;
	p = skip_ws(p + 1);
	if (*p == ']')
		return *skip_ws(p + 1) == '\0' ? 0 : -1;
	for (;;) {
		char *s;

		if (*p != '"')
			return -1;
		p++;
		s = json_str(&p);
		if (s == NULL)
			return -1;
		argv_push(a, s);
		p = skip_ws(p);
		if (*p == ',') {
			p = skip_ws(p + 1);
			continue;
		}
		if (*p == ']')
			return *skip_ws(p + 1) == '\0' ? 0 : -1;
		return -1;
	}
}

int cmdline_parse(const char *args, struct ck_argv *out)
{
	memset(out, 0, sizeof(*out));
	if (json_array(args, out) == 0)
		return 0;
	ck_argv_free(out);
	out->shell_form = 1;
	argv_push(out, xstrdup("/bin/sh"));
	argv_push(out, xstrdup("-c"));
	argv_push(out, xstrdup(args));
	return 0;
}

void ck_argv_free(struct ck_argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void dockerfile_entry(const struct dockerfile *df, long *entrypoint, long *cmd)
{
	size_t i;

	*entrypoint = *cmd = -1;
	for (i = 0; i < df->n; i++) {
		if (strcmp(df->v[i].kw, "FROM") == 0)
			*entrypoint = *cmd = -1; /* a new stage starts empty */
		else if (strcmp(df->v[i].kw, "ENTRYPOINT") == 0)
			*entrypoint = (long)i;
		else if (strcmp(df->v[i].kw, "CMD") == 0)
			*cmd = (long)i;
	}
}

/* Joins dir and rel into a normalised absolute container path. */
static char *container_path(const char *workdir, const char *p)
{
	struct sbuf b = {0};

	if (p[0] != '/') {
		sb_add(&b, workdir && *workdir ? workdir : "/");
		if (b.n == 0 || b.s[b.n - 1] != '/')
			sb_addc(&b, '/');
	}
	sb_add(&b, p);
	return sb_take(&b);
}

static int is_dir_in(const char *ctxdir, const char *rel)
{
	char path[4096];
	struct stat st;

	if (ctxdir == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", ctxdir, rel);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* COPY/ADD arguments as words, JSON form too; flags (--chown...) dropped. */
static void copy_words(const char *args, struct ck_argv *a)
{
	const char *p = args;

	memset(a, 0, sizeof(*a));
	if (json_array(args, a) == 0)
		return;
	ck_argv_free(a);
	for (;;) {
		const char *q;

		p = skip_ws(p);
		if (*p == '\0')
			break;
		q = p;
		while (*q && !isspace((unsigned char)*q))
			q++;
		if (strncmp(p, "--", 2) != 0 || a->n > 0)
			argv_push(a, xstrndup(p, (size_t)(q - p)));
		p = q;
	}
}

/* Walks the instructions once, tracking WORKDIR and the stage; the three
 * COPY shapes (into a directory, a directory, a file) share that walk. */
char *dockerfile_copy_source(const struct dockerfile *df, const char *ctxdir, const char *dest)
{
	char *workdir = xstrdup("/"), *found = NULL;
	size_t i, k;

	for (i = 0; i < df->n; i++) {
		const struct df_instr *in = &df->v[i];
		struct ck_argv w;
		char *d;
		size_t dl;

		if (strcmp(in->kw, "FROM") == 0) {
			free(found);
			found = NULL;
			free(workdir);
			workdir = xstrdup("/");
			continue;
		}
		if (strcmp(in->kw, "WORKDIR") == 0) {
			char *nw = container_path(workdir, in->args);
			free(workdir);
			workdir = nw;
			continue;
		}
		if ((strcmp(in->kw, "COPY") != 0 && strcmp(in->kw, "ADD") != 0) ||
		    strstr(in->args, "--from") != NULL)
			continue;
		copy_words(in->args, &w);
		if (w.n < 2) {
			ck_argv_free(&w);
			continue;
		}
		d = container_path(workdir, w.v[w.n - 1]);
		dl = strlen(d);
		for (k = 0; k + 1 < w.n; k++) {
			const char *src = w.v[k];
			char cand[8192];

			char srcbuf[4096];
			size_t sl;

			while (strncmp(src, "./", 2) == 0)
				src += 2;
			snprintf(srcbuf, sizeof(srcbuf), "%s", src);
			sl = strlen(srcbuf);
			while (sl > 1 && srcbuf[sl - 1] == '/')
				srcbuf[--sl] = '\0';
			src = srcbuf;
			if (d[dl - 1] == '/' || w.n > 2) { /* into a directory */
				if (is_dir_in(ctxdir, src)) {
					size_t pl = dl - (d[dl - 1] == '/' ? 1 : 0);
					if (strncmp(dest, d, pl) == 0 && dest[pl] == '/') {
						snprintf(cand, sizeof(cand), "%s/%s", src,
						         dest + pl + 1);
						free(found);
						found = xstrdup(cand);
					}
				} else {
					snprintf(cand, sizeof(cand), "%s%s%s", d,
					         d[dl - 1] == '/' ? "" : "/", basename_of(src));
					if (strcmp(cand, dest) == 0) {
						free(found);
						found = xstrdup(src);
					}
				}
			} else if (is_dir_in(ctxdir, src)) {
				if (strncmp(dest, d, dl) == 0 && dest[dl] == '/') {
					snprintf(cand, sizeof(cand), "%s/%s", src, dest + dl + 1);
					free(found);
					found = xstrdup(cand);
				}
			} else if (strcmp(d, dest) == 0) {
				free(found);
				found = xstrdup(src);
			}
		}
		free(d);
		ck_argv_free(&w);
	}
	free(workdir);
	return found;
}

/* password, passwd, pwd, secret, token in a variable name (not *_FILE etc.) */
static int secret_name(const char *name, size_t n)
{
	char low[128];
	size_t i;

	if (n == 0 || n >= sizeof(low))
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	if (!strstr(low, "pass") && !strstr(low, "pwd") && !strstr(low, "secret") &&
	    !strstr(low, "token"))
		return 0;
	return !(strstr(low, "_file") || strstr(low, "_path") || strstr(low, "_dir") ||
	         strstr(low, "length") || strstr(low, "_len") || strstr(low, "policy") ||
	         strstr(low, "hash"));
}

/* A value that is a literal secret: not empty, not a variable, a path, a
 * placeholder or a command substitution. */
static int literal_value(const char *v, size_t n)
{
	while (n && (*v == '"' || *v == '\'' || *v == ' ')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '"' || v[n - 1] == '\'' || v[n - 1] == ' ' || v[n - 1] == ';' ||
	             v[n - 1] == ','))
		n--;
	for (size_t i = 0; i < n; i++) /* lists, calls, variables: not one literal */
		if (isspace((unsigned char)v[i]) || v[i] == '(' || v[i] == '$')
			return 0;
	if (n < 4) /* counters, yes/no/on/off */
		return 0;
	if (n == 0 || *v == '$' || *v == '/' || *v == '.' || *v == '<' || *v == '{' || *v == '(' ||
	    *v == '`' || *v == '#' || *v == '[' || *v == '~')
		return 0;
	if (n >= 4 && v[0] == '_' && v[1] == '_' && v[n - 1] == '_' && v[n - 2] == '_')
		return 0; /* __PLACEHOLDER__ */
	if ((n == 4 && strncasecmp(v, "null", 4) == 0) ||
	    (n == 4 && strncasecmp(v, "true", 4) == 0) ||
	    (n == 4 && strncasecmp(v, "none", 4) == 0) ||
	    (n == 5 && strncasecmp(v, "false", 5) == 0))
		return 0;
	return 1;
}

void dockerfile_scan_secrets(const struct dockerfile *df, const char *file, struct ck_findings *f)
{
	size_t i;

	for (i = 0; i < df->n; i++) {
		const struct df_instr *in = &df->v[i];
		const char *p = in->args;
		int env = strcmp(in->kw, "ENV") == 0;

		if (!env && strcmp(in->kw, "ARG") != 0)
			continue;
		/* ENV KEY VALUE (legacy single pair) */
		if (env && strchr(p, '=') == NULL) {
			const char *q = p;
			while (*q && !isspace((unsigned char)*q))
				q++;
			if (secret_name(p, (size_t)(q - p)) &&
			    literal_value(skip_ws(q), strlen(skip_ws(q))))
				ck_add(f, file, in->line, "%s %.*s holds a literal password",
				       in->kw, (int)(q - p), p);
			continue;
		}
		for (;;) {
			const char *q, *eq;

			p = skip_ws(p);
			if (*p == '\0')
				break;
			q = p;
			if (*q == '"' || *q == '\'') {
				char quote = *q++;
				while (*q && *q != quote)
					q++;
				if (*q)
					q++;
			}
			while (*q && !isspace((unsigned char)*q)) {
				if (*q == '"' || *q == '\'') {
					char quote = *q++;
					while (*q && *q != quote)
						q++;
					if (*q)
						q++;
					continue;
				}
				q++;
			}
			eq = memchr(p, '=', (size_t)(q - p));
			if (eq && secret_name(p, (size_t)(eq - p)) &&
			    literal_value(eq + 1, (size_t)(q - eq - 1)))
				ck_add(f, file, in->line, "%s %.*s holds a literal password",
				       in->kw, (int)(eq - p), p);
			p = q;
		}
	}
}

/* ------------------------------------------------------- PID-1 scanning */
static int is_shell(const char *prog)
{
	const char *b = basename_of(prog);

	return strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 || strcmp(b, "dash") == 0 ||
	       strcmp(b, "ash") == 0 || strcmp(b, "zsh") == 0;
}

/* The words of one shell line (no quoting subtleties beyond '' and ""). */
static size_t shell_words(const char *s, char words[][128], size_t max)
{
	size_t n = 0;
	const char *p = s;

	while (n < max) {
		size_t l = 0;

		p = skip_ws(p);
		if (*p == '\0')
			break;
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '"' || *p == '\'') {
				char q = *p++;
				while (*p && *p != q) {
					if (l < 127)
						words[n][l++] = *p;
					p++;
				}
				if (*p)
					p++;
				continue;
			}
			if (l < 127)
				words[n][l++] = *p;
			p++;
		}
		words[n][l] = '\0';
		n++;
	}
	return n;
}

/* The line without a trailing comment and with quoted text blanked, so
 * that `echo "a & b"` or `# x &` do not count. */
static char *shell_code(const char *line)
{
	char *s = xstrdup(line);
	size_t i;
	char quote = 0;

	for (i = 0; s[i]; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
			else if (!(quote == '"' && s[i] == '\\'))
				s[i] = 'x';
			else if (s[i + 1])
				s[++i] = 'x';
			continue;
		}
		if (s[i] == '\\' && s[i + 1]) {
			s[++i] = 'x';
			continue;
		}
		if (s[i] == '\'' || s[i] == '"') {
			quote = s[i];
			continue;
		}
		if (s[i] == '#' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
			s[i] = '\0';
			break;
		}
	}
	return s;
}

/* 1 when code (one line, quotes blanked) puts a command in the background:
 * a single & that is not &&, >&, &> or |&. */
static int backgrounds(const char *code)
{
	size_t i, n = strlen(code);

	for (i = 0; i < n; i++) {
		if (code[i] != '&')
			continue;
		if ((i + 1 < n && (code[i + 1] == '&' || code[i + 1] == '>')) ||
		    (i > 0 && (code[i - 1] == '&' || code[i - 1] == '>' || code[i - 1] == '<' ||
		               code[i - 1] == '|')))
			continue;
		return 1;
	}
	return 0;
}

/* The simple commands of a line: split at ; && || | & (quotes blanked). */
static size_t split_commands(const char *code, char cmds[][512], size_t max)
{
	size_t n = 0, l = 0, i;

	for (i = 0;; i++) {
		char c = code[i];
		int sep = c == '\0' || c == ';' || c == '|' || c == '\n' ||
		          (c == '&' && !(i > 0 && (code[i - 1] == '>' || code[i - 1] == '<')) &&
		           code[i + 1] != '>');

		if (sep) {
			cmds[n][l] = '\0';
			if (*skip_ws(cmds[n]) && n + 1 < max)
				n++;
			l = 0;
			if (c == '\0')
				break;
			continue;
		}
		if (l < 511)
			cmds[n][l++] = c;
	}
	return n;
}

/* One simple command of a script line: tail -f, sleep infinity, an
 * infinite while/until/for, a bare shell. */
static void scan_command(const char *file, int lineno, const char *line, const char *cmd,
                         struct ck_findings *f)
{
	char words[8][128];
	size_t nw = shell_words(cmd, words, 8), w = 0;

	while (w < nw && (strcmp(words[w], "exec") == 0 || strcmp(words[w], "then") == 0 ||
	                  strcmp(words[w], "do") == 0 || strcmp(words[w], "else") == 0 ||
	                  strcmp(words[w], "!") == 0 || strchr(words[w], '=') != NULL))
		w++;
	if (w >= nw)
		return;
	if (strcmp(words[w], "tail") == 0) {
		size_t k;
		for (k = w + 1; k < nw; k++)
			if (words[k][0] == '-' && words[k][1] != '-' &&
			    (strchr(words[k], 'f') || strchr(words[k], 'F')))
				break;
		if (k < nw || (w + 1 < nw && strcmp(words[w + 1], "--follow") == 0))
			ck_add(f, file, lineno, "tail -f keeps the container alive: %s",
			       skip_ws(line));
	} else if (strcmp(words[w], "sleep") == 0 && w + 1 < nw &&
	           strcmp(words[w + 1], "infinity") == 0) {
		ck_add(f, file, lineno, "sleep infinity: %s", skip_ws(line));
	} else if ((strcmp(words[w], "while") == 0 || strcmp(words[w], "until") == 0) &&
	           w + 1 < nw) {
		int is_while = words[w][0] == 'w';
		const char *c1 = words[w + 1];
		int forever =
		    is_while
		        ? (strcmp(c1, "true") == 0 || strcmp(c1, ":") == 0 ||
		           (strcmp(c1, "[") == 0 && w + 2 < nw && strcmp(words[w + 2], "1") == 0 &&
		            (w + 3 >= nw || strcmp(words[w + 3], "]") == 0)))
		        : strcmp(c1, "false") == 0;
		if (forever)
			ck_add(f, file, lineno, "infinite loop: %s", skip_ws(line));
	} else if (strcmp(words[w], "for") == 0 && w + 1 < nw &&
	           strncmp(words[w + 1], "((;;))", 6) == 0) {
		ck_add(f, file, lineno, "infinite loop: %s", skip_ws(line));
	} else if (is_shell(words[w])) {
		size_t k = w + 1;
		/* options such as -e, -x are fine; a bare shell, or
		 * one with only options, runs no script */
		while (k < nw && words[k][0] == '-' && strcmp(words[k], "-c") != 0)
			k++;
		if (k >= nw)
			ck_add(f, file, lineno, "bare %s (runs no script): %s",
			       basename_of(words[w]), skip_ws(line));
	}
}

void script_scan(const char *file, int first_line, const char *text, struct ck_findings *f)
{
	const char *p = text;
	int lineno = first_line - 1;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len), *code;
		char cmds[16][512];
		size_t nc, i;

		p += len + (eol ? 1 : 0);
		lineno++;
		code = shell_code(line);
		if (backgrounds(code))
			ck_add(f, file, lineno, "runs a program in the background (&): %s",
			       skip_ws(line));
		nc = split_commands(code, cmds, 16);
		for (i = 0; i < nc; i++)
			scan_command(file, lineno, line, cmds[i], f);
		/* for (( ; ; )) with spaces */
		{
			char squeezed[512];
			size_t a = 0, b;
			for (b = 0; code[b] && a < sizeof(squeezed) - 1; b++)
				if (!isspace((unsigned char)code[b]))
					squeezed[a++] = code[b];
			squeezed[a] = '\0';
			if (strstr(squeezed, "for((;;))") &&
			    strncmp(skip_ws(code), "for", 3) == 0 &&
			    !strstr(skip_ws(code), "((;;))"))
				ck_add(f, file, lineno, "infinite loop: %s", skip_ws(line));
		}
		free(code);
		free(line);
	}
}

const char *argv_script(const struct ck_argv *a)
{
	size_t k;

	if (a->n == 0)
		return NULL;
	if (!is_shell(a->v[0]))
		return a->v[0];
	for (k = 1; k < a->n; k++) {
		if (strcmp(a->v[k], "-c") == 0)
			return NULL;
		if (a->v[k][0] != '-')
			return a->v[k];
	}
	return NULL;
}

void argv_scan(const char *file, int line, const struct ck_argv *a, struct ck_findings *f)
{
	size_t k;

	if (a->n == 0)
		return;
	if (is_shell(a->v[0])) {
		for (k = 1; k < a->n && a->v[k][0] == '-' && strcmp(a->v[k], "-c") != 0; k++)
			;
		if (k >= a->n) {
			ck_add(f, file, line, "bare %s (runs no script)", basename_of(a->v[0]));
			return;
		}
		if (strcmp(a->v[k], "-c") == 0) {
			if (k + 1 < a->n) {
				struct ck_findings sub = {0};
				size_t i;

				script_scan(file, line, a->v[k + 1], &sub);
				for (i = 0; i < sub.n; i++)
					ck_add(f, file, line, "%s", sub.v[i].msg);
				ck_findings_free(&sub);
			}
			return;
		}
		return; /* sh script.sh: runs a script */
	}
	/* exec form of a program: tail -f / sleep infinity as argv */
	if (strcmp(basename_of(a->v[0]), "tail") == 0)
		for (k = 1; k < a->n; k++)
			if ((a->v[k][0] == '-' && a->v[k][1] != '-' &&
			     (strchr(a->v[k], 'f') || strchr(a->v[k], 'F'))) ||
			    strcmp(a->v[k], "--follow") == 0) {
				ck_add(f, file, line, "tail -f keeps the container alive");
				return;
			}
	if (strcmp(basename_of(a->v[0]), "sleep") == 0 && a->n > 1 &&
	    strcmp(a->v[1], "infinity") == 0)
		ck_add(f, file, line, "sleep infinity");
}

/* ------------------------------------------------- penultimate stable */
/* Brought up to date on the date below; a release after it is unknown
 * here (the evidence says so). */
static const char RELEASE_TABLE_DATE[] = "2026-12-01";
static const struct ck_release DEBIAN[] = {
    {"9", "stretch", "2017-06-17"},   {"10", "buster", "2019-07-06"},
    {"11", "bullseye", "2021-08-14"}, {"12", "bookworm", "2023-06-10"},
    {"13", "trixie", "2025-08-09"},   {NULL, NULL, NULL},
};
static const struct ck_release ALPINE[] = {
    {"3.17", NULL, "2022-11-22"}, {"3.18", NULL, "2023-05-09"}, {"3.19", NULL, "2023-12-07"},
    {"3.20", NULL, "2024-05-22"}, {"3.21", NULL, "2024-12-05"}, {"3.22", NULL, "2025-05-30"},
    {"3.23", NULL, "2025-12-03"}, {NULL, NULL, NULL},
};

const char *ck_release_table_date(void)
{
	return RELEASE_TABLE_DATE;
}

const struct ck_release *ck_penultimate(const char *distro, const char *today,
                                        const struct ck_release **stable)
{
	const struct ck_release *t = strcmp(distro, "debian") == 0   ? DEBIAN
	                             : strcmp(distro, "alpine") == 0 ? ALPINE
	                                                             : NULL;
	const struct ck_release *last = NULL, *prev = NULL;

	if (stable)
		*stable = NULL;
	if (t == NULL)
		return NULL;
	for (; t->version; t++) {
		if (strcmp(t->date, today) > 0)
			break;
		prev = last;
		last = t;
	}
	if (stable)
		*stable = last;
	return prev;
}

const char *ck_image_tag(const char *image, char *buf, size_t n)
{
	const char *slash = strrchr(image, '/'), *colon;

	if (strchr(image, '@'))
		return NULL;
	colon = strrchr(slash ? slash : image, ':');
	snprintf(buf, n, "%s", colon ? colon + 1 : "latest");
	return buf;
}

void ck_image_name(const char *image, char *buf, size_t n)
{
	const char *slash = strrchr(image, '/');
	const char *b = slash ? slash + 1 : image;
	size_t l = strcspn(b, ":@");

	snprintf(buf, n, "%.*s", (int)l, b);
}

/* tag is want, or want followed by '-' or '.' and more */
static int tag_is(const char *tag, const char *want)
{
	size_t l;

	if (want == NULL)
		return 0;
	l = strlen(want);
	return strncmp(tag, want, l) == 0 && (tag[l] == '\0' || tag[l] == '-' || tag[l] == '.');
}

int ck_image_is_penultimate(const char *image, const char *today, char *why, size_t n)
{
	char name[128], tagbuf[128], repo[256];
	const struct ck_release *pen, *st;
	const char *tag = ck_image_tag(image, tagbuf, sizeof(tagbuf));
	const char *distro;
	size_t rl = strcspn(image, ":@");

	snprintf(repo, sizeof(repo), "%.*s", (int)rl, image);
	/* docker.io/library/debian and library/debian are debian */
	if (strncmp(repo, "docker.io/", 10) == 0)
		memmove(repo, repo + 10, strlen(repo + 10) + 1);
	if (strncmp(repo, "library/", 8) == 0)
		memmove(repo, repo + 8, strlen(repo + 8) + 1);
	ck_image_name(image, name, sizeof(name));
	distro = strcmp(repo, "debian") == 0   ? "debian"
	         : strcmp(repo, "alpine") == 0 ? "alpine"
	                                       : NULL;
	if (distro == NULL) {
		snprintf(why, n, "%s is neither debian nor alpine", image);
		return 0;
	}
	pen = ck_penultimate(distro, today, &st);
	if (pen == NULL) {
		snprintf(why, n, "no penultimate %s release known on %s", distro, today);
		return 0;
	}
	snprintf(why, n,
	         "penultimate stable %s on %s is %s%s%s (stable %s%s%s; release table of %s)",
	         distro, today, pen->version, pen->codename ? " " : "",
	         pen->codename ? pen->codename : "", st->version, st->codename ? " " : "",
	         st->codename ? st->codename : "", RELEASE_TABLE_DATE);
	if (tag == NULL)
		return 0;
	return tag_is(tag, pen->version) || tag_is(tag, pen->codename);
}

/* --------------------------------------------------------------- compose */
static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pr;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(d, pr->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, pr->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int line_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

/* network_mode / network: host, links, external_links anywhere. */
static void walk_forbidden(yaml_document_t *d, yaml_node_t *n, const char *file,
                           struct ck_findings *f)
{
	if (n == NULL)
		return;
	if (n->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
			walk_forbidden(d, yaml_document_get_node(d, *it), file, f);
		return;
	}
	if (n->type != YAML_MAPPING_NODE)
		return;
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(d, pr->key);
		yaml_node_t *v = yaml_document_get_node(d, pr->value);
		const char *key = scalar(k), *val = scalar(v);

		if (key && (strcmp(key, "network_mode") == 0 || strcmp(key, "network") == 0) &&
		    val && strcmp(val, "host") == 0)
			ck_add(f, file, line_of(k), "%s: host", key);
		else if (key && (strcmp(key, "links") == 0 || strcmp(key, "external_links") == 0))
			ck_add(f, file, line_of(k), "%s:", key);
		else
			walk_forbidden(d, v, file, f);
	}
}

static char *expand_node(yaml_node_t *n, const struct ck_env *env, int *unknown)
{
	const char *s = scalar(n);

	return s ? ck_expand(s, env, 1, unknown) : NULL;
}

/* "80", "8080:80", "127.0.0.1:8080:80", "443/tcp", "1000-1001:1000-1001" */
static int port_target(const char *spec)
{
	const char *c = strrchr(spec, ':');
	const char *t = c ? c + 1 : spec;

	return isdigit((unsigned char)*t) ? atoi(t) : 0;
}

/* One service: image, build (string or mapping), networks, ports (short
 * and long syntax), volumes (short and long syntax), field by field. */
static void service_parse(yaml_document_t *d, yaml_node_t *k, yaml_node_t *v,
                          const struct ck_env *env, struct cs_service *s)
{
	yaml_node_t *b, *ports, *vols;

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(scalar(k));
	s->line = line_of(k);
	if ((b = map_get(d, v, "image")) != NULL) {
		s->image = expand_node(b, env, &s->image_unknown);
		s->image_line = line_of(b);
	}
	b = map_get(d, v, "build");
	if (scalar(b)) {
		s->build_ctx = expand_node(b, env, NULL);
		s->dockerfile = xstrdup("Dockerfile");
	} else if (b && b->type == YAML_MAPPING_NODE) {
		yaml_node_t *c = map_get(d, b, "context"), *df = map_get(d, b, "dockerfile");
		s->build_ctx = c ? expand_node(c, env, NULL) : xstrdup(".");
		s->dockerfile = df ? expand_node(df, env, NULL) : xstrdup("Dockerfile");
	}
	s->has_networks = map_get(d, v, "networks") != NULL;
	ports = map_get(d, v, "ports");
	if (ports && ports->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		for (it = ports->data.sequence.items.start; it < ports->data.sequence.items.top;
		     it++) {
			yaml_node_t *p = yaml_document_get_node(d, *it);
			struct cs_port *cp;

			s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof(*s->ports));
			cp = &s->ports[s->nports++];
			cp->line = line_of(p);
			if (scalar(p)) {
				cp->spec = expand_node(p, env, NULL);
				cp->target = port_target(cp->spec);
			} else {
				yaml_node_t *t = map_get(d, p, "target"),
				            *pub = map_get(d, p, "published");
				char *ts = t ? expand_node(t, env, NULL) : xstrdup("?");
				char *ps = pub ? expand_node(pub, env, NULL) : xstrdup("");
				char buf[256];

				snprintf(buf, sizeof(buf), "%s%s%s", ps, *ps ? ":" : "", ts);
				cp->spec = xstrdup(buf);
				cp->target = atoi(ts);
				free(ts);
				free(ps);
			}
		}
	}
	vols = map_get(d, v, "volumes");
	if (vols && vols->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		for (it = vols->data.sequence.items.start; it < vols->data.sequence.items.top;
		     it++) {
			yaml_node_t *p = yaml_document_get_node(d, *it);
			char *src = NULL;

			if (scalar(p)) {
				char *x = expand_node(p, env, NULL);
				char *c = strchr(x, ':');
				src = c ? xstrndup(x, (size_t)(c - x)) : NULL;
				free(x);
			} else if (map_get(d, p, "source")) {
				src = expand_node(map_get(d, p, "source"), env, NULL);
			}
			if (src) {
				s->volumes =
				    xrealloc(s->volumes, (s->nvolumes + 1) * sizeof(char *));
				s->volumes[s->nvolumes++] = src;
			}
		}
	}
}

/* The document's three top-level mappings in order, one YAML document
 * freed under one label.
 * Longer than 60 lines: the three top-level mappings read in order from one document. */
int compose_parse(const char *file, const char *text, const struct ck_env *env, struct compose *c,
                  struct err *e)
{
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root, *svcs, *vols, *nets;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	if (!yaml_parser_initialize(&p))
		return err_set(e, "%s: out of memory", file);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&p, &d)) {
		err_set(e, "%s:%zu:%zu: %s", file, p.problem_mark.line + 1,
		        p.problem_mark.column + 1, p.problem ? p.problem : "YAML error");
		yaml_parser_delete(&p);
		return -1;
	}
	root = yaml_document_get_root_node(&d);
	svcs = map_get(&d, root, "services");
	if (svcs == NULL || svcs->type != YAML_MAPPING_NODE) {
		err_set(e, "%s:%d: no services: mapping", file, root ? line_of(root) : 1);
		goto done;
	}
	for (yaml_node_pair_t *pr = svcs->data.mapping.pairs.start;
	     pr < svcs->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&d, pr->key);
		yaml_node_t *v = yaml_document_get_node(&d, pr->value);

		if (!scalar(k))
			continue;
		c->svc = xrealloc(c->svc, (c->nsvc + 1) * sizeof(*c->svc));
		service_parse(&d, k, v, env, &c->svc[c->nsvc++]);
	}
	nets = map_get(&d, root, "networks");
	if (nets) {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++)
			if (yaml_document_get_node(&d, pr->value) == nets)
				c->networks_line = line_of(yaml_document_get_node(&d, pr->key));
	}
	vols = map_get(&d, root, "volumes");
	if (vols && vols->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *pr = vols->data.mapping.pairs.start;
		     pr < vols->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&d, pr->key);
			yaml_node_t *v = yaml_document_get_node(&d, pr->value);
			yaml_node_t *dev = map_get(&d, map_get(&d, v, "driver_opts"), "device");
			struct cs_volume *cv;

			if (!scalar(k))
				continue;
			c->vol = xrealloc(c->vol, (c->nvol + 1) * sizeof(*c->vol));
			cv = &c->vol[c->nvol++];
			memset(cv, 0, sizeof(*cv));
			cv->name = xstrdup(scalar(k));
			cv->line = line_of(k);
			if (dev)
				cv->device = expand_node(dev, env, &cv->device_unknown);
		}
	}
	walk_forbidden(&d, root, file, &c->forbidden);
	ret = 0;
done:
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	if (ret < 0)
		compose_free(c);
	return ret;
}

void compose_free(struct compose *c)
{
	size_t i, k;

	for (i = 0; i < c->nsvc; i++) {
		struct cs_service *s = &c->svc[i];
		free(s->name);
		free(s->image);
		free(s->build_ctx);
		free(s->dockerfile);
		for (k = 0; k < s->nports; k++)
			free(s->ports[k].spec);
		free(s->ports);
		for (k = 0; k < s->nvolumes; k++)
			free(s->volumes[k]);
		free(s->volumes);
	}
	free(c->svc);
	for (i = 0; i < c->nvol; i++) {
		free(c->vol[i].name);
		free(c->vol[i].device);
	}
	free(c->vol);
	ck_findings_free(&c->forbidden);
	memset(c, 0, sizeof(*c));
}

const struct cs_service *compose_service(const struct compose *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsvc; i++)
		if (strcmp(c->svc[i].name, name) == 0)
			return &c->svc[i];
	return NULL;
}

const char *ck_mandatory_role(const char *service)
{
	char low[128];
	size_t i;

	snprintf(low, sizeof(low), "%s", service);
	for (i = 0; low[i]; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	if (strstr(low, "nginx"))
		return "nginx";
	if (strstr(low, "wordpress") || strcmp(low, "wp") == 0)
		return "wordpress";
	if (strstr(low, "mariadb") || strstr(low, "mysql") || strcmp(low, "db") == 0)
		return "mariadb";
	return NULL;
}

const char *ck_content_role(const char *dockerfile)
{
	int db = 0, fpm = 0, php = 0, web = 0;
	const char *line = dockerfile;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line), i, o = 0;
		char low[1024];

		for (i = 0; i < len && o + 1 < sizeof(low); i++)
			if (o > 0 || (line[i] != ' ' && line[i] != '\t'))
				low[o++] = (char)tolower((unsigned char)line[i]);
		low[o] = '\0';
		if (low[0] != '#') {
			db |= strstr(low, "mariadb-server") || strstr(low, "mysql-server") ||
			      strncmp(low, "from mariadb", 12) == 0 ||
			      strncmp(low, "from mysql", 10) == 0;
			fpm |= strstr(low, "fpm") != NULL;
			php |= strstr(low, "php") != NULL || strstr(low, "wordpress") != NULL;
			web |= strstr(low, "nginx") != NULL;
		}
		line = end ? end + 1 : NULL;
	}
	if (db)
		return "mariadb";
	if (php && fpm)
		return "wordpress";
	return web ? "nginx" : NULL;
}

/* ----------------------------------------------------------- credentials */
int cred_line(const char *line, char *why, size_t n)
{
	const char *p = skip_ws(line), *k, *q;

	if (strstr(line, "-----BEGIN") && strstr(line, "PRIVATE KEY-----")) {
		snprintf(why, n, "a private key");
		return 1;
	}
	for (q = line; (q = strcasestr(q, "identified by")) != NULL; q += 13) {
		const char *v = skip_ws(q + 13);
		const char *end = (*v == '\'' || *v == '"') ? strchr(v + 1, *v) : NULL;
		size_t ql = end ? (size_t)(end - v - 1) : 0;

		if (end && ql > 0 && memchr(v + 1, '$', ql) == NULL &&
		    memchr(v + 1, ' ', ql) == NULL) {
			snprintf(why, n, "IDENTIFIED BY with a literal password");
			return 1;
		}
	}
	/* - KEY=VALUE in a YAML list, ENV/ARG KEY=VALUE, export KEY=VALUE */
	if (*p == '-')
		p = skip_ws(p + 1);
	if (strcaseprefix(p, "export ") || strcaseprefix(p, "ENV ") || strcaseprefix(p, "ARG "))
		p = skip_ws(strchr(p, ' '));
	if (*p == '"' || *p == '\'')
		p++;
	k = p;
	while (is_name_char((unsigned char)*p))
		p++;
	if (p == k || !secret_name(k, (size_t)(p - k)))
		return 0;
	q = p;
	if (*q == '"' || *q == '\'')
		q++;
	q = skip_ws(q);
	if (*q != '=' && *q != ':' && !((*q == '?' || *q == '+') && q[1] == '='))
		return 0;
	q++;
	if (*q == '=' || *q == '>') /* :=  ?=  +=  =>  == */
		q++;
	q = skip_ws(q);
	if (!literal_value(q, strlen(q)))
		return 0;
	snprintf(why, n, "%.*s has a literal value", (int)(p - k), k);
	return 1;
}

int cred_path(const char *path)
{
	const char *b = basename_of(path);
	size_t bl = strlen(b);

	if (strcmp(b, ".env") == 0 || (bl > 4 && strcmp(b + bl - 4, ".env") == 0 && b[0] != '.'))
		return 1;
	if (strncmp(path, "secrets/", 8) == 0 || strstr(path, "/secrets/"))
		return 1;
	if (bl > 4 && (strcmp(b + bl - 4, ".key") == 0 || strcmp(b + bl - 4, ".pem") == 0))
		return 1;
	return 0;
}

/* ------------------------------------------------------------ bonus roles */
const char *ck_bonus_role(const char *service)
{
	static const struct {
		const char *word, *role;
	} words[] = {{"redis", "redis"}, {"ftp", "ftp"},      {"adminer", "adminer"},
	             {"static", "site"}, {"website", "site"}, {"site", "site"}};
	char low[128];
	size_t i;

	if (service == NULL || ck_mandatory_role(service) != NULL)
		return NULL;
	for (i = 0; service[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)service[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i].word))
			return words[i].role;
	return NULL;
}

/* ----------------------------------------------------------- runtime text */
size_t ck_published_ports(const char *ports, struct ck_port *out, size_t max)
{
	const char *p = ports;
	size_t n = 0;

	while (p && *p && n < max) {
		const char *end, *eq, *comma, *colon;
		char *num_end;
		long ctr;

		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		ctr = strtol(p, &num_end, 10);
		eq = memchr(p, '=', (size_t)(end - p));
		if (ctr > 0 && ctr < 65536 && strncmp(num_end, "/tcp=", 5) == 0 && eq) {
			comma = memchr(eq, ',', (size_t)(end - eq));
			if (comma == NULL)
				comma = end;
			colon = NULL;
			for (const char *q = eq; q < comma; q++)
				if (*q == ':')
					colon = q;
			if (colon) {
				long host = strtol(colon + 1, NULL, 10);

				if (host > 0 && host < 65536) {
					out[n].ctr = (int)ctr;
					out[n].host = (int)host;
					n++;
				}
			}
		}
		p = end;
	}
	return n;
}

long ck_info_field(const char *info, const char *field)
{
	size_t l = strlen(field);
	const char *p = info;

	while (p && *p) {
		if (strncmp(p, field, l) == 0 && p[l] == ':' && isdigit((unsigned char)p[l + 1]))
			return strtol(p + l + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}
