/*
 * virt.c: libvirt verbs for inception (see virt.h).
 *
 * libvirt's default error handler prints to stderr; it is replaced by a
 * silent one, and each failure is turned into one message from
 * virGetLastErrorMessage().  Documents (pool, volume, network) come from
 * domxml.c.  Volume uploads stream the local file with virStreamSendAll, so
 * the bytes travel over the libvirt connection whatever host it points to.
 */
#include "virt.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domxml.h"
#include "jump.h"

static void silent_errors(void *arg, virErrorPtr err)
{
	(void)arg;
	(void)err;
}

static const char *lv_msg(void)
{
	const char *m = virGetLastErrorMessage();
	return m ? m : "unknown libvirt error";
}

static int lv_code(void)
{
	virErrorPtr err = virGetLastError();
	return err ? err->code : VIR_ERR_OK;
}

/* Turns a failed virConnectOpen into a message that names the fix. */
static int open_error(const char *uri, struct err *e)
{
	const char *m = lv_msg();
	int code = lv_code();

	if (strstr(m, "No such file or directory") || strstr(m, "Connection refused"))
		return err_set(e,
		               "cannot connect to %s: libvirtd is not running (%s). Start it: "
		               "`systemctl start libvirtd`, or without systemd `virtlogd -d && "
		               "libvirtd -d` as root",
		               uri, m);
	if (strstr(m, "Permission denied") || code == VIR_ERR_AUTH_FAILED ||
	    code == VIR_ERR_AUTH_CANCELLED || code == VIR_ERR_OPERATION_DENIED ||
	    code == VIR_ERR_AUTH_UNAVAILABLE)
		return err_set(e,
		               "cannot connect to %s: access denied (%s). Join the libvirt group "
		               "(`sudo adduser $USER libvirt`, then log in again) or use "
		               "libvirt.uri: qemu:///session",
		               uri, m);
	return err_set(e, "cannot connect to %s: %s", uri, m);
}

static int open_uri(const char *uri, struct virt *v, struct err *e)
{
	char *actual;

	if (jump_check(uri, e) < 0) /* a remote host's key, before libvirt's own ssh */
		return -1;
	v->conn = virConnectOpen(uri);
	if (v->conn == NULL)
		return open_error(uri, e);
	actual = virConnectGetURI(v->conn);
	snprintf(v->uri, sizeof(v->uri), "%s", actual ? actual : uri);
	free(actual);
	if (virConnectGetLibVersion(v->conn, &v->libver) < 0)
		v->libver = 0;
	/* "driver:///path" is local; "driver+ssh://host/path" is not */
	{
		const char *p = strstr(v->uri, "://");
		v->local = p != NULL && p[3] == '/';
	}
	v->system = strstr(v->uri, "/system") != NULL;
	return 0;
}

int virt_open(const char *uri, struct virt *v, struct err *e)
{
	struct err sys_err = {"", 0};

	memset(v, 0, sizeof(*v));
	virSetErrorFunc(NULL, silent_errors);
	if (virInitialize() < 0)
		return err_set(e, "libvirt initialisation failed");
	if (uri != NULL && uri[0] != '\0')
		return open_uri(uri, v, e);
	if (open_uri("qemu:///system", v, &sys_err) == 0)
		return 0;
	if (open_uri("qemu:///session", v, e) == 0)
		return 0;
	/* the system error is the useful one: session is the fallback */
	return err_set(e, "%s (qemu:///session failed too)", sys_err.msg);
}

void virt_close(struct virt *v)
{
	if (v->conn)
		virConnectClose(v->conn);
	v->conn = NULL;
}

int virt_pool_path(const struct virt *v, char *buf, size_t n, struct err *e)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int r;

	if (v->system || !v->local)
		r = snprintf(buf, n, "/var/lib/libvirt/images/inception");
	else if (data && data[0] == '/')
		r = snprintf(buf, n, "%s/libvirt/images/inception", data);
	else if (home && home[0] == '/')
		r = snprintf(buf, n, "%s/.local/share/libvirt/images/inception", home);
	else
		return err_set(e, "neither $XDG_DATA_HOME nor $HOME is set for the session pool");
	if (r < 0 || (size_t)r >= n)
		return err_set(e, "pool path too long");
	return 0;
}

