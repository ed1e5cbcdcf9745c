/*
 * steps.c: hosts, docker, data, base, make, health (see steps.h).
 */
#include "steps.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "names.h"
#include "events.h"
#include "health.h"
#include "hostsfile.h"
#include "pgpkey.h"
#include "proc.h"

#define MAX_FILE (64u << 20)

/* Runs a command with output to the step's log and progress events. */
static void on_progress(const char *line, void *arg)
{
	struct agent *a = arg;
	long now = ev_now_ms();

	if (now - a->last_progress_ms < 5000)
		return;
	a->last_progress_ms = now;
	ev_emit(a->step, "progress", -1, line, NULL);
}

static int run_logged(struct agent *a, const char *const argv[], const char *const env[],
                      int timeout_s, struct err *e)
{
	struct proc_opts o = {.env = env,
	                      .log_path = a->step_log,
	                      .on_line = on_progress,
	                      .arg = a,
	                      .timeout_s = timeout_s,
	                      .keep_fd = a->lock_fd};

	return proc_run(argv, &o, e);
}

/* ------------------------------------------------------------------ hosts */

static int step_hosts(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	static const char dropin[] =
	    "# Written by the inception agent: keep /etc/hosts as the agent left it\n"
	    "# (LOGIN.42.fr -> 127.0.0.1); cloud-init must not regenerate it at boot.\n"
	    "manage_etc_hosts: false\n";
	char path[PATH_MAX], tmpl[PATH_MAX], *old = NULL, *slash;
	size_t oldlen = 0;
	int changed = 0, tchanged = 0, dchanged = 0;
	struct stat st;

	if (stat(a->s.hosts_file, &st) < 0 && errno == ENOENT) {
		if (write_file_atomic_owner(a->s.hosts_file, "", 0, 0644, -1, -1, e) < 0)
			return -1;
	}
	if (hosts_edit_file(a->s.hosts_file, a->s.domain, "127.0.0.1", 1, &changed, e) < 0)
		return -1;
	/* cloud-init: only where it is installed (its config dir's parent exists). */
	snprintf(tmpl, sizeof(tmpl), "%s", a->s.cloud_cfg_dir);
	slash = strrchr(tmpl, '/');
	if (slash && slash != tmpl) {
		*slash = '\0';
		if (stat(tmpl, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (mkdir_p(a->s.cloud_cfg_dir, 0755, e) < 0)
				return -1;
			snprintf(path, sizeof(path), "%s/99-inception-hosts.cfg",
			         a->s.cloud_cfg_dir);
			if (read_file_max(path, &old, &oldlen, MAX_FILE, NULL) < 0 ||
			    oldlen != sizeof(dropin) - 1 || memcmp(old, dropin, oldlen) != 0) {
				if (write_file_atomic_owner(path, dropin, sizeof(dropin) - 1, 0644,
				                            -1, -1, e) < 0) {
					free(old);
					return -1;
				}
				dchanged = 1;
			}
			free(old);
			if (strlen(tmpl) + 32 < sizeof(tmpl)) {
				strcat(tmpl, "/templates/hosts.debian.tmpl");
				if (hosts_edit_file(tmpl, a->s.domain, "127.0.0.1", 0, &tchanged,
				                    e) < 0)
					return -1;
			}
		}
	}
	*oc = (changed || tchanged || dchanged) ? STEP_OK : STEP_CACHED;
	snprintf(msg, n, "%s -> 127.0.0.1 in %s%s%s", a->s.domain, a->s.hosts_file,
	         changed ? " (written)" : " (already there)",
	         dchanged ? "; cloud-init manage_etc_hosts off" : "");
	return 0;
}

/* ----------------------------------------------------------------- docker */

static int docker_socket_answers(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/docker.sock");
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int compose_v2(char *ver, size_t n)
{
	const char *argv[] = {"docker", "compose", "version", "--short", NULL};
	char *out = NULL;
	int ok;

	if (proc_capture(argv, &out, NULL) < 0) {
		free(out);
		return 0;
	}
	ok = out && (strncmp(out, "2.", 2) == 0 || strncmp(out, "v2.", 3) == 0);
	if (out) {
		out[strcspn(out, "\r\n")] = '\0';
		snprintf(ver, n, "%s", out);
	}
	free(out);
	return ok;
}

static int user_in_group(const char *user, const char *group)
{
	struct group *g = getgrnam(group);
	struct passwd *pw = getpwnam(user);
	char **m;

	if (g == NULL || pw == NULL)
		return 0;
	if (pw->pw_gid == g->gr_gid)
		return 1;
	for (m = g->gr_mem; *m; m++)
		if (strcmp(*m, user) == 0)
			return 1;
	return 0;
}

/* 1 when a dpkg run was cut short (an interrupted `up`): its journal in
 * /var/lib/dpkg/updates is not empty, and apt refuses to install until
 * `dpkg --configure -a` has finished the job. */
static int dpkg_interrupted(void)
{
	DIR *d = opendir("/var/lib/dpkg/updates");
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return found;
}

#define DPKG_LOCK_WAIT_S 600

/* The pid holding an fcntl lock on fd, 0 when none, -1 on error. */
static long lock_holder(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fcntl(fd, F_GETLK, &fl) < 0)
		return -1;
	return fl.l_type == F_UNLCK ? 0 : (long)fl.l_pid;
}

/* Takes dpkg's frontend lock (as apt does) and waits until no dpkg holds
 * its database lock: a dpkg left running by an interrupted `up` (its apt-get
 * stopped, the dpkg it started goes on) makes `dpkg --configure -a` fail at
 * once.  Returns the frontend lock's fd, to close once dpkg has run. */
static int dpkg_lock_wait(struct agent *a, const char *dir, int timeout_s, struct err *e)
{
	char front[PATH_MAX], db[PATH_MAX], msg[PATH_MAX + 96];
	long start = ev_now_ms(), holder = 0, said_at = 0;
	int ffd, dfd, said = 0, failed = 0;

	snprintf(front, sizeof(front), "%s/lock-frontend", dir);
	snprintf(db, sizeof(db), "%s/lock", dir);
	ffd = open(front, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (ffd < 0)
		return err_set(e, "%s: %s", front, strerror(errno));
	dfd = open(db, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (dfd < 0) {
		err_set(e, "%s: %s", db, strerror(errno));
		close(ffd);
		return -1;
	}
	for (;;) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		const char *busy = NULL;

		if (fcntl(ffd, F_SETLK, &fl) == 0) {
			holder = lock_holder(dfd);
			if (holder == 0)
				break;
			busy = db;
			fl.l_type = F_UNLCK;
			fcntl(ffd, F_SETLK, &fl); /* let the other frontend go first */
		} else if (errno == EACCES || errno == EAGAIN) {
			holder = lock_holder(ffd);
			busy = front;
			if (holder == 0) /* let go in between: try again */
				continue;
		} else {
			failed = err_set(e, "locking %s: %s", front, strerror(errno));
			break;
		}
		if (holder < 0) {
			failed = err_set(e, "%s: %s", busy, strerror(errno));
			break;
		}
		if (!said || ev_now_ms() - said_at >= 30000) {
			/* a progress event: the CLI shows it, the wait can be long */
			snprintf(msg, sizeof(msg),
			         "dpkg is busy (pid %ld holds %s): waiting, %ld s of %d s", holder,
			         busy, (ev_now_ms() - start) / 1000, timeout_s);
			ev_log("apt: %s", msg);
			ev_emit(a->step, "progress", -1, msg, NULL);
			said = 1;
			said_at = ev_now_ms();
		}
		if (proc_interrupted) {
			failed = err_set(e, "interrupted");
			break;
		}
		if (ev_now_ms() - start > timeout_s * 1000L) {
			failed = err_set(
			    e,
			    "dpkg is still busy after %d s (pid %ld holds %s): let it finish, "
			    "then run up again",
			    timeout_s, holder, busy);
			break;
		}
		{
			struct timespec ts = {.tv_sec = 0, .tv_nsec = 250000000L};

			nanosleep(&ts, NULL);
		}
	}
	close(dfd); /* a lock on the frontend file is kept: only dfd is closed */
	if (failed) {
		close(ffd);
		return -1;
	}
	if (said)
		ev_log("apt: dpkg let go of its lock after %.1f s", (ev_now_ms() - start) / 1000.0);
	return ffd;
}

/* apt-get with the configured proxy; waits for another apt/dpkg to let go
 * of its lock, and first finishes a dpkg run that was interrupted. */
static int apt(struct agent *a, const char *const *args, struct err *e)
{
	static const char *const env[] = {"DEBIAN_FRONTEND=noninteractive",
	                                  "APT_LISTCHANGES_FRONTEND=none", NULL};
	const char *argv[32];
	char proxy[SET_STR + 32];
	int i = 0, j;

	if (dpkg_interrupted()) {
		static const char *const fix[] = {"dpkg", "--force-confold", "--configure", "-a",
		                                  NULL};
		static const char *const fixenv[] = {"DEBIAN_FRONTEND=noninteractive",
		                                     "APT_LISTCHANGES_FRONTEND=none",
		                                     "DPKG_FRONTEND_LOCKED=1", NULL};
		int ffd = dpkg_lock_wait(a, "/var/lib/dpkg", DPKG_LOCK_WAIT_S, e),
		    rc = ffd < 0 ? -1 : 0;

		/* The dpkg that held the lock may have finished the job. */
		if (rc == 0 && dpkg_interrupted()) {
			ev_log("apt: a dpkg run was interrupted: dpkg --configure -a first");
			rc = run_logged(a, fix, fixenv, 1800, e);
		}
		if (ffd >= 0)
			close(ffd);
		if (rc < 0)
			return err_wrap(e, "finishing an interrupted dpkg run");
	}
	argv[i++] = "apt-get";
	argv[i++] = "-q";
	argv[i++] = "-o";
	argv[i++] = "DPkg::Lock::Timeout=600";
	argv[i++] = "-o";
	argv[i++] = "Dpkg::Options::=--force-confold";
	if (a->s.apt_proxy[0]) {
		snprintf(proxy, sizeof(proxy), "Acquire::http::Proxy=%s", a->s.apt_proxy);
		argv[i++] = "-o";
		argv[i++] = proxy;
	}
	for (j = 0; args[j] && i < 31; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	return run_logged(a, argv, env, 1800, e);
}

/* The mirror from the settings, when apt does not already use it. */
static int apt_mirror_source(struct agent *a, struct err *e)
{
	static const char *const lists[] = {"/etc/apt/sources.list",
	                                    "/etc/apt/sources.list.d/debian.sources", NULL};
	char content[1024];
	int i, n;

	if (!a->s.apt_mirror[0])
		return 0;
	for (i = 0; lists[i]; i++) {
		char *data = NULL;
		size_t len;
		int has;

		if (read_file_max(lists[i], &data, &len, MAX_FILE, NULL) < 0)
			continue;
		has = strstr(data, a->s.apt_mirror) != NULL;
		free(data);
		if (has)
			return 0;
	}
	n = snprintf(content, sizeof(content),
	             "# Written by the inception agent (apt.mirror)\n"
	             "Types: deb\nURIs: %s\nSuites: trixie trixie-updates\nComponents: main\n"
	             "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
	             a->s.apt_mirror);
	return write_file_atomic_owner("/etc/apt/sources.list.d/inception-mirror.sources", content,
	                               (size_t)n, 0644, -1, -1, e);
}

static size_t discard_body(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* The key download, at most 1 MiB. */
static size_t mem_write(char *p, size_t size, size_t nmemb, void *arg)
{
	size_t add = size * nmemb;

	return buf_add(arg, p, add, NULL, NULL) == 0 ? add : 0;
}

/* Docker's repository: key fetched with libcurl; apt is told to trust only
 * a keyring made of the pinned key's own packets (pgpkey.h), never the
 * downloaded file itself. */
static int docker_repo(struct agent *a, struct err *e)
{
	static const char key_url[] = "https://download.docker.com/linux/debian/gpg";
	static const char key_path[] = "/etc/apt/keyrings/docker.gpg";
	char errbuf[CURL_ERROR_SIZE] = "", src[512];
	struct buf m;
	unsigned char *keyring = NULL;
	size_t keyring_len = 0;
	CURL *c;
	CURLcode rc;
	int n, ret = -1;

	buf_init(&m, 1u << 20);
	c = curl_easy_init();
	if (c == NULL)
		return err_set(e, "curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, key_url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (a->s.apt_proxy[0])
		curl_easy_setopt(c, CURLOPT_PROXY, a->s.apt_proxy);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		err_set(e, "fetch %s: %s", key_url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto done;
	}
	if (pgp_pinned_keyring((unsigned char *)m.p, m.len, DOCKER_KEY_FINGERPRINT, &keyring,
	                       &keyring_len, e) < 0) {
		err_wrap(e, "%s", key_url);
		goto done;
	}
	if (mkdir_p("/etc/apt/keyrings", 0755, e) < 0 ||
	    write_file_atomic_owner(key_path, keyring, keyring_len, 0644, -1, -1, e) < 0)
		goto done;
	/* the whole downloaded file, installed by earlier agents */
	if (unlink("/etc/apt/keyrings/docker.asc") < 0 && errno != ENOENT) {
		err_set(e, "remove /etc/apt/keyrings/docker.asc: %s", strerror(errno));
		goto done;
	}
	n = snprintf(src, sizeof(src),
	             "Types: deb\nURIs: https://download.docker.com/linux/debian\n"
	             "Suites: trixie\nComponents: stable\nSigned-By: %s\n",
	             key_path);
	if (write_file_atomic_owner("/etc/apt/sources.list.d/docker.sources", src, (size_t)n, 0644,
	                            -1, -1, e) < 0)
		goto done;
	ret = 0;
done:
	free(keyring);
	buf_free(&m);
	return ret;
}

/* Longer than 60 lines: the install of Docker from Debian or from Docker's repository, then the
 * engine's start and its answer, as one idempotent step. */
static int step_docker(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	static const char *const deb_pkgs[] = {
	    "install",        "-y",         "--no-install-recommends",
	    "docker.io",      "docker-cli", "docker-buildx",
	    "docker-compose", NULL};
	static const char *const ce_pkgs[] = {"install",
	                                      "-y",
	                                      "--no-install-recommends",
	                                      "docker-ce",
	                                      "docker-ce-cli",
	                                      "containerd.io",
	                                      "docker-buildx-plugin",
	                                      "docker-compose-plugin",
	                                      NULL};
	static const char *const update[] = {"update", NULL};
	char ver[64] = "";
	int i, installed = 0;

	if (!a->force && agstate_done(&a->st, "docker", a->s.docker_source) &&
	    docker_socket_answers() && user_in_group(a->s.login, "docker")) {
		*oc = STEP_CACHED;
		snprintf(msg, n, "engine answering (%s)", a->s.docker_source);
		return 0;
	}
	if (access("/usr/bin/docker", X_OK) != 0 || !compose_v2(ver, sizeof(ver))) {
		if (apt_mirror_source(a, e) < 0)
			return -1;
		if (strcmp(a->s.docker_source, "docker") == 0 && docker_repo(a, e) < 0)
			return -1;
		if (apt(a, update, e) < 0 ||
		    apt(a, strcmp(a->s.docker_source, "docker") == 0 ? ce_pkgs : deb_pkgs, e) < 0)
			return -1;
		installed = 1;
	}
	if (access("/usr/bin/systemctl", X_OK) == 0) {
		const char *argv[] = {"systemctl", "enable", "--now", "docker", NULL};

		if (run_logged(a, argv, NULL, 300, e) < 0)
			return err_wrap(e, "starting dockerd");
	} else if (!docker_socket_answers()) {
		const char *argv[] = {"service", "docker", "start", NULL};

		if (run_logged(a, argv, NULL, 300, e) < 0)
			return err_wrap(e, "starting dockerd");
	}
	for (i = 0; i < 120 && !docker_socket_answers(); i++) {
		if (proc_interrupted)
			return err_set(e, "interrupted");
		sleep(1);
	}
	if (!docker_socket_answers())
		return err_set(e, "dockerd does not answer on /run/docker.sock after 120 s");
	if (!compose_v2(ver, sizeof(ver)))
		return err_set(e, "`docker compose version` is not v2 (got \"%s\")", ver);
	if (getpwnam(a->s.login) && !user_in_group(a->s.login, "docker")) {
		const char *argv[] = {"usermod", "-aG", "docker", a->s.login, NULL};

		if (run_logged(a, argv, NULL, 60, e) < 0)
			return -1;
	}
	if (agstate_put(&a->st, a->s.state_file, "docker", "ok", a->s.docker_source, e) < 0)
		return -1;
	*oc = STEP_OK;
	snprintf(msg, n, "%s compose %s (%s)", installed ? "installed," : "present,", ver,
	         a->s.docker_source);
	return 0;
}

/* ------------------------------------------------------------------- data */

static int step_data(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	static const char *const subs[] = {"", "/wordpress", "/mariadb", NULL};
	struct passwd *pw = getpwnam(a->s.login);
	char path[PATH_MAX];
	int i, created = 0;

	for (i = 0; subs[i]; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s%s", a->s.data_dir, subs[i]);
		if (stat(path, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return err_set(e, "%s exists and is not a directory", path);
			continue;
		}
		if (mkdir_p(path, 0755, e) < 0)
			return -1;
		if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
			return err_set(e, "chown %s: %s", path, strerror(errno));
		created++;
	}
	*oc = created ? STEP_OK : STEP_CACHED;
	snprintf(msg, n, "%s/{wordpress,mariadb}%s", a->s.data_dir, created ? " created" : "");
	return 0;
}

/* ------------------------------------------------------------------- base */

/* One GET to the engine over /run/docker.sock, the body kept in *m when m
 * is not NULL: asking dockerd itself takes milliseconds, where starting the
 * docker CLI takes seconds in a TCG guest.  The HTTP status, 0 when the
 * engine does not answer. */
static long docker_get(const char *path, struct buf *m)
{
	char url[512], errbuf[CURL_ERROR_SIZE];
	long code = 0;
	CURL *c;

	if (snprintf(url, sizeof(url), "http://localhost%s", path) >= (int)sizeof(url))
		return 0;
	c = curl_easy_init();
	if (c == NULL)
		return 0;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, "/run/docker.sock");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, m ? mem_write : discard_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

/* GET /images/TAG/json: 1 when the engine has the image. */
int image_present(const char *tag)
{
	char path[300];

	if (snprintf(path, sizeof(path), "/images/%s/json", tag) >= (int)sizeof(path))
		return 0;
	return docker_get(path, NULL) == 200;
}

/* GET /containers/NAME/json: 1 when it runs and, if it has a health check,
 * is healthy.  The engine writes compact JSON ("Running":true,
 * "Health":{"Status":"healthy",...}), so looking for those is enough. */
static int container_healthy(const char *name)
{
	struct buf m;
	char path[128];
	int ok = 0;

	buf_init(&m, 1u << 20);
	if (snprintf(path, sizeof(path), "/containers/%s/json", name) < (int)sizeof(path) &&
	    docker_get(path, &m) == 200 && m.p && strstr(m.p, "\"Running\":true")) {
		const char *h = strstr(m.p, "\"Health\":{\"Status\":\"");

		ok = h == NULL || strncmp(h + 20, "healthy\"", 8) == 0;
	}
	buf_free(&m);
	return ok;
}

/* The first of the comma-separated containers that is not running healthy
 * (copied into buf), or NULL when all are (or the list is empty). */
static const char *first_unhealthy(const char *list, char *buf, size_t n)
{
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len > 0 && len < n) {
			memcpy(buf, p, len);
			buf[len] = '\0';
			if (!container_healthy(buf))
				return buf;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static int step_base(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	char script[PATH_MAX], mirror[SET_STR + 16];
	const char *env[3] = {NULL, "PULL_TIMEOUT=15", NULL};
	const char *argv[] = {"sh", script, NULL};

	if (image_present(BASE_IMAGE)) {
		*oc = STEP_CACHED;
		snprintf(msg, n, BASE_IMAGE " present");
		return 0;
	}
	snprintf(script, sizeof(script), "%s/srcs/requirements/tools/base-image.sh", a->s.tree);
	if (access(script, R_OK) != 0)
		return err_set(e, "%s: %s (was the tree pushed?)", script, strerror(errno));
	if (access("/usr/bin/mmdebstrap", X_OK) != 0) {
		static const char *const inst[] = {"install", "-y", "--no-install-recommends",
		                                   "mmdebstrap", NULL};
		static const char *const update[] = {"update", NULL};

		if (apt(a, inst, NULL) < 0 && (apt(a, update, e) < 0 || apt(a, inst, e) < 0))
			return err_wrap(e, "installing mmdebstrap");
	}
	snprintf(mirror, sizeof(mirror), "DEBIAN_MIRROR=%s",
	         a->s.apt_mirror[0] ? a->s.apt_mirror : "http://deb.debian.org/debian");
	env[0] = mirror;
	if (run_logged(a, argv, env, 1800, e) < 0)
		return err_wrap(e, "base-image.sh");
	if (!image_present(BASE_IMAGE))
		return err_set(e, BASE_IMAGE " still missing after base-image.sh");
	*oc = STEP_OK;
	snprintf(msg, n, BASE_IMAGE " built from %s",
	         a->s.apt_mirror[0] ? a->s.apt_mirror : "the Debian mirror");
	return 0;
}

/* ------------------------------------------------------------------- make */

void tree_key(const struct settings *s, char *key, size_t n)
{
	char path[PATH_MAX], *data = NULL;
	size_t len = 0, i;

	snprintf(key, n, "-");
	snprintf(path, sizeof(path), "%s/.inception/tree.digest", s->tree);
	if (read_file_max(path, &data, &len, MAX_FILE, NULL) < 0)
		return;
	for (i = 0; i < len && i + 1 < n; i++) {
		char c = data[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			break;
		key[i] = c;
	}
	key[i] = '\0';
	if (i == 0)
		snprintf(key, n, "-");
	free(data);
}

static int step_make(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	const char *argv[] = {"make", "-C", a->s.tree, NULL};
	char key[80];

	char sick[64];

	tree_key(&a->s, key, sizeof(key));
	if (!a->force && strcmp(key, "-") != 0 && agstate_done(&a->st, "make", key)) {
		/* the same tree, but the stack may have been stopped since */
		if (first_unhealthy(a->s.stack_containers, sick, sizeof(sick)) == NULL) {
			*oc = STEP_CACHED;
			snprintf(msg, n,
			         "tree unchanged since the last make (%.12s), stack healthy", key);
			return 0;
		}
		ev_log("make: tree unchanged, but container %s is not running healthy: make again",
		       sick);
	}
	if (access("/usr/bin/make", X_OK) != 0) {
		static const char *const inst[] = {"install", "-y", "--no-install-recommends",
		                                   "make", NULL};
		static const char *const update[] = {"update", NULL};

		if (apt(a, inst, NULL) < 0 && (apt(a, update, e) < 0 || apt(a, inst, e) < 0))
			return err_wrap(e, "installing make");
	}
	if (agstate_put(&a->st, a->s.state_file, "make", "running", key, e) < 0)
		return -1;
	if (run_logged(a, argv, NULL, 3600, e) < 0) {
		agstate_put(&a->st, a->s.state_file, "make", "fail", key, NULL);
		return -1;
	}
	if (agstate_put(&a->st, a->s.state_file, "make", "ok", key, e) < 0)
		return -1;
	*oc = STEP_OK;
	snprintf(msg, n, "make in %s done", a->s.tree);
	return 0;
}

/* ----------------------------------------------------------------- health */

static int fetch_cert(struct agent *a, const char *dest, struct err *e)
{
	char src[SET_STR + 80];
	const char *argv[] = {"docker", "cp", src, dest, NULL};

	snprintf(src, sizeof(src), "%s:%s", a->s.cert_container, a->s.cert_path);
	if (run_logged(a, argv, NULL, 60, e) < 0)
		return err_wrap(e, "copying the stack's certificate (%s)", src);
	return 0;
}

static int step_health(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	char ca[PATH_MAX], dir[SET_STR], *slash;
	struct health_result r = {0};
	int i, have_cert = 0;

	snprintf(dir, sizeof(dir), "%s", a->s.state_file);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(ca, sizeof(ca), "%s/stack-cert.pem", slash ? dir : ".");
	if (a->s.cert_file[0]) {
		snprintf(ca, sizeof(ca), "%s", a->s.cert_file);
		have_cert = 1;
	} else if (access(ca, R_OK) == 0) {
		/* the copy from the last run: refreshed below if it no longer verifies */
		have_cert = 1;
	}
	for (i = 1; i <= a->s.health_tries; i++) {
		if (proc_interrupted)
			return err_set(e, "interrupted");
		/* The certificate is made at the container's first start: copy it
		 * fresh on the first try and whenever verification fails. */
		if (!have_cert) {
			struct err ce = {.msg = ""};

			if (fetch_cert(a, ca, &ce) == 0)
				have_cert = 1;
			else
				err_set(e, "%s", ce.msg);
		}
		if (have_cert) {
			if (health_get(a->s.domain, a->s.health_port, ca, &r, e) == 0)
				break;
			if (!a->s.cert_file[0] &&
			    (strstr(e->msg, "certificate") || strstr(e->msg, "SSL")))
				have_cert = 0;
		}
		ev_log("health: try %d/%d: %s", i, a->s.health_tries, e->msg);
		if (i == a->s.health_tries)
			return err_wrap(e, "not healthy after %d tries", a->s.health_tries);
		if (i % 5 == 0)
			ev_emit("health", "progress", -1, e->msg, NULL);
		sleep((unsigned)a->s.health_wait);
	}
	if (health_old_tls_refused(a->s.domain, a->s.health_port, e) < 0)
		return -1;
	*oc = STEP_OK;
	snprintf(msg, n, "https://%s/ HTTP %ld, certificate verified, TLS 1.2+ only (1.1 refused)",
	         a->s.domain, r.http_code);
	return 0;
}

/* ------------------------------------------------------------------ table */

static const struct step table[] = {
    {"hosts", "LOGIN.42.fr -> 127.0.0.1 in /etc/hosts", step_hosts},
    {"docker", "Docker engine and compose v2", step_docker},
    {"data", "volume directories", step_data},
    {"base", BASE_IMAGE " base image", step_base},
    {"make", "make in the pushed tree (build + up)", step_make},
    {"health", "HTTPS health check", step_health},
    {NULL, NULL, NULL},
};

const struct step *steps_table(void)
{
	return table;
}

const struct step *step_find(const char *name)
{
	const struct step *s;

	for (s = table; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}
