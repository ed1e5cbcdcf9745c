/*
 * domxml.c: libvirt XML documents with libxml2's xmlwriter (see domxml.h).
 *
 * Every document is written element by element into an xmlBuffer; the
 * writer escapes attribute and text values, so names and paths coming from
 * the configuration can never change the structure.  Helpers return the
 * writer's status (< 0 on failure) and the public functions turn that into
 * one error message.
 */
#include "domxml.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

typedef xmlTextWriterPtr W;

static const xmlChar *X(const char *s)
{
	return (const xmlChar *)s;
}

static int start(W w, const char *el)
{
	return xmlTextWriterStartElement(w, X(el));
}

static int end(W w)
{
	return xmlTextWriterEndElement(w);
}

static int attr(W w, const char *name, const char *value)
{
	return xmlTextWriterWriteAttribute(w, X(name), X(value));
}

static int attrf(W w, const char *name, const char *fmt, unsigned long long v)
{
	return xmlTextWriterWriteFormatAttribute(w, X(name), fmt, v);
}

static int text_el(W w, const char *el, const char *text)
{
	return xmlTextWriterWriteElement(w, X(el), X(text));
}

/* <el a1='v1' [a2='v2']/> */
static int empty_el(W w, const char *el, const char *a1, const char *v1, const char *a2,
                    const char *v2)
{
	if (start(w, el) < 0 || attr(w, a1, v1) < 0)
		return -1;
	if (a2 && attr(w, a2, v2) < 0)
		return -1;
	return end(w);
}

/* Writer plumbing shared by every document. */
struct doc {
	xmlBufferPtr buf;
	W w;
};

static int doc_open(struct doc *d, struct err *e)
{
	d->buf = xmlBufferCreate();
	d->w = d->buf ? xmlNewTextWriterMemory(d->buf, 0) : NULL;
	if (d->w == NULL) {
		if (d->buf)
			xmlBufferFree(d->buf);
		return err_set(e, "xml writer: out of memory");
	}
	xmlTextWriterSetIndent(d->w, 1);
	xmlTextWriterSetIndentString(d->w, X("  "));
	return 0;
}

/* Ends the document; on success *xml is a malloc'd copy of it. */
static int doc_close(struct doc *d, int status, const char *what, char **xml, struct err *e)
{
	int ret = -1;

	if (status >= 0 && xmlTextWriterEndDocument(d->w) >= 0) {
		xmlFreeTextWriter(d->w);
		d->w = NULL;
		*xml = strdup((const char *)xmlBufferContent(d->buf));
		if (*xml != NULL)
			ret = 0;
		else
			err_set(e, "%s xml: out of memory", what);
	} else {
		err_set(e, "cannot write the %s xml", what);
	}
	if (d->w)
		xmlFreeTextWriter(d->w);
	xmlBufferFree(d->buf);
	return ret;
}

int domxml_hostfwd(const struct forward *f, char *buf, size_t n, struct err *e)
{
	int r;

	if (f->host_port == 0 || f->host_port > 65535 || f->guest_port == 0 ||
	    f->guest_port > 65535)
		return err_set(e, "invalid forward %u -> %u", f->host_port, f->guest_port);
	if (strpbrk(f->addr, ",:= ") != NULL)
		return err_set(e, "invalid forward address '%s'", f->addr);
	r = snprintf(buf, n, "tcp:%s:%u-:%u", f->addr[0] ? f->addr : "127.0.0.1", f->host_port,
	             f->guest_port);
	if (r < 0 || (size_t)r >= n)
		return err_set(e, "forward spec too long");
	return 0;
}

static int write_disk(W w, const char *device, const char *format, const char *pool,
                      const char *vol, const char *dev, const char *bus, int readonly)
{
	if (start(w, "disk") < 0 || attr(w, "type", "volume") < 0 || attr(w, "device", device) < 0)
		return -1;
	if (empty_el(w, "driver", "name", "qemu", "type", format) < 0)
		return -1;
	if (empty_el(w, "source", "pool", pool, "volume", vol) < 0)
		return -1;
	if (empty_el(w, "target", "dev", dev, "bus", bus) < 0)
		return -1;
	if (readonly && (start(w, "readonly") < 0 || end(w) < 0))
		return -1;
	return end(w);
}

