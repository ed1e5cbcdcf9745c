/*
 * config.c: the configuration, from defaults, a YAML file, the environment
 * and flags (see config.h).
 *
 * One table lists every key: its YAML path, its flag, its type and where it
 * lives in struct config.  The YAML file is loaded as a libyaml document so
 * every node keeps its line and column; the loader walks the mappings,
 * resolves each leaf to a table entry and hands the scalar to the same
 * setter the environment and the flags use, so a value is validated the same
 * way wherever it comes from.  Errors read "FILE:LINE:COL: key: problem".
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util.h"

#define DEFAULT_IMAGE_URL                                                                          \
	"https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2"
#define DEFAULT_IMAGE_SUMS "https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS"
#define DEFAULT_MIRROR "http://deb.debian.org/debian"

#define KiB ((uint64_t)1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

enum ktype {
	T_STR,
	T_LOGIN,
	T_NAME,
	T_INT,
	T_SIZE,
	T_URL,
	T_APT_URL,
	T_SUITE,
	T_URI,
	T_ENUM,
	T_FWD,
	T_PATH,
	T_FILE,
	T_BOOL
};

struct key {
	const char *name; /* YAML path */
	const char *flag; /* long flag without "--" */
	enum ktype type;
	size_t off;                 /* offsetof in struct config */
	long long min, max;         /* T_INT, T_SIZE */
	const char *const *choices; /* T_ENUM, NULL-terminated */
	const char *doc;
};

static const char *const net_modes[] = {"user", "nat", NULL};
static const char *const accels[] = {"auto", "kvm", "tcg", NULL};
static const char *const docker_sources[] = {"debian", "docker", NULL};

#define OFF(f) offsetof(struct config, f)

static const struct key KEYS[] = {
    {"login", "login", T_LOGIN, OFF(login), 0, 0, NULL,
     "42 login: the guest user, LOGIN.42.fr, /home/LOGIN/data"},
    {"vm.name", "name", T_NAME, OFF(vm_name), 0, 0, NULL, "libvirt domain name"},
    {"vm.cpus", "cpus", T_INT, OFF(cpus), 1, 64, NULL, "virtual CPUs"},
    {"vm.memory", "memory", T_SIZE, OFF(memory), (long long)(512 * MiB), (long long)(256 * GiB),
     NULL, "memory, e.g. 4G"},
    {"vm.disk", "disk", T_SIZE, OFF(disk), (long long)(4 * GiB), (long long)(2 * TiB), NULL,
     "disk size (copy-on-write overlay), e.g. 20G"},
    {"image.url", "image-url", T_URL, OFF(image_url), 0, 0, NULL,
     "cloud image (qcow2) to download"},
    {"image.checksums", "image-checksums", T_URL, OFF(image_checksums), 0, 0, NULL,
     "SHA512SUMS file the image is verified against"},
    {"image.build", "image-build", T_SUITE, OFF(image_build), 0, 0, NULL,
     "build the image from the Debian mirror for this suite instead (e.g. trixie)"},
    {"libvirt.uri", "uri", T_URI, OFF(libvirt_uri), 0, 0, NULL,
     "libvirt connection URI (default qemu:///system if usable, else qemu:///session); "
     "transports qemu, qemu+ssh, qemu+libssh, qemu+tls, qemu+unix, test"},
    {"network.mode", "network", T_ENUM, OFF(net_mode), 0, 0, net_modes,
     "user (127.0.0.1 port forwards) or nat (libvirt network)"},
    {"network.forwards", "forward", T_FWD, OFF(forwards), 0, 0, NULL,
     "[ADDR:]HOSTPORT:GUESTPORT list (user mode); ADDR defaults to 127.0.0.1"},
    {"accel", "accel", T_ENUM, OFF(accel), 0, 0, accels,
     "auto (KVM, falling back to TCG), kvm or tcg"},
    {"apt.mirror", "apt-mirror", T_APT_URL, OFF(apt_mirror), 0, 0, NULL,
     "Debian mirror for the image build and the guest"},
    {"apt.proxy", "apt-proxy", T_APT_URL, OFF(apt_proxy), 0, 0, NULL, "HTTP proxy for apt"},
    {"docker.source", "docker-source", T_ENUM, OFF(docker_source), 0, 0, docker_sources,
     "debian (Debian's packages) or docker (Docker's apt repository)"},
    {"project", "project", T_STR, OFF(project), 0, 0, NULL,
     "the project up and push run: a directory or a git URL (default: the current "
     "directory if it is an Inception project, else the bundled stack)"},
    {"push.dir", "push-dir", T_PATH, OFF(remote_dir), 0, 0, NULL,
     "where the tree goes in the guest (default /home/LOGIN/inception)"},
    {"host.map_domain", "map-domain", T_BOOL, OFF(map_domain), 0, 0, NULL,
     "true: map LOGIN.42.fr to the VM in host.hosts_file (needs root; destroy undoes it)"},
    {"host.hosts_file", "hosts-file", T_FILE, OFF(hosts_file), 0, 0, NULL,
     "the host's hosts file host.map_domain edits (an existing file; a symlink's target is "
     "edited)"},
    {"timeouts.ssh", "ssh-timeout", T_INT, OFF(ssh_timeout), 10, 7200, NULL,
     "seconds to wait for SSH after boot"},
    {"timeouts.cloud_init", "cloud-init-timeout", T_INT, OFF(cloud_init_timeout), 10, 7200, NULL,
     "seconds to wait for cloud-init to finish"},
    {"timeouts.agent", "agent-timeout", T_INT, OFF(agent_timeout), 60, 14400, NULL,
     "seconds each guest command may take (agent run, push listing, probe); then exit 4"},
};
#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

