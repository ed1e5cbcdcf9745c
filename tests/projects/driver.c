/*
 * driver.c: the project module on real projects, for tests/projects/run.
 *
 *   driver resolve PROJECT|- CLONE_DIR [REF]   dir, compose, commit, dirty
 *   driver inputs DIR                          one line per input
 *   driver generate DIR OUT_DIR LOGIN          writes the missing inputs
 *   driver bases DIR                           the bases, then checks them
 *                                              against this host's Docker
 *   driver files DIR [EXPORT_DIR]              the files (committed with
 *                                              EXPORT_DIR)
 * Errors: "driver: MESSAGE" on stderr, exit code from the error (2 = usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "util.h"

static int fail(const struct err *e)
{
	fprintf(stderr, "driver: %s\n", e->msg);
	return e->code ? e->code : 1;
}

/* `docker image inspect IMAGE` succeeds. */
static int docker_has(const char *image, void *ctx)
{
	char *argv[] = {"docker", "image", "inspect", (char *)image, NULL};
	(void)ctx;
	return run_argv(argv, NULL, NULL) == 0;
}

static int resolve(const char *spec, const char *ref, const char *clone_dir, struct project *p,
                   struct err *e)
{
	struct project_req r = {0};

	r.spec = strcmp(spec, "-") ? spec : NULL;
	r.ref = ref;
	r.clone_dir = clone_dir;
	return project_resolve(&r, p, e);
}

int main(int argc, char **argv)
{
	struct err e = {.msg = ""};
	struct project p;
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc < 3) {
		fprintf(stderr, "usage: driver resolve|inputs|generate|bases|files ARGS\n");
		return 2;
	}
	if (strcmp(cmd, "resolve") == 0 && argc >= 4) {
		if (resolve(argv[2], argc > 4 ? argv[4] : NULL, argv[3], &p, &e) < 0)
			return fail(&e);
		printf("dir=%s\ncompose=%s\ncommit=%s\ndirty=%d\ncloned=%d\n", p.dir, p.compose,
		       p.commit, p.dirty, p.cloned);
		return 0;
	}
	if (resolve(argv[2], NULL, "/nonexistent", &p, &e) < 0)
		return fail(&e);
	if (strcmp(cmd, "inputs") == 0) {
		struct project_inputs in;
		char line[PATH_MAX + 256];
		if (project_inputs(&p, &in, &e) < 0)
			return fail(&e);
		for (size_t i = 0; i < in.n; i++) {
			project_input_describe(&in.v[i], line, sizeof(line));
			printf("%s %s\n", in.v[i].missing ? "missing" : "present", line);
		}
		project_inputs_free(&in);
		return 0;
	}
	if (strcmp(cmd, "generate") == 0 && argc == 5) {
		struct project_inputs in;
		struct project_gen g = {argv[4], NULL};
		char **made = NULL;
		size_t n = 0;
		int rc;
		if (project_inputs(&p, &in, &e) < 0)
			return fail(&e);
		rc = project_generate_missing(&p, &in, &g, argv[3], &made, &n, &e);
		project_inputs_free(&in);
		if (rc < 0)
			return fail(&e);
		for (size_t i = 0; i < n; i++)
			printf("generated %s\n", made[i]);
		project_strv_free(made, n);
		return 0;
	}
	if (strcmp(cmd, "bases") == 0) {
		struct project_base *v;
		size_t n;
		int rc;
		if (project_bases(&p, &v, &n, &e) < 0)
			return fail(&e);
		for (size_t i = 0; i < n; i++)
			printf("%s:%u %s %s\n", v[i].file, v[i].line, v[i].image, v[i].service);
		rc = project_bases_check(v, n, docker_has, NULL, &e);
		project_bases_free(v, n);
		return rc < 0 ? fail(&e) : 0;
	}
	if (strcmp(cmd, "files") == 0) {
		struct project_files f;
		if (project_files(&p, argc > 3, argc > 3 ? argv[3] : NULL, NULL, &f, &e) < 0)
			return fail(&e);
		printf("root=%s\n", f.root);
		for (size_t i = 0; i < f.n; i++)
			printf("%s\n", f.paths[i]);
		project_files_free(&f);
		return 0;
	}
	fprintf(stderr, "driver: unknown command %s\n", cmd);
	return 2;
}
