/*
 * push.h: copy the project into the guest over SFTP (libssh), cheaply.
 *
 * Two roots in the guest.  REMOTE (push.dir, default /home/LOGIN/inception)
 * holds only the project, as its owner sees it:
 *   the project's files                -> REMOTE/PATH: the working tree
 *                                         without .git, or exactly the listed
 *                                         paths (git's tree, --committed); for
 *                                         the bundled stack only Makefile and
 *                                         srcs/ (never the host's srcs/.env)
 *   generated inputs, GEN/PATH          -> REMOTE/PATH (0600; a directory only
 *                                         they live in is 0700); they replace a
 *                                         project file of the same path
 * META (/home/LOGIN/.local/share/inception) holds everything of ours:
 *   the agent binary + its settings     -> META/agent, META/agent.conf
 *   agent sources (agent/, lib/)        -> META/agent-src/ (build in the guest
 *                                         when the binary cannot start there)
 *   META/manifest, META/tree.digest
 * Neither root may contain the other.  A symlink is sent as a symlink when
 * its target, resolved from where it stands, stays inside the tree walked
 * (the project, srcs/ or agent/); one pointing outside (or absolute) is
 * refused, by name.  Names with control characters are refused.  Special
 * files are skipped.
 *
 * META/manifest lists, per file, "DIGEST SIZE MTIME MODE PATH" (SHA-256,
 * octal mode with 0120000 for a symlink, whose digest is over its target;
 * PATH is "tree/P" for REMOTE/P and "meta/P" for META/P, with '%', space and
 * control bytes as %XX, so a line is always five words).  A file whose
 * digest, size and mode match the manifest and whose remote size and mode
 * still match is skipped; others are written to PATH.inception-tmp (opened
 * O_EXCL), given their mode and mtime, then renamed over PATH.  Files in the
 * old manifest that no longer exist locally are removed remotely.  Every
 * remote path is checked first: relative to its root, no . or .., no control
 * character, still under the root once normalised, and no symlink among its
 * directories below the root; a damaged manifest costs a full push and
 * removes nothing.  A root must not be writable by others (like /tmp), nor
 * lie under a directory writable by others without the sticky bit, nor
 * belong to another user.  The manifest (16 MiB) and tree.digest (4 KiB) are
 * read back bounded; a bigger file is an error.  META/tree.digest (SHA-256
 * over the sorted "DIGEST MODE PATH" lines) tells the agent whether the
 * tree (or the agent) changed.
 */
#ifndef INCEPTION_PUSH_H
#define INCEPTION_PUSH_H

#include <libssh/libssh.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct push_src {
	const char *top;    /* the project's directory */
	char *const *paths; /* its files, relative to top (project_files);
	                     * NULL = every file of top without .git */
	size_t npaths;
	int bundled;         /* top is the bundled stack: Makefile + srcs/ */
	const char *gen_dir; /* generated inputs are read from gen_dir/PATH */
	char *const *gen;    /* ... their project paths */
	size_t ngen;
	const char *agent_bin;     /* the agent binary; NULL = not sent */
	const char *agent_conf;    /* agent settings text; NULL = not sent */
	int with_agent_src;        /* also send agent/ sources (for build-in-guest) */
	const char *agent_src_top; /* the directory holding agent/ (sources); NULL = top */
	int timeout_s;             /* bound on a command in the guest (timeouts.agent) */
};

struct push_stats {
	unsigned files, sent, skipped, removed;
	uint64_t bytes;
	char tree_digest[65];
};

/* Pushes src: the project into remote_dir, ours into meta_dir, over an
 * authenticated session. */
int push_tree(ssh_session s, const struct push_src *src, const char *remote_dir,
              const char *meta_dir, struct push_stats *st, struct err *e);

#define PUSH_MODE_LINK 0120000u       /* mode bits of a symlink entry */
#define PUSH_PATH_MAX 1024            /* bytes of a relative path */
#define PUSH_MANIFEST_MAX (16u << 20) /* bytes of the manifest read back */
#define PUSH_DIGEST_MAX 4096u         /* bytes of tree.digest read back */

/* One manifest entry, exposed for the unit tests. */
struct push_entry {
	char *path;      /* "tree/P" (REMOTE/P) or "meta/P" (META/P) */
	char digest[65]; /* hex SHA-256 */
	uint64_t size;
	long long mtime;
	unsigned mode;
};

/* 0 if rel may be a path in the tree: relative, not empty, no empty, . or
 * .. component, no control character, at most PUSH_PATH_MAX bytes; else -1
 * with "PATH: the reason" in e (control characters shown as \xNN). */
int push_path_check(const char *rel, struct err *e);

/* Parses a manifest text; returns the entry count or -1. Caller frees with
 * push_entries_free. Malformed lines and paths push_path_check refuses are
 * an error (the manifest is ours: the caller then pushes everything and
 * removes nothing). */
long push_manifest_parse(const char *text, struct push_entry **out, struct err *e);
/* Formats entries (sorted by path) into a malloc'd text. */
char *push_manifest_format(const struct push_entry *v, size_t n);
/* SHA-256 hex over the sorted "DIGEST MODE PATH" lines (content identity). */
void push_tree_digest(const struct push_entry *v, size_t n, char out[65]);
void push_entries_free(struct push_entry *v, size_t n);

#endif