static const char *KEY_NAMES[NKEYS + 1];

const char *const *config_keys(void)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		KEY_NAMES[i] = KEYS[i].name;
	KEY_NAMES[NKEYS] = NULL;
	return KEY_NAMES;
}

const char *config_key_flag(const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(KEYS[i].name, key) == 0)
			return KEYS[i].flag;
	return NULL;
}

const char *config_key_doc(const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(KEYS[i].name, key) == 0)
			return KEYS[i].doc;
	return NULL;
}

const char *net_mode_name(enum net_mode m)
{
	return net_modes[m];
}
const char *accel_name(enum accel a)
{
	return accels[a];
}
const char *docker_source_name(enum docker_source d)
{
	return docker_sources[d];
}

/* ---- parsers ---------------------------------------------------------- */

static void fmt_size(char *buf, size_t n, uint64_t v)
{
	if (v % TiB == 0 && v >= TiB)
		snprintf(buf, n, "%lluT", (unsigned long long)(v / TiB));
	else if (v % GiB == 0 && v >= GiB)
		snprintf(buf, n, "%lluG", (unsigned long long)(v / GiB));
	else if (v % MiB == 0 && v >= MiB)
		snprintf(buf, n, "%lluM", (unsigned long long)(v / MiB));
	else if (v % KiB == 0 && v >= KiB)
		snprintf(buf, n, "%lluK", (unsigned long long)(v / KiB));
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* Longer than 60 lines: the number, the suffix and the overflow checks of one size, each with its
 * own message. */
int parse_size(const char *s, uint64_t *out, struct err *e)
{
	const char *p = s;
	uint64_t whole = 0, frac = 0, fdiv = 1, mult = 1;
	bool digits = false;

	while (isdigit((unsigned char)*p)) {
		if (whole > (UINT64_MAX - 9) / 10)
			goto bad;
		whole = whole * 10 + (uint64_t)(*p++ - '0');
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (fdiv < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
			p++;
			digits = true;
		}
	}
	if (!digits)
		goto bad;
	while (*p == ' ')
		p++;
	switch (toupper((unsigned char)*p)) {
	case '\0': mult = 1; break;
	case 'K':
		mult = KiB;
		p++;
		break;
	case 'M':
		mult = MiB;
		p++;
		break;
	case 'G':
		mult = GiB;
		p++;
		break;
	case 'T':
		mult = TiB;
		p++;
		break;
	default: goto bad;
	}
	if (mult > 1) {
		if (*p == 'i')
			p++;
		if (*p == 'B' || *p == 'b')
			p++;
	}
	if (*p != '\0')
		goto bad;
	if (whole > UINT64_MAX / mult)
		goto bad;
	*out = whole * mult + frac * mult / fdiv;
	return 0;
bad:
	return err_set(
	    e, "invalid size \"%s\" (a number with an optional K, M, G or T suffix, e.g. 2G)", s);
}

int parse_login(const char *s, struct err *e)
{
	size_t n = strlen(s), i;

	/* a leading letter: a login is passed to useradd and usermod, where
	 * "-x" would be an option */
	if (n < 1 || n > CONFIG_LOGIN_MAX || !islower((unsigned char)s[0]))
		goto bad;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			goto bad;
	return 0;
bad:
	return err_set(e,
	               "\"%s\" is not a 42 login (1-32 characters: lowercase letters, digits, '-', "
	               "starting with a letter)",
	               s);
}

static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '[' ||
	       c == ']' || c == ':' || c == '%' || c == '@';
}