int virt_pool_ensure(struct virt *v, const char *pool, const char *path, struct err *e)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(v->conn, pool);
	char *xml = NULL;
	int active, ret = -1;

	if (p == NULL) {
		if (domxml_pool(pool, path, &xml, e) < 0)
			return -1;
		p = virStoragePoolDefineXML(v->conn, xml, 0);
		/* another inception process may have defined it meanwhile */
		if (p == NULL)
			p = virStoragePoolLookupByName(v->conn, pool);
		if (p == NULL) {
			err_set(e, "define storage pool %s (%s): %s", pool, path, lv_msg());
			goto done;
		}
		virStoragePoolSetAutostart(p, 1);
	}
	active = virStoragePoolIsActive(p);
	if (active == 0) {
		if (virStoragePoolBuild(p, 0) < 0 && virStoragePoolIsActive(p) != 1) {
			/* build fails harmlessly when the directory exists */
		}
		if (virStoragePoolCreate(p, 0) < 0 && virStoragePoolIsActive(p) != 1) {
			err_set(e, "start storage pool %s: %s", pool, lv_msg());
			goto done;
		}
	} else if (active < 0) {
		err_set(e, "storage pool %s: %s", pool, lv_msg());
		goto done;
	}
	/* another up (a lab's next seat, another user of the pool) may be
	 * streaming a volume in: libvirt refuses to refresh until it ends */
	for (int waited = 0; virStoragePoolRefresh(p, 0) < 0; waited++) {
		if (strstr(lv_msg(), "asynchronous jobs running") == NULL || waited >= 600) {
			err_set(e, "refresh storage pool %s: %s", pool, lv_msg());
			goto done;
		}
		sleep(1);
	}
	ret = 0;
done:
	free(xml);
	if (p)
		virStoragePoolFree(p);
	return ret;
}

static virStoragePoolPtr pool_get(struct virt *v, const char *pool, struct err *e)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(v->conn, pool);

	if (p == NULL)
		err_set(e, "storage pool %s: %s", pool, lv_msg());
	return p;
}

int virt_vol_exists(struct virt *v, const char *pool, const char *vol, char *path, size_t n,
                    struct err *e)
{
	virStoragePoolPtr p = pool_get(v, pool, e);
	virStorageVolPtr sv;
	int ret = -1;

	if (p == NULL)
		return -1;
	sv = virStorageVolLookupByName(p, vol);
	if (sv == NULL) {
		if (lv_code() == VIR_ERR_NO_STORAGE_VOL)
			ret = 0;
		else
			err_set(e, "volume %s/%s: %s", pool, vol, lv_msg());
		goto done;
	}
	ret = 1;
	if (path) {
		char *vp = virStorageVolGetPath(sv);
		if (vp == NULL) {
			ret = err_set(e, "volume %s/%s: %s", pool, vol, lv_msg());
		} else {
			snprintf(path, n, "%s", vp);
			free(vp);
		}
	}
	virStorageVolFree(sv);
done:
	virStoragePoolFree(p);
	return ret;
}

struct upload_src {
	int fd;
	uint64_t done, total;
	virt_progress_fn progress;
	void *arg;
};

static int upload_read(virStreamPtr st, char *data, size_t nbytes, void *opaque)
{
	struct upload_src *u = opaque;
	ssize_t r;

	(void)st;
	do
		r = read(u->fd, data, nbytes);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		u->done += (uint64_t)r;
		if (u->progress)
			u->progress(u->done, u->total, u->arg);
	}
	return (int)r;
}

