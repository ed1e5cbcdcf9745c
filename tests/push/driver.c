/*
 * driver.c: runs push_tree() once against a real sshd, for tests/push/run.
 *
 *   driver HOST PORT USER IDENTITY HOSTKEY_PUB TOP AGENT ENV SECRETS REMOTE
 *
 * Prints one line "files=N sent=N skipped=N removed=N digest=HEX" and exits
 * 0, or prints the error and exits 1 (3 for a host key mismatch).
 */
#include <stdio.h>
#include <stdlib.h>

#include "push.h"
#include "sshc.h"

int main(int argc, char **argv)
{
	struct ssh_target t;
	struct push_src src = { 0 };
	struct push_stats st;
	struct err e = { .msg = "" };
	ssh_session s = NULL;
	int rc;

	if (argc != 11) {
		fprintf(stderr, "usage: driver HOST PORT USER IDENTITY HOSTKEY_PUB TOP AGENT ENV "
				"SECRETS REMOTE\n");
		return 2;
	}
	t.host = argv[1];
	t.port = (unsigned)atoi(argv[2]);
	t.user = argv[3];
	t.identity = argv[4];
	t.hostkey_pub = argv[5];
	t.timeout_s = 10;
	src.top = argv[6];
	src.agent_bin = argv[7];
	src.agent_conf = "login=jdoe\n";
	src.env_file = argv[8];
	src.secrets_dir = argv[9];
	src.with_agent_src = 1;
	if (sshc_connect(&t, &s, &e) < 0) {
		fprintf(stderr, "driver: %s\n", e.msg);
		return e.code == 3 ? 3 : 1;
	}
	rc = push_tree(s, &src, argv[10], &st, &e);
	sshc_close(s);
	if (rc < 0) {
		fprintf(stderr, "driver: %s\n", e.msg);
		return 1;
	}
	printf("files=%u sent=%u skipped=%u removed=%u digest=%s\n", st.files, st.sent, st.skipped,
	       st.removed, st.tree_digest);
	return 0;
}