int parse_url(const char *s, struct err *e)
{
	const char *rest = NULL, *p;

	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else if (strncmp(s, "file:///", 8) == 0)
		return s[8] ? 0 : err_set(e, "\"%s\" is not a valid URL (no path)", s);
	if (rest == NULL)
		return err_set(e, "\"%s\" is not a valid URL (use http://, https:// or file:///)",
		               s);
	if (*rest == '\0' || *rest == '/' || *rest == ':')
		return err_set(e, "\"%s\" is not a valid URL (no host)", s);
	for (p = rest; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (!host_char_ok(*p))
			return err_set(e, "\"%s\" is not a valid URL (bad character in host)", s);
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return err_set(e, "\"%s\" is not a valid URL (space or control character)",
			               s);
	return 0;
}

/* An apt URL goes into apt.conf ("Acquire::http::Proxy \"URL\";", written by
 * cloud-init) and deb822 sources: only RFC 3986 characters (unreserved,
 * reserved, %XX escapes), and not ';', which ends an apt.conf statement. */
static int parse_apt_url(const char *s, struct err *e)
{
	static const char extra[] = "-._~:/?#[]@!$&'()*+,=";
	const char *p;

	if (parse_url(s, e) < 0)
		return -1;
	for (p = s; *p; p++) {
		if (isalnum((unsigned char)*p) || strchr(extra, *p) != NULL)
			continue;
		if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			p += 2;
			continue;
		}
		return err_set(
		    e,
		    "\"%s\" is not a valid apt URL ('%c' is not allowed: letters, digits, "
		    "%%XX and -._~:/?#[]@!$&'()*+,= only)",
		    s, *p);
	}
	return 0;
}

static int parse_port(const char *s, const char *end, unsigned *out)
{
	unsigned long v = 0;
	const char *p;

	if (s == end || end - s > 5)
		return -1;
	for (p = s; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int parse_forward(const char *s, struct forward *f, struct err *e)
{
	const char *last = strrchr(s, ':');
	const char *mid;
	size_t alen;

	if (last == NULL)
		goto bad;
	if (parse_port(last + 1, last + strlen(last), &f->guest_port) < 0)
		goto bad;
	/* the host port is the part before the last ':' and after the one before */
	mid = last;
	while (mid > s && mid[-1] != ':')
		mid--;
	if (parse_port(mid, last, &f->host_port) < 0)
		goto bad;
	if (mid == s) {
		snprintf(f->addr, sizeof(f->addr), "127.0.0.1");
		return 0;
	}
	alen = (size_t)(mid - 1 - s);
	if (alen == 0 || alen >= sizeof(f->addr))
		goto bad;
	memcpy(f->addr, s, alen);
	f->addr[alen] = '\0';
	if (f->addr[0] == '[' && f->addr[alen - 1] == ']') {
		memmove(f->addr, f->addr + 1, alen - 2);
		f->addr[alen - 2] = '\0';
	}
	{
		unsigned char a[sizeof(struct in6_addr)];

		if (inet_pton(AF_INET, f->addr, a) != 1 && inet_pton(AF_INET6, f->addr, a) != 1)
			return err_set(
			    e,
			    "\"%s\" is not a port forward (\"%s\" is not an IPv4 or IPv6 "
			    "address)",
			    s, f->addr);
	}
	return 0;
bad:
	return err_set(e, "\"%s\" is not a port forward ([ADDR:]HOSTPORT:GUESTPORT, ports 1-65535)",
	               s);
}

/* ---- key lookup and did-you-mean ---------------------------------------- */

static const struct key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(KEYS[i].name, name) == 0)
			return &KEYS[i];
	return NULL;
}

static size_t key_index(const struct key *k)
{
	return (size_t)(k - KEYS);
}