static int write_passt(W w, const struct domspec *s)
{
	size_t i;

	if (start(w, "interface") < 0 || attr(w, "type", "user") < 0)
		return -1;
	if (empty_el(w, "backend", "type", "passt", NULL, NULL) < 0)
		return -1;
	if (empty_el(w, "model", "type", "virtio", NULL, NULL) < 0)
		return -1;
	for (i = 0; i < s->nforwards; i++) {
		const struct forward *f = &s->forwards[i];
		if (start(w, "portForward") < 0 || attr(w, "proto", "tcp") < 0 ||
		    attr(w, "address", f->addr[0] ? f->addr : "127.0.0.1") < 0)
			return -1;
		if (start(w, "range") < 0 || attrf(w, "start", "%llu", f->host_port) < 0 ||
		    attrf(w, "to", "%llu", f->guest_port) < 0 || end(w) < 0)
			return -1;
		if (end(w) < 0)
			return -1;
	}
	return end(w);
}

static int qemu_arg(W w, const char *v)
{
	if (xmlTextWriterStartElementNS(w, X("qemu"), X("arg"), NULL) < 0)
		return -1;
	if (attr(w, "value", v) < 0)
		return -1;
	return end(w);
}

static int write_qemu_usernet(W w, const struct domspec *s, struct err *e)
{
	char netdev[4096] = "user,id=inet0";
	size_t i, len = strlen(netdev);

	for (i = 0; i < s->nforwards; i++) {
		char fwd[128];
		int r;

		if (domxml_hostfwd(&s->forwards[i], fwd, sizeof(fwd), e) < 0)
			return -2;
		r = snprintf(netdev + len, sizeof(netdev) - len, ",hostfwd=%s", fwd);
		if (r < 0 || (size_t)r >= sizeof(netdev) - len) {
			err_set(e, "too many forwards");
			return -2;
		}
		len += (size_t)r;
	}
	if (xmlTextWriterStartElementNS(w, X("qemu"), X("commandline"), NULL) < 0)
		return -1;
	if (qemu_arg(w, "-netdev") < 0 || qemu_arg(w, netdev) < 0)
		return -1;
	/* an explicit slot on q35's root bus: libvirt's own devices use the
	 * low slots (root ports) and would collide with an automatic one */
	if (qemu_arg(w, "-device") < 0 ||
	    qemu_arg(w, "virtio-net-pci,netdev=inet0,bus=pcie.0,addr=0x10") < 0)
		return -1;
	return end(w);
}

/* Everything inside <domain>; returns < 0 on writer failure, -2 when e is set.
 * Longer than 60 lines: the domain's elements in the order libvirt's schema lists them. */
