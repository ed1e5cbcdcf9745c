/*
 * labfile.h: a lab file (LAB.yaml) and the host ports its seats use.
 *
 * A lab is a list of seats, each an ordinary VM (`inception up`) with its own
 * name (LAB-SEAT), login, project and two forwarded ports (SSH, HTTPS) taken
 * from one range.  The file is read with libyaml; every problem is one line
 * "FILE:LINE:COL: FIELD: message" (FIELD like `seats[2].memory`), the values
 * themselves checked by the configuration's own parsers (config_set), so a
 * seat accepts exactly what `inception up` accepts.
 *
 *   lab: workshop            required, [a-z0-9-], 1-20 chars
 *   forwards_from: 20000     first host port (default 20000)
 *   forwards_to: 20999       last host port (default forwards_from + 999)
 *   jobs: 2                  seats brought up at once (default: from CPUs, memory)
 *   defaults: {KEY: VALUE}   for every seat
 *   seats: [{name: s1, login: l1, KEY: VALUE...}]
 * KEY: image (a Debian suite to build, or the url of a qcow2), checksums,
 * cpus, memory, disk, network, accel, uri, apt_mirror, project (a directory,
 * relative to the lab file, or a git URL), ref, vm_only (true: no stack).
 *
 * Ports: lab_ports_assign gives every seat two ports in the range, none
 * shared with another seat nor busy on the host; a seat whose VM exists
 * keeps the ports it has.
 */
#ifndef INCEPTION_LABFILE_H
#define INCEPTION_LABFILE_H

#include <limits.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

#define LAB_NAME_MAX 20
#define LAB_SEAT_MAX 24
#define LAB_MAX_SEATS 128

/* The per-seat keys (defaults and overrides), in this order. */
enum lab_key {
	LK_IMAGE,
	LK_CHECKSUMS,
	LK_CPUS,
	LK_MEMORY,
	LK_DISK,
	LK_NETWORK,
	LK_ACCEL,
	LK_URI,
	LK_APT_MIRROR,
	LK_PROJECT,
	LK_REF,
	LK_VM_ONLY,
	LK_COUNT
};

struct lab_val {
	char *v;                   /* NULL = not set here */
	char where[PATH_MAX + 96]; /* "FILE:LINE:COL: FIELD" */
};

struct lab_seat {
	char name[LAB_SEAT_MAX + 1];
	char login[CONFIG_LOGIN_MAX + 1];
	char vm[LAB_NAME_MAX + LAB_SEAT_MAX + 2]; /* LAB-SEAT, the VM's name */
	char where[PATH_MAX + 64];                /* "FILE:LINE:COL: seats[N]" */
	struct lab_val o[LK_COUNT];
};

struct lab {
	char file[PATH_MAX]; /* as given */
	char dir[PATH_MAX];  /* its directory (relative projects start here) */
	char name[LAB_NAME_MAX + 1];
	unsigned from, to;
	int jobs; /* 0 = not set */
	struct lab_val defaults[LK_COUNT];
	struct lab_seat *seats;
	size_t nseats;
};

/* Reads and checks a lab file.  Errors: one line, e->code EXIT_USAGE. */
int lab_load_file(struct lab *l, const char *path, struct err *e);
int lab_load_buffer(struct lab *l, const char *name, const char *buf, size_t len, struct err *e);
void lab_free(struct lab *l);

/* The seat's value of a key (its own, else the default), or NULL. */
const char *lab_get(const struct lab *l, const struct lab_seat *s, enum lab_key k);
/* vm_only as a boolean. */
int lab_vm_only(const struct lab *l, const struct lab_seat *s);
/* The seat index by name, or -1. */
int lab_find(const struct lab *l, const char *seat);

/* Applies the seat's values over c (name, login and every key the lab
 * sets); errors name the lab file's line. */
int lab_seat_config(const struct lab *l, const struct lab_seat *s, struct config *c, struct err *e);

/* Ports of one seat: ssh and https, 0 = none yet.  keep: the seat's VM
 * exists, so the ports it has are its own (no bind test). */
struct lab_ports {
	unsigned ssh, https;
	int keep;
};

/* busy(port, arg): 1 when the port cannot be bound on the host. */
typedef int (*lab_busy_fn)(unsigned port, void *arg);

/* Fills every zero port (and any recorded one now taken) from from..to:
 * distinct across seats, never busy.  -1 when the range runs out. */
int lab_ports_assign(struct lab_ports *p, size_t n, unsigned from, unsigned to, lab_busy_fn busy,
                     void *arg, struct err *e);

/* The host test: 1 when TCP port cannot be bound on 127.0.0.1. */
int lab_port_busy(unsigned port, void *arg);

#endif