/* Is `prefix` the beginning of a key path ("vm" for "vm.cpus")? */
static bool is_section(const char *prefix)
{
	size_t n = strlen(prefix), i;

	for (i = 0; i < NKEYS; i++)
		if (strncmp(KEYS[i].name, prefix, n) == 0 && KEYS[i].name[n] == '.')
			return true;
	return false;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[128];

	if (lb >= 127 || la >= 127)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost =
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
			        ? 0
			        : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static const char *did_you_mean(const char *name)
{
	const char *best = NULL;
	size_t bestd = 4, i;

	for (i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(name, KEYS[i].name);
		if (d < bestd) {
			bestd = d;
			best = KEYS[i].name;
		}
	}
	return best;
}

static int unknown_key(const char *where, const char *name, struct err *e)
{
	const char *hint = did_you_mean(name);

	if (hint)
		return err_set(e, "%s: %s: unknown key (did you mean %s?)", where, name, hint);
	return err_set(e, "%s: %s: unknown key (see `inception config --keys`)", where, name);
}

/* ---- defaults, setting, freeing ------------------------------------------ */

static char **str_field(struct config *c, const struct key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? strdup(v) : NULL;
}

void config_defaults(struct config *c)
{
	const char *user = getenv("USER");
	struct err e;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->login = strdup(user && parse_login(user, &e) == 0 ? user : "student");
	c->vm_name = strdup("inception");
	c->cpus = 2;
	c->memory = 4 * GiB;
	c->disk = 20 * GiB;
	c->image_url = strdup(DEFAULT_IMAGE_URL);
	c->image_checksums = strdup(DEFAULT_IMAGE_SUMS);
	c->image_build = NULL;
	c->libvirt_uri = NULL;
	c->net_mode = NET_USER;
	parse_forward("127.0.0.1:2222:22", &c->forwards[0], &e);
	parse_forward("127.0.0.1:8443:443", &c->forwards[1], &e);
	c->nforwards = 2;
	c->accel = ACCEL_AUTO;
	c->apt_mirror = strdup(DEFAULT_MIRROR);
	c->apt_proxy = NULL;
	c->docker_source = DOCKER_DEBIAN;
	c->remote_dir = NULL;
	c->project = NULL;
	c->map_domain = 0;
	c->hosts_file = strdup("/etc/hosts");
	c->ssh_timeout = 600;
	c->cloud_init_timeout = 900;
	c->agent_timeout = 3600;
	for (i = 0; i < NKEYS; i++) {
		c->origin[i].kind = ORIGIN_DEFAULT;
		snprintf(c->origin[i].where, sizeof(c->origin[i].where), "default");
	}
}

void config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		switch (KEYS[i].type) {
		case T_STR:
		case T_LOGIN:
		case T_NAME:
		case T_URL:
		case T_APT_URL:
		case T_SUITE:
		case T_URI:
		case T_PATH:
		case T_FILE: set_str(str_field(c, &KEYS[i]), NULL); break;
		default: break;
		}
	}
	free(c->config_file);
	c->config_file = NULL;
}

static int check_range(const struct key *k, long long v, const char *shown, struct err *e)
{
	char lo[32], hi[32];

	if (v >= k->min && v <= k->max)
		return 0;
	if (k->type == T_SIZE) {
		fmt_size(lo, sizeof(lo), (uint64_t)k->min);
		fmt_size(hi, sizeof(hi), (uint64_t)k->max);
	} else {
		snprintf(lo, sizeof(lo), "%lld", k->min);
		snprintf(hi, sizeof(hi), "%lld", k->max);
	}
	return err_set(e, "%s is out of range (%s..%s)", shown, lo, hi);
}

static int parse_int(const char *s, long long *out)
{
	char *end;
	long long v;

	if (!*s || !(isdigit((unsigned char)*s) || *s == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int check_name(const char *s, struct err *e)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 48)
		goto bad;
	if (!isalnum((unsigned char)s[0]))
		goto bad;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			goto bad;
	return 0;
bad:
	return err_set(e,
	               "\"%s\" is not a valid VM name (1-48 characters: letters, digits, '-', '_', "
	               "'.', starting with a letter or digit)",
	               s);
}

static int check_suite(const char *s, struct err *e)
{
	size_t n = strlen(s), i;

	if (n < 2 || n > 20)
		goto bad;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]))
			goto bad;
	return 0;
bad:
	return err_set(e, "\"%s\" is not a Debian suite name (e.g. trixie)", s);
}

/* The libvirt transports we support and test.  Others are refused: with
 * qemu+ext the URI's command= parameter is a program libvirt runs. */
static const char *const uri_schemes[] = {"qemu",      "qemu+ssh", "qemu+libssh", "qemu+tls",
                                          "qemu+unix", "test",     NULL};

static int check_uri(const char *s, struct err *e)
{
	const char *p = strstr(s, ":/");
	size_t i;

	if (p == NULL || p == s)
		goto bad;
	for (i = 0; s + i < p; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '+'))
			goto bad;
	for (; s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			goto bad;
	for (i = 0; uri_schemes[i]; i++)
		if (strlen(uri_schemes[i]) == (size_t)(p - s) &&
		    strncmp(s, uri_schemes[i], (size_t)(p - s)) == 0)
			return 0;
	return err_set(e,
	               "\"%s\": transport %.*s is not supported (use qemu, qemu+ssh, qemu+libssh, "
	               "qemu+tls, qemu+unix or test)",
	               s, (int)(p - s), s);
bad:
	return err_set(
	    e, "\"%s\" is not a libvirt URI (e.g. qemu:///system, qemu+ssh://host/system)", s);
}