static int write_domain(W w, const struct domspec *s, struct err *e)
{
	int r;

	if (start(w, "domain") < 0 || attr(w, "type", s->domtype) < 0)
		return -1;
	if (s->net == NET_USER && s->usernet == USERNET_QEMU_ARGS &&
	    xmlTextWriterWriteAttributeNS(w, X("xmlns"), X("qemu"), NULL, X(QEMU_NS)) < 0)
		return -1;
	if (text_el(w, "name", s->name) < 0)
		return -1;
	if (s->uuid && text_el(w, "uuid", s->uuid) < 0)
		return -1;
	if (start(w, "memory") < 0 || attr(w, "unit", "KiB") < 0 ||
	    xmlTextWriterWriteFormatString(w, "%llu", (unsigned long long)(s->memory / 1024)) < 0 ||
	    end(w) < 0)
		return -1;
	if (start(w, "vcpu") < 0 || xmlTextWriterWriteFormatString(w, "%d", s->cpus) < 0 ||
	    end(w) < 0)
		return -1;
	/* os */
	if (start(w, "os") < 0)
		return -1;
	if (start(w, "type") < 0 || attr(w, "arch", "x86_64") < 0 ||
	    (strcmp(s->domtype, "test") != 0 && attr(w, "machine", "q35") < 0) ||
	    xmlTextWriterWriteString(w, X("hvm")) < 0 || end(w) < 0)
		return -1;
	if (s->kernel && text_el(w, "kernel", s->kernel) < 0)
		return -1;
	if (s->initrd && text_el(w, "initrd", s->initrd) < 0)
		return -1;
	if (s->cmdline && text_el(w, "cmdline", s->cmdline) < 0)
		return -1;
	if (!s->kernel && empty_el(w, "boot", "dev", "hd", NULL, NULL) < 0)
		return -1;
	if (end(w) < 0)
		return -1;
	/* ACPI so that `down` can ask the guest to power off */
	if (start(w, "features") < 0 || start(w, "acpi") < 0 || end(w) < 0 ||
	    start(w, "apic") < 0 || end(w) < 0 || end(w) < 0)
		return -1;
	if (strcmp(s->domtype, "kvm") == 0 &&
	    empty_el(w, "cpu", "mode", "host-passthrough", NULL, NULL) < 0)
		return -1;
	if (text_el(w, "on_poweroff", "destroy") < 0 || text_el(w, "on_reboot", "restart") < 0 ||
	    text_el(w, "on_crash", "destroy") < 0)
		return -1;

	if (start(w, "devices") < 0)
		return -1;
	if (write_disk(w, "disk", "qcow2", s->pool, s->disk_vol, "vda", "virtio", 0) < 0)
		return -1;
	if (s->seed_vol &&
	    write_disk(w, "cdrom", "raw", s->pool, s->seed_vol, "sda", "sata", 1) < 0)
		return -1;
	/* the Docker disk: the guest finds it as /dev/disk/by-id/virtio-docker */
	if (s->docker_vol && (start(w, "disk") < 0 || attr(w, "type", "volume") < 0 ||
	                      attr(w, "device", "disk") < 0 ||
	                      empty_el(w, "driver", "name", "qemu", "type", "qcow2") < 0 ||
	                      empty_el(w, "source", "pool", s->pool, "volume", s->docker_vol) < 0 ||
	                      empty_el(w, "target", "dev", "vdb", "bus", "virtio") < 0 ||
	                      text_el(w, "serial", "docker") < 0 || end(w) < 0))
		return -1;
	if (s->net == NET_NAT) {
		if (start(w, "interface") < 0 || attr(w, "type", "network") < 0 ||
		    empty_el(w, "source", "network", s->network, NULL, NULL) < 0 ||
		    empty_el(w, "model", "type", "virtio", NULL, NULL) < 0 || end(w) < 0)
			return -1;
	} else if (s->usernet == USERNET_PASST) {
		if (write_passt(w, s) < 0)
			return -1;
	}
	/* serial console, logged to a file by virtlogd */
	if (start(w, "serial") < 0 || attr(w, "type", "pty") < 0)
		return -1;
	if (s->console_log && empty_el(w, "log", "file", s->console_log, "append", "on") < 0)
		return -1;
	if (empty_el(w, "target", "port", "0", NULL, NULL) < 0 || end(w) < 0)
		return -1;
	if (start(w, "console") < 0 || attr(w, "type", "pty") < 0 ||
	    empty_el(w, "target", "type", "serial", "port", "0") < 0 || end(w) < 0)
		return -1;
	/* qemu-guest-agent channel (addresses in nat mode, clean shutdown) */
	if (start(w, "channel") < 0 || attr(w, "type", "unix") < 0 ||
	    empty_el(w, "target", "type", "virtio", "name", "org.qemu.guest_agent.0") < 0 ||
	    end(w) < 0)
		return -1;
	/* entropy for the guest's first boot (key generation under TCG) */
	if (start(w, "rng") < 0 || attr(w, "model", "virtio") < 0 || start(w, "backend") < 0 ||
	    attr(w, "model", "random") < 0 || xmlTextWriterWriteString(w, X("/dev/urandom")) < 0 ||
	    end(w) < 0 || end(w) < 0)
		return -1;
	if (end(w) < 0) /* devices */
		return -1;
	if (s->net == NET_USER && s->usernet == USERNET_QEMU_ARGS) {
		r = write_qemu_usernet(w, s, e);
		if (r < 0)
			return r;
	}
	return end(w); /* domain */
}

