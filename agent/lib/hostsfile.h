/*
 * hostsfile.h: the /etc/hosts editor of the agent's "hosts" step.
 *
 * hosts_edit() is a pure function: the old file's bytes in, the new file's
 * bytes out, so the edge cases are unit-tested and fuzzed without touching a
 * real file; hosts_edit_file() applies it to a file (the agent's /etc/hosts
 * in the guest, and the host's with host.map_domain).  The
 * result maps NAME to IP on exactly one line:
 *   - the first line whose address is IP and which lists NAME is kept as it
 *     is (other names on it, spacing, comment and all);
 *   - NAME is removed from every other line (another address, or a second
 *     IP line); a line left with no name is dropped, its comment kept;
 *   - when no line maps NAME to IP, "IP<TAB>NAME" is appended.
 * With ip NULL, NAME is removed from every line (undoing a mapping).
 * Names compare case-insensitively; text after '#' is never looked at;
 * untouched lines are copied byte for byte.  CRLF files stay CRLF (a
 * rewritten or appended line takes the ending of the file's first line),
 * a missing final newline is added before an appended line, NUL bytes are
 * just bytes.  Editing the result again changes nothing.
 */
#ifndef INCEPTION_AGENT_HOSTSFILE_H
#define INCEPTION_AGENT_HOSTSFILE_H

#include <stddef.h>

#include "err.h"

/* 1 if name is a DNS name we accept ([A-Za-z0-9.-], labels 1..63, total
 * 1..253, no leading/trailing '-' or '.'), else 0. */
int hosts_name_valid(const char *name);

/* Edits in[0..len) as described above.  On success *out is a malloc'd
 * buffer of *outlen bytes (plus a NUL not counted) and *changed tells
 * whether it differs from in.  -1 for an invalid name or address (ip NULL:
 * remove NAME everywhere). */
int hosts_edit(const char *in, size_t len, const char *name, const char *ip, char **out,
               size_t *outlen, int *changed, struct err *e);

/* The same on a file: read (at most 64 MiB), edited, and written back
 * only when it changed.  A symlink is followed: its target is edited and
 * the link kept.  The target is locked (flock) while it is read and
 * replaced, so two editors never lose each other's lines; the new content
 * goes to a temp file next to it with the old file's mode, owner and
 * extended attributes (the SELinux label included), is synced and renamed
 * over it, and the directory is synced.  Temp files a killed editor left
 * (NAME.tmp.XXXXXX) are removed.  A missing file is an error when
 * must_exist, else nothing to do. */
int hosts_edit_file(const char *path, const char *name, const char *ip, int must_exist,
                    int *changed, struct err *e);

/* The file hosts_edit_file edits for path: path itself, or the file its
 * symlinks lead to (target gets n bytes at most). */
int hosts_file_target(const char *path, char *target, size_t n, struct err *e);

#endif
