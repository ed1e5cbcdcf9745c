/*
 * driver.c: runs the real push, agent and capture code once against a real
 * sshd, for tests/push/run.
 *
 *   driver HOST PORT USER IDENTITY HOSTKEY_PUB TOP AGENT GEN REMOTE META MODE
 *       push_tree() of the project TOP (MODE bundled: its Makefile and srcs/;
 *       tree: every file without .git; list:FILE: the paths in FILE, one a
 *       line, as --committed gives them), the generated inputs under GEN (every
 *       file, at its path below GEN), the agent and its sources into META;
 *       prints "files=N sent=N skipped=N removed=N digest=HEX"
 *   driver agent HOST PORT USER IDENTITY HOSTKEY_PUB AGENT TIMEOUT human|json
 *       agent_run() with the reporter in that mode (-v); prints on stderr
 *       "result rc=N code=N failed_step=S steps_run=N err=MSG"
 *   driver capture HOST PORT USER IDENTITY HOSTKEY_PUB CMD TIMEOUT
 *       remote_capture(); prints "result rc=N code=N status=N bytes=N err=MSG"
 *   driver stream HOST PORT USER IDENTITY HOSTKEY_PUB IMAGE LOG TIMEOUT
 *       stack_stream_base() (`docker` from PATH here and there); prints
 *       "result rc=N code=N err=MSG"
 *
 * Exits 0, or 1 on an error (3 for a host key mismatch, the error's code
 * otherwise when it has one).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentrun.h"
#include "push.h"
#include "report.h"
#include "sshc.h"
#include "stack.h"

static int connect_to(char **argv, ssh_session *s, struct err *e)
{
	struct ssh_target t;

	memset(&t, 0, sizeof(t)); /* jump_uri NULL: a local VM */
	t.host = argv[0];
	t.port = (unsigned)atoi(argv[1]);
	t.user = argv[2];
	t.identity = argv[3];
	t.hostkey_pub = argv[4];
	t.timeout_s = 10;
	return sshc_connect(&t, s, e);
}

static int run_agent(char **argv)
{
	struct agent_result r;
	struct err e = {.msg = ""};
	ssh_session s = NULL;
	int rc;

	report_init(strcmp(argv[7], "json") == 0 ? REPORT_JSON : REPORT_HUMAN, 1);
	if (connect_to(argv, &s, &e) < 0) {
		fprintf(stderr, "driver: %s\n", e.msg);
		return 1;
	}
	rc = agent_run(s, argv[5], "", atoi(argv[6]), &r, &e);
	sshc_close(s);
	fprintf(stderr, "result rc=%d code=%d failed_step=%s steps_run=%d err=%s\n", rc, e.code,
	        r.failed_step, r.steps_run, e.msg);
	return rc == 0 ? 0 : e.code ? e.code : 1;
}

static int run_stream(char **argv)
{
	struct err e = {.msg = ""};
	ssh_session s = NULL;
	int rc;

	report_init(REPORT_HUMAN, -1);
	if (connect_to(argv, &s, &e) < 0) {
		fprintf(stderr, "driver: %s\n", e.msg);
		return 1;
	}
	rc = stack_stream_base(s, argv[5], argv[6], atoi(argv[7]), &e);
	sshc_close(s);
	printf("result rc=%d code=%d err=%s\n", rc, e.code, e.msg);
	return rc == 0 ? 0 : e.code ? e.code : 1;
}

static int run_capture(char **argv)
{
	struct err e = {.msg = ""};
	ssh_session s = NULL;
	char *out = NULL;
	int rc, status = -1;

	if (connect_to(argv, &s, &e) < 0) {
		fprintf(stderr, "driver: %s\n", e.msg);
		return 1;
	}
	rc = remote_capture(s, argv[5], atoi(argv[6]), &out, &status, &e);
	sshc_close(s);
	printf("result rc=%d code=%d status=%d bytes=%zu err=%s\n", rc, e.code, status,
	       out ? strlen(out) : 0, e.msg);
	free(out);
	return rc == 0 ? 0 : e.code ? e.code : 1;
}

/* The generated inputs: every regular file under GEN, by its path there. */
static char *gen_paths[256];
static size_t ngen;
static size_t gen_len;

static int gen_add(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_F && ngen < 256)
		gen_paths[ngen++] = strdup(path + gen_len + 1);
	return 0;
}

/* The paths of a list file, one a line. */
static char **read_list(const char *file, size_t *n)
{
	FILE *f = fopen(file, "r");
	char line[4096], **v = NULL;

	*n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(line);
	}
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct push_src src = {0};
	struct push_stats st = {0};
	struct err e = {.msg = ""};
	ssh_session s = NULL;
	char **list = NULL;
	size_t nlist = 0, i;
	int rc;

	if (argc == 10 && strcmp(argv[1], "agent") == 0)
		return run_agent(argv + 2);
	if (argc == 10 && strcmp(argv[1], "stream") == 0)
		return run_stream(argv + 2);
	if (argc == 9 && strcmp(argv[1], "capture") == 0)
		return run_capture(argv + 2);
	if (argc != 12) {
		fprintf(stderr,
		        "usage: driver HOST PORT USER IDENTITY HOSTKEY_PUB TOP AGENT GEN REMOTE "
		        "META bundled|tree|list:FILE\n"
		        "       driver agent HOST PORT USER IDENTITY HOSTKEY_PUB AGENT TIMEOUT "
		        "human|json\n"
		        "       driver capture HOST PORT USER IDENTITY HOSTKEY_PUB CMD TIMEOUT\n"
		        "       driver stream HOST PORT USER IDENTITY HOSTKEY_PUB IMAGE LOG "
		        "TIMEOUT\n");
		return 2;
	}
	src.top = argv[6];
	src.agent_bin = argv[7];
	src.agent_conf = "login=jdoe\n";
	src.bundled = strcmp(argv[11], "bundled") == 0;
	if (strncmp(argv[11], "list:", 5) == 0) {
		list = read_list(argv[11] + 5, &nlist);
		src.paths = list;
		src.npaths = nlist;
	}
	gen_len = strlen(argv[8]);
	nftw(argv[8], gen_add, 16, FTW_PHYS);
	src.gen_dir = argv[8];
	src.gen = gen_paths;
	src.ngen = ngen;
	src.with_agent_src = 1;
	src.agent_src_top = "."; /* the run script's working directory: the source tree */
	src.timeout_s = 30;
	rc = connect_to(argv + 1, &s, &e);
	if (rc == 0) {
		rc = push_tree(s, &src, argv[9], argv[10], &st, &e);
		sshc_close(s);
	} else if (e.code == 3) {
		rc = -3;
	}
	for (i = 0; i < nlist; i++)
		free(list[i]);
	free(list);
	for (i = 0; i < ngen; i++)
		free(gen_paths[i]);
	if (rc < 0) {
		fprintf(stderr, "driver: %s\n", e.msg);
		return rc == -3 ? 3 : 1;
	}
	printf("files=%u sent=%u skipped=%u removed=%u digest=%s\n", st.files, st.sent, st.skipped,
	       st.removed, st.tree_digest);
	return 0;
}
