/*
 * lab.h: many seats from one lab file (labfile.h), each an ordinary VM.
 *
 * Every seat runs as a child process of this program, `inception -c
 * STATE/seats/SEAT.yaml up` (or status, push, check, down, destroy), with a
 * per-seat configuration file generated here: the user's configuration
 * (file and INCEPTION_* environment), then the lab's defaults, the seat's
 * overrides, its VM name, login and ports.  A child per seat is the
 * isolation `up` already has (its own lock, libvirt connection, SSH
 * sessions, reporter and signal handling), so one seat that fails, hangs
 * or crashes never takes another down, and the per-seat file is what a user
 * passes to any command by hand.  At most `jobs` children run at once.
 *
 * What the seats share is made once, here, before they start: the Debian
 * image (image_ensure), the project clones.  The shared base volume is
 * uploaded by the first seat under the host-wide pool lock (vm_create.c);
 * the others wait for it and find it.
 *
 * State: $XDG_STATE_HOME/inception/labs/LAB/ holds lab.state (one line per
 * seat: ports, last result, time, the inputs it was made from), seats/
 * (the per-seat files), logs/, src/ (clones) and check/ (lab check).
 * The lock file (LAB.lock next to LAB.yaml) records the inputs every seat
 * is made from: the image file and its SHA-256, the golden layer (none in
 * this build), the host's base image IDs, and each seat's project commit.
 */
#ifndef INCEPTION_LAB_H
#define INCEPTION_LAB_H

#include <limits.h>
#include <sys/types.h>

#include "err.h"
#include "labfile.h"

struct lab_seat_run {
	const struct lab_seat *seat;
	int vm_only;
	struct lab_ports ports;
	char cfg[PATH_MAX]; /* STATE/seats/SEAT.yaml */
	char log[PATH_MAX]; /* STATE/logs/SEAT.log */
	char top[PATH_MAX]; /* the project's directory (stack seats) */
	char arg[PATH_MAX]; /* a last argument of this seat's own, or "" */
	char commit[48];    /* its commit ("" outside git; "-dirty" appended) */
	char image[160];    /* inputs: image file name, its sha256, base image ID */
	char image_sha[65];
	char golden[160];      /* the golden layer's file name ("" when none applies), */
	char golden_sha[65];   /* its sha256, */
	char golden_pkgs[100]; /* the sha256 of its package list and how many ("N:SHA") */
	char base[80];
	char result[16]; /* up, failed, refused, skipped, absent, running, shut-off, ... */
	char health[24];
	char detail[512];
	long secs;
	int selected; /* part of this run */
	pid_t pid;
	long t0;
};

struct lab_ctx {
	struct lab *l;
	const char *user_config; /* -c FILE of the lab command, or NULL */
	char state[PATH_MAX];    /* the lab's state directory */
	char lock[PATH_MAX];     /* LAB.lock */
	char self[PATH_MAX];     /* this program */
	struct lab_seat_run *r;  /* one per seat, in file order */
	int jobs;
};

/* Opens a lab: state dir, recorded ports and results (lab.state). */
int lab_open(struct lab_ctx *x, struct lab *l, const char *user_config, int jobs, struct err *e);
void lab_close(struct lab_ctx *x);

/* Default parallelism: host CPUs, bounded by memory (3/4 of it for seats). */
int lab_default_jobs(const struct lab *l);

/* up: every seat (or those selected) created or resumed; locked: refuse a
 * seat whose inputs differ from LAB.lock (named in its detail), else write
 * LAB.lock.  -1 when any seat failed (the table still has every seat). */
int lab_up(struct lab_ctx *x, int locked, struct err *e);

/* `inception CMD ARGS` on every selected seat (stack seats only when
 * stack_only), in parallel; result ok/failed per seat. */
int lab_each(struct lab_ctx *x, const char *const *args, int stack_only, struct err *e);

/* Live state of every seat: domain, SSH with the pinned key, stack. */
void lab_status(struct lab_ctx *x);

/* check on every stack seat, then the summary: STATE/check/summary.md and
 * summary.json (paths into md/json). */
int lab_check(struct lab_ctx *x, char *md, size_t mdn, char *json, size_t jsonn, struct err *e);

/* destroy every seat, then the lab's state directory (when all went). */
int lab_destroy(struct lab_ctx *x, struct err *e);

/* The seats' recorded inputs and VMs against LAB.lock; -1 on a difference. */
int lab_verify(struct lab_ctx *x, struct err *e);

/* Replaces this process with `inception -c SEAT.yaml ssh ARGS...`. */
int lab_exec_ssh(struct lab_ctx *x, int seat, int argc, char **argv, struct err *e);

/* --- for the unit tests --------------------------------------------------- */

/* Writes cfg as a complete configuration file (every key). */
int lab_write_config(const struct config *c, const char *path, struct err *e);

/* Lock text: the inputs of every seat. */
int lab_lock_format(const struct lab_ctx *x, char **out, struct err *e);
/* Differences of seat i's inputs against lock text, "; "-joined into buf
 * ("" = none). */
void lab_lock_diff(const struct lab_ctx *x, size_t i, const char *lock, char *buf, size_t n);

#endif