int virt_vol_upload(struct virt *v, const char *pool, const char *vol, const char *file,
                    const char *format, virt_progress_fn progress, void *arg, struct err *e)
{
	virStoragePoolPtr p = NULL;
	virStorageVolPtr sv = NULL;
	virStreamPtr st = NULL;
	struct upload_src u = {-1, 0, 0, progress, arg};
	struct stat sb;
	char *xml = NULL;
	int ret = -1;

	u.fd = open(file, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0 || fstat(u.fd, &sb) < 0) {
		err_set(e, "open %s: %s", file, strerror(errno));
		goto done;
	}
	u.total = (uint64_t)sb.st_size;
	p = pool_get(v, pool, e);
	if (p == NULL)
		goto done;
	if (domxml_volume(vol, u.total, format, NULL, &xml, e) < 0)
		goto done;
	sv = virStorageVolCreateXML(p, xml, 0);
	if (sv == NULL) {
		err_set(e, "create volume %s/%s: %s", pool, vol, lv_msg());
		goto done;
	}
	st = virStreamNew(v->conn, 0);
	if (st == NULL || virStorageVolUpload(sv, st, 0, u.total, 0) < 0) {
		err_set(e, "upload to volume %s/%s: %s", pool, vol, lv_msg());
		goto done;
	}
	if (virStreamSendAll(st, upload_read, &u) < 0) {
		err_set(e, "upload %s to volume %s/%s: %s", file, pool, vol, lv_msg());
		virStreamAbort(st);
		goto done;
	}
	if (virStreamFinish(st) < 0) {
		err_set(e, "finish upload to volume %s/%s: %s", pool, vol, lv_msg());
		goto done;
	}
	ret = 0;
done:
	if (st)
		virStreamFree(st);
	if (sv) {
		if (ret < 0)
			virStorageVolDelete(sv, 0);
		virStorageVolFree(sv);
	}
	if (p) {
		if (ret == 0)
			virStoragePoolRefresh(p, 0); /* probe the uploaded format */
		virStoragePoolFree(p);
	}
	if (u.fd >= 0)
		close(u.fd);
	free(xml);
	return ret;
}

int virt_vol_create(struct virt *v, const char *pool, const char *vol, uint64_t capacity,
                    const char *backing_vol, struct err *e)
{
	virStoragePoolPtr p = pool_get(v, pool, e);
	virStorageVolPtr sv = NULL;
	char backing[4096] = "";
	char *xml = NULL;
	int ret = -1;

	if (p == NULL)
		return -1;
	if (backing_vol) {
		int r = virt_vol_exists(v, pool, backing_vol, backing, sizeof(backing), e);
		if (r <= 0) {
			if (r == 0)
				err_set(e, "backing volume %s/%s does not exist", pool,
				        backing_vol);
			goto done;
		}
	}
	if (domxml_volume(vol, capacity, "qcow2", backing_vol ? backing : NULL, &xml, e) < 0)
		goto done;
	sv = virStorageVolCreateXML(p, xml, 0);
	if (sv == NULL) {
		err_set(e, "create volume %s/%s: %s", pool, vol, lv_msg());
		goto done;
	}
	ret = 0;
done:
	if (sv)
		virStorageVolFree(sv);
	virStoragePoolFree(p);
	free(xml);
	return ret;
}

int virt_vol_delete(struct virt *v, const char *pool, const char *vol, struct err *e)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(v->conn, pool);
	virStorageVolPtr sv;
	int ret = -1;

	if (p == NULL)
		return lv_code() == VIR_ERR_NO_STORAGE_POOL
		           ? 0
		           : err_set(e, "storage pool %s: %s", pool, lv_msg());
	sv = virStorageVolLookupByName(p, vol);
	if (sv == NULL) {
		if (lv_code() == VIR_ERR_NO_STORAGE_VOL)
			ret = 0;
		else
			err_set(e, "volume %s/%s: %s", pool, vol, lv_msg());
		goto done;
	}
	if (virStorageVolDelete(sv, 0) < 0)
		err_set(e, "delete volume %s/%s: %s", pool, vol, lv_msg());
	else
		ret = 0;
	virStorageVolFree(sv);
done:
	virStoragePoolFree(p);
	return ret;
}