static int check_path(const char *s, struct err *e)
{
	size_t i;

	if (s[0] != '/')
		return err_set(e, "\"%s\" is not an absolute path", s);
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < ' ' || s[i] == '\'' || s[i] == '"' || s[i] == '\\')
			return err_set(e, "\"%.60s\" has a character not allowed in a path here",
			               s);
	return 0;
}

/* A file to edit in place: it must exist and be a regular file, or a
 * symlink to one (its target is what gets edited). */
static int check_file(const char *s, struct err *e)
{
	struct stat st;

	if (check_path(s, e) < 0)
		return -1;
	if (stat(s, &st) < 0)
		return err_set(e, "\"%s\": %s (an existing file is needed)", s, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, "\"%s\" is not a regular file (nor a symlink to one)", s);
	return 0;
}

/* Sets one scalar key.  append: for forwards, add to the list rather than
 * replace it (repeated flags).  Errors carry no location: the caller adds it.
 * Longer than 60 lines: one case per value type of the key table. */
static int set_value(struct config *c, const struct key *k, const char *v, bool append,
                     struct err *e)
{
	uint64_t sz = 0;
	long long iv = 0;
	char shown[64];

	switch (k->type) {
	case T_LOGIN:
		if (parse_login(v, e) < 0)
			return -1;
		break;
	case T_NAME:
		if (check_name(v, e) < 0)
			return -1;
		break;
	case T_URL:
		if (parse_url(v, e) < 0)
			return -1;
		break;
	case T_APT_URL:
		if (parse_apt_url(v, e) < 0)
			return -1;
		break;
	case T_FILE:
		if (check_file(v, e) < 0)
			return -1;
		break;
	case T_SUITE:
		if (check_suite(v, e) < 0)
			return -1;
		break;
	case T_URI:
		if (check_uri(v, e) < 0)
			return -1;
		break;
	case T_PATH:
		if (check_path(v, e) < 0)
			return -1;
		break;
	case T_STR: break;
	case T_INT:
		if (parse_int(v, &iv) < 0)
			return err_set(e, "expected an integer, got \"%s\"", v);
		if (check_range(k, iv, v, e) < 0)
			return -1;
		*(int *)(void *)((char *)c + k->off) = (int)iv;
		return 0;
	case T_SIZE:
		if (parse_size(v, &sz, e) < 0)
			return -1;
		if (sz > (uint64_t)LLONG_MAX)
			sz = (uint64_t)LLONG_MAX;
		snprintf(shown, sizeof(shown), "%s", v);
		if (check_range(k, (long long)sz, shown, e) < 0)
			return -1;
		*(uint64_t *)(void *)((char *)c + k->off) = sz;
		return 0;
	case T_BOOL: {
		static const char *const yes[] = {"true", "yes", "on", NULL};
		static const char *const no[] = {"false", "no", "off", NULL};
		int i;

		for (i = 0; yes[i]; i++)
			if (strcasecmp(v, yes[i]) == 0) {
				*(int *)(void *)((char *)c + k->off) = 1;
				return 0;
			}
		for (i = 0; no[i]; i++)
			if (strcasecmp(v, no[i]) == 0) {
				*(int *)(void *)((char *)c + k->off) = 0;
				return 0;
			}
		return err_set(e, "expected true or false, got \"%s\"", v);
	}
	case T_ENUM: {
		int i;
		char list[128] = "";
		for (i = 0; k->choices[i]; i++)
			if (strcmp(k->choices[i], v) == 0) {
				*(int *)(void *)((char *)c + k->off) = i;
				return 0;
			}
		for (i = 0; k->choices[i]; i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, k->choices[i], sizeof(list) - strlen(list) - 1);
		}
		return err_set(e, "\"%s\" is not one of %s", v, list);
	}
	case T_FWD: {
		struct forward f;
		if (parse_forward(v, &f, e) < 0)
			return -1;
		if (!append)
			c->nforwards = 0;
		if (c->nforwards >= CONFIG_MAX_FORWARDS)
			return err_set(e, "too many forwards (at most %d)", CONFIG_MAX_FORWARDS);
		c->forwards[c->nforwards++] = f;
		return 0;
	}
	}
	set_str(str_field(c, k), v);
	/* image.url and image.build are the two ways to get an image: the one
	 * set last wins, so a file's `build:` overrides the default url. */
	if (strcmp(k->name, "image.build") == 0) {
		set_str(&c->image_url, NULL);
		set_str(&c->image_checksums, NULL);
	} else if (strcmp(k->name, "image.url") == 0) {
		set_str(&c->image_build, NULL);
	}
	return 0;
}

