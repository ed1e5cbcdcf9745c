/*
 * domxml.h: the libvirt XML documents inception defines (domain, storage
 * pool, volumes, NAT network), written with libxml2's xmlwriter so that no
 * value is ever pasted into markup by hand.
 *
 * Pure functions: a spec in, a malloc'd XML string out.  The decisions that
 * go with them (which accelerator to try, how user-mode port forwards are
 * spelled for QEMU) live here too, so the unit tests cover them without a
 * hypervisor.
 */
#ifndef INCEPTION_DOMXML_H
#define INCEPTION_DOMXML_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

/* How user-mode networking is wired into the domain. */
enum usernet_backend {
	USERNET_QEMU_ARGS, /* <qemu:commandline> -netdev user,hostfwd=... (libvirt < 9.2) */
	USERNET_PASST,     /* <interface type='user'><backend type='passt'/><portForward> */
};

struct domspec {
	const char *name;
	const char *uuid;    /* keep the existing domain's UUID on redefinition; may be NULL */
	const char *domtype; /* "qemu" (TCG), "kvm", or "test" for the test driver */
	uint64_t memory;     /* bytes */
	int cpus;
	const char *pool;        /* storage pool holding the volumes */
	const char *disk_vol;    /* the overlay (qcow2) */
	const char *seed_vol;    /* the NoCloud ISO (raw), may be NULL */
	const char *docker_vol;  /* the Docker disk (qcow2, vdb, serial "docker"), may be NULL */
	const char *console_log; /* serial console log file, may be NULL */
	enum net_mode net;
	const char *network; /* NET_NAT: libvirt network name */
	enum usernet_backend usernet;
	const struct forward *forwards; /* NET_USER: host -> guest TCP forwards */
	size_t nforwards;
	const char *kernel, *initrd, *cmdline; /* direct kernel boot, all may be NULL */
};

/* The domain XML for spec.  *xml is malloc'd (free()). */
int domxml_domain(const struct domspec *s, char **xml, struct err *e);

/* A directory storage pool. */
int domxml_pool(const char *name, const char *path, char **xml, struct err *e);

/* A volume: format "qcow2" or "raw"; backing (path of the backing file,
 * qcow2) may be NULL. */
int domxml_volume(const char *name, uint64_t capacity, const char *format, const char *backing,
                  char **xml, struct err *e);

/* A NAT network with DHCP on a /24: net like "192.168.150" (first three
 * octets), bridge name like "virbr-incep". */
int domxml_network(const char *name, const char *bridge, const char *net, char **xml,
                   struct err *e);

/* One QEMU hostfwd rule, "tcp:127.0.0.1:2222-:22", into buf. */
int domxml_hostfwd(const struct forward *f, char *buf, size_t n, struct err *e);

/* libvirt versions (virConnectGetLibVersion: major*1e6+minor*1e3+micro)
 * from which the passt backend with <portForward> is usable. */
#define DOMXML_PASST_MIN_VERSION 9002000UL
enum usernet_backend domxml_usernet_for(unsigned long libvirt_version, int have_passt);

#endif