/* string(xpath) evaluated on an XML document, into buf ("" if absent). */
static int xml_string(const char *xml, const char *xpath, char *buf, size_t n)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr obj = NULL;
	int ret = -1;

	buf[0] = '\0';
	if (doc == NULL)
		return -1;
	ctx = xmlXPathNewContext(doc);
	if (ctx)
		obj = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
	if (obj && obj->type == XPATH_STRING) {
		snprintf(buf, n, "%s", (const char *)obj->stringval);
		ret = 0;
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return ret;
}

int virt_vol_users(struct virt *v, const char *pool, const char *backing_vol, int *count,
                   struct err *e)
{
	virStoragePoolPtr p = pool_get(v, pool, e);
	virStorageVolPtr *vols = NULL;
	char base[4096], path[4096];
	int i, nv, ret = -1;

	*count = 0;
	if (p == NULL)
		return -1;
	i = virt_vol_exists(v, pool, backing_vol, base, sizeof(base), e);
	if (i <= 0) {
		ret = i; /* 0: no such volume, so no users */
		goto done;
	}
	nv = virStoragePoolListAllVolumes(p, &vols, 0);
	if (nv < 0) {
		err_set(e, "list volumes of %s: %s", pool, lv_msg());
		goto done;
	}
	for (i = 0; i < nv; i++) {
		char *xml = virStorageVolGetXMLDesc(vols[i], 0);
		if (xml &&
		    xml_string(xml, "string(/volume/backingStore/path)", path, sizeof(path)) == 0 &&
		    strcmp(path, base) == 0)
			(*count)++;
		free(xml);
		virStorageVolFree(vols[i]);
	}
	free(vols);
	ret = 0;
done:
	virStoragePoolFree(p);
	return ret;
}

static virDomainPtr dom_get(struct virt *v, const char *name, struct err *e)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);

	if (d == NULL)
		err_set(e, "domain %s: %s", name, lv_msg());
	return d;
}

const char *virt_dom_state_name(enum virt_dom_state st)
{
	switch (st) {
	case VIRT_DOM_ABSENT: return "absent";
	case VIRT_DOM_RUNNING: return "running";
	case VIRT_DOM_OFF: return "shut off";
	default: return "other";
	}
}

int virt_dom_state(struct virt *v, const char *name, enum virt_dom_state *st, struct err *e)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);
	int state = 0, reason = 0;

	*st = VIRT_DOM_OTHER;
	if (d == NULL) {
		if (lv_code() != VIR_ERR_NO_DOMAIN)
			return err_set(e, "domain %s: %s", name, lv_msg());
		*st = VIRT_DOM_ABSENT;
		return 0;
	}
	if (virDomainGetState(d, &state, &reason, 0) < 0) {
		err_set(e, "state of domain %s: %s", name, lv_msg());
		virDomainFree(d);
		return -1;
	}
	virDomainFree(d);
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED: *st = VIRT_DOM_RUNNING; break;
	case VIR_DOMAIN_SHUTOFF:
	case VIR_DOMAIN_CRASHED: *st = VIRT_DOM_OFF; break;
	default: *st = VIRT_DOM_OTHER; /* paused, shutting down, suspended */
	}
	return 0;
}

int virt_dom_define(struct virt *v, const char *xml, struct err *e)
{
	virDomainPtr d = virDomainDefineXML(v->conn, xml);

	if (d == NULL)
		return err_set(e, "define domain: %s", lv_msg());
	virDomainFree(d);
	return 0;
}

int virt_dom_start(struct virt *v, const char *name, struct err *e)
{
	virDomainPtr d = dom_get(v, name, e);
	int ret = 0;

	if (d == NULL)
		return -1;
	if (virDomainCreate(d) < 0)
		ret = err_set(e, "start domain %s: %s", name, lv_msg());
	virDomainFree(d);
	return ret;
}

int virt_dom_poweroff(struct virt *v, const char *name, struct err *e)
{
	enum virt_dom_state st;
	virDomainPtr d;
	int ret = 0;

	if (virt_dom_state(v, name, &st, e) < 0)
		return -1;
	if (st == VIRT_DOM_ABSENT || st == VIRT_DOM_OFF)
		return 0;
	d = dom_get(v, name, e);
	if (d == NULL)
		return -1;
	if (virDomainDestroy(d) < 0 && virDomainIsActive(d) == 1)
		ret = err_set(e, "power off domain %s: %s", name, lv_msg());
	virDomainFree(d);
	return ret;
}