static void set_origin(struct config *c, const struct key *k, int kind, const char *where)
{
	struct origin *o = &c->origin[key_index(k)];

	o->kind = kind;
	snprintf(o->where, sizeof(o->where), "%s", where);
	/* keep the image pair's origins consistent with set_value */
	if (strcmp(k->name, "image.build") == 0 || strcmp(k->name, "image.url") == 0) {
		const char *other[] = {"image.url", "image.checksums", "image.build"};
		for (size_t i = 0; i < 3; i++) {
			const struct key *ok = find_key(other[i]);
			if (ok != k && !(strcmp(k->name, "image.url") == 0 &&
			                 ok == find_key("image.checksums"))) {
				c->origin[key_index(ok)].kind = kind;
				snprintf(c->origin[key_index(ok)].where, sizeof(o->where),
				         "%s (cleared by %s)", where, k->name);
			}
		}
	}
}

int config_set(struct config *c, const char *key, const char *value, const char *where,
               struct err *e)
{
	const struct key *k = find_key(key);
	bool append;

	if (k == NULL)
		return unknown_key(where, key, e);
	/* a repeated flag (--forward) appends after its first use */
	append = k->type == T_FWD && c->origin[key_index(k)].kind == ORIGIN_FLAG;
	if (set_value(c, k, value, append, e) < 0)
		return err_wrap(e, "%s", where);
	set_origin(c, k, ORIGIN_FLAG, where);
	return 0;
}

/* ---- environment --------------------------------------------------------- */

static void env_name(const struct key *k, char *buf, size_t n)
{
	size_t i, j = 0;

	j = (size_t)snprintf(buf, n, "INCEPTION_");
	for (i = 0; k->name[i] && j + 1 < n; i++)
		buf[j++] = k->name[i] == '.' ? '_' : (char)toupper((unsigned char)k->name[i]);
	buf[j] = '\0';
}

int config_load_env(struct config *c, char *const *envp, struct err *e)
{
	size_t i;
	char name[64], where[96];

	if (envp == NULL)
		return 0;
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &KEYS[i];
		size_t nl;
		env_name(k, name, sizeof(name));
		nl = strlen(name);
		for (char *const *p = envp; *p; p++) {
			if (strncmp(*p, name, nl) != 0 || (*p)[nl] != '=')
				continue;
			snprintf(where, sizeof(where), "environment %s", name);
			if (k->type == T_FWD) {
				/* comma-separated list */
				char *copy = strdup(*p + nl + 1), *save = NULL, *tok;
				bool first = true;
				int r = 0;
				for (tok = strtok_r(copy, ",", &save); tok && r == 0;
				     tok = strtok_r(NULL, ",", &save)) {
					r = set_value(c, k, tok, !first, e);
					first = false;
				}
				free(copy);
				if (r < 0)
					return err_wrap(e, "%s: %s", where, k->name);
			} else if (set_value(c, k, *p + nl + 1, false, e) < 0) {
				return err_wrap(e, "%s: %s", where, k->name);
			}
			set_origin(c, k, ORIGIN_ENV, where);
		}
	}
	return 0;
}

/* ---- YAML file ----------------------------------------------------------- */

struct loader {
	struct config *c;
	yaml_document_t *doc;
	const char *file;
	struct err *e;
	/* line of the first occurrence of each key in this file, for duplicates */
	int seen_line[NKEYS];
	bool image_url_set, image_build_set;
};

static int loc_err(struct loader *L, yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int config_yaml_verr(struct err *e, int code, const char *file, const struct yaml_node_s *n,
                     const char *field, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	err_set(e, "%s:%zu:%zu: %s: %s", file, n->start_mark.line + 1, n->start_mark.column + 1,
	        field, msg);
	if (e != NULL && code != 0)
		e->code = code;
	return -1;
}

static int loc_err(struct loader *L, yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = config_yaml_verr(L->e, 0, L->file, n, key, fmt, ap);
	va_end(ap);
	return r;
}

static const char *node_kind(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	default: return "a scalar";
	}
}