int domxml_domain(const struct domspec *s, char **xml, struct err *e)
{
	struct doc d;
	int r;

	if (s->name == NULL || s->domtype == NULL || s->pool == NULL || s->disk_vol == NULL)
		return err_set(e, "domain xml: name, type, pool and disk are required");
	if (s->net == NET_NAT && s->network == NULL)
		return err_set(e, "domain xml: nat mode needs a network name");
	if (s->cpus < 1 || s->memory < 1024ULL * 1024)
		return err_set(e, "domain xml: invalid cpus or memory");
	if (doc_open(&d, e) < 0)
		return -1;
	r = write_domain(d.w, s, e);
	if (r == -2) {
		xmlFreeTextWriter(d.w);
		xmlBufferFree(d.buf);
		return -1;
	}
	return doc_close(&d, r, "domain", xml, e);
}

int domxml_pool(const char *name, const char *path, char **xml, struct err *e)
{
	struct doc d;
	W w;
	int r = -1;

	if (doc_open(&d, e) < 0)
		return -1;
	w = d.w;
	if (start(w, "pool") < 0 || attr(w, "type", "dir") < 0 || text_el(w, "name", name) < 0 ||
	    start(w, "target") < 0 || text_el(w, "path", path) < 0)
		goto done;
	if (start(w, "permissions") < 0 || text_el(w, "mode", "0711") < 0 || end(w) < 0)
		goto done;
	if (end(w) < 0) /* target */
		goto done;
	r = end(w) < 0 ? -1 : 0; /* pool */
done:
	return doc_close(&d, r, "pool", xml, e);
}

int domxml_volume(const char *name, uint64_t capacity, const char *format, const char *backing,
                  char **xml, struct err *e)
{
	struct doc d;
	W w;
	int r = -1;

	if (doc_open(&d, e) < 0)
		return -1;
	w = d.w;
	if (start(w, "volume") < 0 || text_el(w, "name", name) < 0)
		goto done;
	if (start(w, "capacity") < 0 || attr(w, "unit", "bytes") < 0 ||
	    xmlTextWriterWriteFormatString(w, "%llu", (unsigned long long)capacity) < 0 ||
	    end(w) < 0)
		goto done;
	if (start(w, "target") < 0 || empty_el(w, "format", "type", format, NULL, NULL) < 0 ||
	    end(w) < 0)
		goto done;
	if (backing && (start(w, "backingStore") < 0 || text_el(w, "path", backing) < 0 ||
	                empty_el(w, "format", "type", "qcow2", NULL, NULL) < 0 || end(w) < 0))
		goto done;
	r = end(w);
done:
	return doc_close(&d, r, "volume", xml, e);
}

int domxml_network(const char *name, const char *bridge, const char *net, char **xml, struct err *e)
{
	struct doc d;
	W w;
	char a[64], lo[64], hi[64];
	int r = -1;

	if (snprintf(a, sizeof(a), "%s.1", net) >= (int)sizeof(a) ||
	    snprintf(lo, sizeof(lo), "%s.100", net) >= (int)sizeof(lo) ||
	    snprintf(hi, sizeof(hi), "%s.254", net) >= (int)sizeof(hi))
		return err_set(e, "network prefix too long: %s", net);
	if (doc_open(&d, e) < 0)
		return -1;
	w = d.w;
	if (start(w, "network") < 0 || text_el(w, "name", name) < 0 ||
	    empty_el(w, "forward", "mode", "nat", NULL, NULL) < 0 ||
	    empty_el(w, "bridge", "name", bridge, "stp", "on") < 0)
		goto done;
	if (start(w, "ip") < 0 || attr(w, "address", a) < 0 ||
	    attr(w, "netmask", "255.255.255.0") < 0 || start(w, "dhcp") < 0 ||
	    empty_el(w, "range", "start", lo, "end", hi) < 0 || end(w) < 0 || end(w) < 0)
		goto done;
	r = end(w);
done:
	return doc_close(&d, r, "network", xml, e);
}

enum usernet_backend domxml_usernet_for(unsigned long libvirt_version, int have_passt)
{
	return libvirt_version >= DOMXML_PASST_MIN_VERSION && have_passt ? USERNET_PASST
	                                                                 : USERNET_QEMU_ARGS;
}