int virt_dom_shutdown(struct virt *v, const char *name, int timeout_s, int *forced, struct err *e)
{
	enum virt_dom_state st;
	virDomainPtr d;
	long waited = 0;

	*forced = 0;
	if (virt_dom_state(v, name, &st, e) < 0)
		return -1;
	if (st == VIRT_DOM_ABSENT || st == VIRT_DOM_OFF)
		return 0;
	d = dom_get(v, name, e);
	if (d == NULL)
		return -1;
	/* ACPI power button; an early-boot guest may ignore it: we retry it */
	while (waited < (long)timeout_s * 1000) {
		if (waited % 10000 == 0 &&
		    virDomainShutdownFlags(d, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0)
			virDomainShutdown(d); /* drivers without the ACPI flag */
		if (virDomainIsActive(d) == 0)
			break;
		sleep_ms(500);
		waited += 500;
	}
	virDomainFree(d);
	if (virt_dom_state(v, name, &st, e) < 0)
		return -1;
	if (st == VIRT_DOM_OFF || st == VIRT_DOM_ABSENT)
		return 0;
	*forced = 1;
	return virt_dom_poweroff(v, name, e);
}

int virt_dom_remove(struct virt *v, const char *name, struct err *e)
{
	virDomainPtr d;
	int ret = 0;

	if (virt_dom_poweroff(v, name, e) < 0)
		return -1;
	d = virDomainLookupByName(v->conn, name);
	if (d == NULL)
		return lv_code() == VIR_ERR_NO_DOMAIN ? 0
		                                      : err_set(e, "domain %s: %s", name, lv_msg());
	if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
	                                  VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
	                                  VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA) < 0 &&
	    virDomainUndefine(d) < 0)
		ret = err_set(e, "undefine domain %s: %s", name, lv_msg());
	virDomainFree(d);
	return ret;
}

int virt_dom_uuid(struct virt *v, const char *name, char *buf, size_t n, struct err *e)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);
	char uuid[VIR_UUID_STRING_BUFLEN];
	int ret = 0;

	buf[0] = '\0';
	if (d == NULL)
		return lv_code() == VIR_ERR_NO_DOMAIN ? 0
		                                      : err_set(e, "domain %s: %s", name, lv_msg());
	if (virDomainGetUUIDString(d, uuid) < 0)
		ret = err_set(e, "domain %s: %s", name, lv_msg());
	else
		snprintf(buf, n, "%s", uuid);
	virDomainFree(d);
	return ret;
}

int virt_dom_type(struct virt *v, const char *name, char *buf, size_t n, struct err *e)
{
	virDomainPtr d = dom_get(v, name, e);
	char *xml;
	int ret = -1;

	if (d == NULL)
		return -1;
	xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	if (xml == NULL || xml_string(xml, "string(/domain/@type)", buf, n) < 0)
		err_set(e, "domain %s: cannot read its definition: %s", name, lv_msg());
	else
		ret = 0;
	free(xml);
	virDomainFree(d);
	return ret;
}

int virt_net_ensure(struct virt *v, const char *name, const char *bridge, const char *prefix,
                    struct err *e)
{
	virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	char *xml = NULL;
	int ret = -1;

	if (net == NULL) {
		if (domxml_network(name, bridge, prefix, &xml, e) < 0)
			return -1;
		net = virNetworkDefineXML(v->conn, xml);
		if (net == NULL)
			net = virNetworkLookupByName(v->conn, name);
		if (net == NULL) {
			err_set(e, "define network %s: %s", name, lv_msg());
			goto done;
		}
		virNetworkSetAutostart(net, 1);
	}
	if (virNetworkIsActive(net) == 0 && virNetworkCreate(net) < 0 &&
	    virNetworkIsActive(net) != 1) {
		err_set(e, "start network %s: %s", name, lv_msg());
		goto done;
	}
	ret = 0;
done:
	if (net)
		virNetworkFree(net);
	free(xml);
	return ret;
}