static int load_leaf(struct loader *L, const struct key *k, yaml_node_t *keynode, yaml_node_t *val)
{
	char where[300];
	size_t idx = key_index(k);

	if (L->seen_line[idx])
		return loc_err(L, keynode, k->name, "duplicate key (first set at line %d)",
		               L->seen_line[idx]);
	L->seen_line[idx] = (int)keynode->start_mark.line + 1;
	snprintf(where, sizeof(where), "%s:%zu:%zu", L->file, val->start_mark.line + 1,
	         val->start_mark.column + 1);

	if (k->type == T_FWD) {
		yaml_node_item_t *it;
		bool first = true;

		if (val->type != YAML_SEQUENCE_NODE)
			return loc_err(L, val, k->name,
			               "expected a list of [ADDR:]HOSTPORT:GUESTPORT, got %s",
			               node_kind(val));
		L->c->nforwards = 0;
		for (it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(L->doc, *it);
			if (item == NULL || item->type != YAML_SCALAR_NODE)
				return loc_err(L, item ? item : val, k->name,
				               "expected [ADDR:]HOSTPORT:GUESTPORT, got %s",
				               item ? node_kind(item) : "nothing");
			if (set_value(L->c, k, (const char *)item->data.scalar.value, !first,
			              L->e) < 0) {
				char msg[ERR_MSG_MAX];
				memcpy(msg, L->e->msg, sizeof(msg));
				return loc_err(L, item, k->name, "%s", msg);
			}
			first = false;
		}
		set_origin(L->c, k, ORIGIN_FILE, where);
		return 0;
	}
	if (val->type != YAML_SCALAR_NODE)
		return loc_err(L, val, k->name, "expected a value, got %s", node_kind(val));
	if (val->data.scalar.length != strlen((const char *)val->data.scalar.value))
		return loc_err(L, val, k->name, "value contains a NUL byte");
	if (set_value(L->c, k, (const char *)val->data.scalar.value, false, L->e) < 0) {
		char msg[ERR_MSG_MAX];
		memcpy(msg, L->e->msg, sizeof(msg));
		return loc_err(L, val, k->name, "%s", msg);
	}
	if (strcmp(k->name, "image.url") == 0)
		L->image_url_set = true;
	if (strcmp(k->name, "image.build") == 0)
		L->image_build_set = true;
	if (L->image_url_set && L->image_build_set)
		return loc_err(L, keynode, k->name,
		               "image.url and image.build cannot both be set (choose one)");
	set_origin(L->c, k, ORIGIN_FILE, where);
	return 0;
}

static int load_mapping(struct loader *L, yaml_node_t *map, const char *prefix)
{
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, pair->value);
		char path[256];
		const struct key *k;

		if (kn == NULL || vn == NULL)
			continue;
		if (kn->type != YAML_SCALAR_NODE)
			return loc_err(L, kn, prefix[0] ? prefix : "(top level)",
			               "keys must be plain names, got %s", node_kind(kn));
		if (strlen((const char *)kn->data.scalar.value) > 100)
			return loc_err(L, kn, "(key)", "key name too long");
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
		         (const char *)kn->data.scalar.value);
		/* a key seen twice in one mapping is a duplicate even for sections */
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
			yaml_node_t *qk = yaml_document_get_node(L->doc, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)qk->data.scalar.value,
			           (const char *)kn->data.scalar.value) == 0)
				return loc_err(L, kn, path, "duplicate key (first set at line %zu)",
				               qk->start_mark.line + 1);
		}
		k = find_key(path);
		if (k != NULL) {
			if (load_leaf(L, k, kn, vn) < 0)
				return -1;
			continue;
		}
		if (is_section(path)) {
			if (vn->type != YAML_MAPPING_NODE)
				return loc_err(L, vn, path,
				               "expected a mapping of %s.* keys, got %s", path,
				               node_kind(vn));
			if (load_mapping(L, vn, path) < 0)
				return -1;
			continue;
		}
		{
			char where[300];
			snprintf(where, sizeof(where), "%s:%zu:%zu", L->file,
			         kn->start_mark.line + 1, kn->start_mark.column + 1);
			return unknown_key(where, path, L->e);
		}
	}
	return 0;
}

int config_load_buffer(struct config *c, const char *name, const char *buf, size_t len,
                       struct err *e)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct loader L;
	yaml_node_t *root;
	int ret = -1;
	bool have_doc = false;

	memset(&L, 0, sizeof(L));
	if (!yaml_parser_initialize(&parser))
		return err_set(e, "%s: cannot initialise the YAML parser", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err_set(e, "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
		        parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		        parser.problem ? parser.problem : "unknown problem",
		        parser.context ? " " : "", parser.context ? parser.context : "");
		goto done;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL) {
		/* a second document in the same file is a mistake, not ignored */
		if (!yaml_parser_load(&parser, &extra)) {
			err_set(e, "%s:%zu:%zu: YAML syntax error: %s", name,
			        parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			        parser.problem ? parser.problem : "unknown problem");
			goto done;
		}
		if (yaml_document_get_root_node(&extra) != NULL) {
			err_set(e, "%s:%zu:%zu: only one YAML document is allowed", name,
			        extra.start_mark.line + 1, extra.start_mark.column + 1);
			yaml_document_delete(&extra);
			goto done;
		}
		yaml_document_delete(&extra);
		if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
			root = NULL; /* "---" alone */
	}
	if (root != NULL) {
		if (root->type != YAML_MAPPING_NODE) {
			err_set(e, "%s:%zu:%zu: (top level): expected a mapping of keys, got %s",
			        name, root->start_mark.line + 1, root->start_mark.column + 1,
			        node_kind(root));
			goto done;
		}
		L.c = c;
		L.doc = &doc;
		L.file = name;
		L.e = e;
		if (load_mapping(&L, root, "") < 0)
			goto done;
	}
	ret = 0;
done:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int config_load_file(struct config *c, const char *path, struct err *e)
{
	char def[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (path == NULL) {
		if (access("inception.yaml", F_OK) == 0) {
			path = "inception.yaml";
		} else {
			struct err ignore;
			if (xdg_config_dir(def, sizeof(def), &ignore) < 0)
				return 0;
			if (strlen(def) + sizeof("/config.yaml") > sizeof(def))
				return 0;
			strcat(def, "/config.yaml");
			if (access(def, F_OK) != 0)
				return 0;
			path = def;
		}
	}
	if (read_file(path, &buf, &len, e) < 0)
		return err_wrap(e, "config file (-c)");
	if (strlen(buf) != len) {
		free(buf);
		return err_set(e, "%s: not a text file (contains NUL bytes)", path);
	}
	ret = config_load_buffer(c, path, buf, len, e);
	free(buf);
	if (ret == 0) {
		free(c->config_file);
		c->config_file = strdup(path);
	}
	return ret;
}

/* ---- checks and output ----------------------------------------------------- */

int config_validate(const struct config *c, struct err *e)
{
	size_t i;
	bool ssh = false;

	if (c->image_url == NULL && c->image_build == NULL)
		return err_set(e, "image: set image.url (with image.checksums) or image.build");
	if (c->image_url != NULL && c->image_checksums == NULL &&
	    strncmp(c->image_url, "file://", 7) != 0)
		return err_set(e, "image.checksums: required with image.url (%s: %s)",
		               config_origin(c, "image.url"), c->image_url);
	if (c->net_mode == NET_USER) {
		for (i = 0; i < c->nforwards; i++) {
			if (c->forwards[i].guest_port == 22)
				ssh = true;
			for (size_t j = 0; j < i; j++)
				if (c->forwards[j].host_port == c->forwards[i].host_port &&
				    strcmp(c->forwards[j].addr, c->forwards[i].addr) == 0)
					return err_set(e,
					               "network.forwards (%s): host port %u is "
					               "forwarded twice",
					               config_origin(c, "network.forwards"),
					               c->forwards[i].host_port);
		}
		if (!ssh)
			return err_set(e,
			               "network.forwards (%s): user mode needs a forward to guest "
			               "port 22 (e.g. 2222:22)",
			               config_origin(c, "network.forwards"));
	}
	return 0;
}

const char *config_origin(const struct config *c, const char *key)
{
	const struct key *k = find_key(key);

	return k ? c->origin[key_index(k)].where : "unknown key";
}

int config_format(const struct config *c, const char *key, char *buf, size_t n)
{
	const struct key *k = find_key(key);
	size_t i, used = 0;

	if (k == NULL || n == 0)
		return -1;
	buf[0] = '\0';
	switch (k->type) {
	case T_INT:
		snprintf(buf, n, "%d", *(const int *)(const void *)((const char *)c + k->off));
		break;
	case T_SIZE:
		fmt_size(buf, n, *(const uint64_t *)(const void *)((const char *)c + k->off));
		break;
	case T_ENUM:
		snprintf(buf, n, "%s",
		         k->choices[*(const int *)(const void *)((const char *)c + k->off)]);
		break;
	case T_BOOL:
		snprintf(buf, n, "%s",
		         *(const int *)(const void *)((const char *)c + k->off) ? "true" : "false");
		break;
	case T_FWD:
		for (i = 0; i < c->nforwards && used < n; i++)
			used += (size_t)snprintf(buf + used, n - used, "%s%s:%u:%u", i ? "," : "",
			                         c->forwards[i].addr, c->forwards[i].host_port,
			                         c->forwards[i].guest_port);
		break;
	default: {
		const char *s = *(char *const *)(const void *)((const char *)c + k->off);
		snprintf(buf, n, "%s", s ? s : "");
	}
	}
	return 0;
}

const char *config_remote_dir(const struct config *c, char *buf, size_t n)
{
	if (c->remote_dir != NULL)
		return c->remote_dir;
	snprintf(buf, n, "/home/%s/inception", c->login);
	return buf;
}