static int first_ipv4(virDomainPtr d, unsigned source, char *ip, size_t n)
{
	virDomainInterfacePtr *ifs = NULL;
	int i, j, nif = virDomainInterfaceAddresses(d, &ifs, source, 0);

	if (nif < 0)
		return -1;
	for (i = 0; i < nif; i++) {
		for (j = 0; j < (int)ifs[i]->naddrs; j++) {
			const virDomainIPAddress *a = &ifs[i]->addrs[j];
			if (ip[0] == '\0' && a->type == VIR_IP_ADDR_TYPE_IPV4 &&
			    strncmp(a->addr, "127.", 4) != 0)
				snprintf(ip, n, "%s", a->addr);
		}
		virDomainInterfaceFree(ifs[i]);
	}
	free(ifs);
	return 0;
}

int virt_dom_ipv4(struct virt *v, const char *name, const char *network, char *ip, size_t n,
                  struct err *e)
{
	virDomainPtr d = dom_get(v, name, e);

	(void)network;
	ip[0] = '\0';
	if (d == NULL)
		return -1;
	first_ipv4(d, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, ip, n);
	if (ip[0] == '\0')
		first_ipv4(d, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, ip, n);
	virDomainFree(d);
	return 0;
}

int virt_kvm_available(struct virt *v)
{
	char *caps;

	caps = virConnectGetDomainCapabilities(v->conn, NULL, "x86_64", NULL, "kvm", 0);
	if (caps == NULL)
		return 0;
	free(caps);
	return 1;
}

int virt_pool_refresh(struct virt *v, const char *pool, struct err *e)
{
	virStoragePoolPtr p = pool_get(v, pool, e);
	int ret = 0;

	if (p == NULL)
		return -1;
	if (virStoragePoolRefresh(p, 0) < 0)
		ret = err_set(e, "refresh storage pool %s: %s", pool, lv_msg());
	virStoragePoolFree(p);
	return ret;
}

int virt_vol_list(struct virt *v, const char *pool, const char *prefix, char ***names,
                  size_t *count, struct err *e)
{
	virStoragePoolPtr p = pool_get(v, pool, e);
	virStorageVolPtr *vols = NULL;
	char **out = NULL;
	size_t k = 0;
	int n, i, ret = -1;

	*names = NULL;
	*count = 0;
	if (p == NULL)
		return -1;
	n = virStoragePoolListAllVolumes(p, &vols, 0);
	if (n < 0) {
		err_set(e, "list volumes of %s: %s", pool, lv_msg());
		goto done;
	}
	out = calloc((size_t)n + 1, sizeof(*out));
	if (out == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		const char *name = virStorageVolGetName(vols[i]);

		if (name && strncmp(name, prefix, strlen(prefix)) == 0) {
			out[k] = strdup(name);
			if (out[k] == NULL) {
				err_set(e, "out of memory");
				goto done;
			}
			k++;
		}
	}
	*names = out;
	*count = k;
	out = NULL;
	ret = 0;
done:
	if (out) {
		for (i = 0; out[i]; i++)
			free(out[i]);
		free(out);
	}
	for (i = 0; vols && i < n; i++)
		virStorageVolFree(vols[i]);
	free(vols);
	virStoragePoolFree(p);
	return ret;
}

int virt_dom_fsfreeze(struct virt *v, const char *name, int freeze, struct err *e)
{
	virDomainPtr d = dom_get(v, name, e);
	int r;

	if (d == NULL)
		return -1;
	r = freeze ? virDomainFSFreeze(d, NULL, 0, 0) : virDomainFSThaw(d, NULL, 0, 0);
	virDomainFree(d);
	if (r < 0)
		return err_set(e, "%s the guest's filesystems (qemu-guest-agent): %s",
		               freeze ? "freeze" : "thaw", lv_msg());
	return r;
}

void virt_names_free(char **names)
{
	size_t i;

	for (i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}
