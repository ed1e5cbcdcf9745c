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
#include "engine.h"
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
	int i, installed = 0, cleared = 0;

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
	if (a->s.docker_cache[0] && !agstate_done(&a->st, "docker", a->s.docker_source)) {
		/* the Docker disk is a copy of another VM's: its images and build
		 * cache serve this VM's make; its containers, volumes (data!) and
		 * networks were that VM's, and go */
		const char *argv[] = {
		    "sh", "-c",
		    "c=$(docker ps -aq) && { [ -z \"$c\" ] || docker rm -f $c; } && "
		    "v=$(docker volume ls -q) && { [ -z \"$v\" ] || docker volume rm -f $v; } && "
		    "docker network prune -f",
		    NULL};

		if (run_logged(a, argv, NULL, 300, e) < 0)
			return err_wrap(
			    e, "removing the containers and volumes of the Docker cache %s",
			    a->s.docker_cache);
		cleared = 1;
	}
	if (agstate_put(&a->st, a->s.state_file, "docker", "ok", a->s.docker_source, e) < 0)
		return -1;
	*oc = STEP_OK;
	snprintf(msg, n, "%s compose %s (%s)%s", installed ? "installed," : "present,", ver,
	         a->s.docker_source,
	         cleared ? "; from the project's Docker cache: its images and build cache kept, "
	                   "the other VM's containers, volumes and networks removed"
	                 : "");
	return 0;
}

/* ------------------------------------------------------------------- data */

/* mkdir -p DIR, every directory it creates owned by the login. */
static int make_dir_owned(const char *dir, const struct passwd *pw, int *created, struct err *e)
{
	char path[PATH_MAX];
	size_t i, len = strlen(dir);

	if (len >= sizeof(path))
		return err_set(e, "%s: path too long", dir);
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		struct stat st;

		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (stat(path, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return err_set(e, "%s exists and is not a directory", path);
		} else if (errno == ENOENT) {
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return err_set(e, "mkdir %s: %s", path, strerror(errno));
			if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
				return err_set(e, "chown %s: %s", path, strerror(errno));
			(*created)++;
		} else {
			return err_set(e, "%s: %s", path, strerror(errno));
		}
		path[i] = i < len ? '/' : '\0';
	}
	return 0;
}

static int step_data(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	struct passwd *pw = getpwnam(a->s.login);
	const char *p = a->s.data_dirs;
	char dir[SET_STR];
	int created = 0, count = 0, r;

	while ((r = settings_next_dir(&p, dir, sizeof(dir), e)) == 1) {
		if (make_dir_owned(dir, pw, &created, e) < 0)
			return -1;
		count++;
	}
	if (r < 0)
		return -1;
	*oc = created ? STEP_OK : STEP_CACHED;
	if (count == 0)
		snprintf(msg, n, "the compose file has no bind-mounted host directory");
	else
		snprintf(msg, n, "%d director%s (%s)%s", count, count == 1 ? "y" : "ies",
		         a->s.data_dirs, created ? ", created" : ", present");
	return 0;
}

/* ------------------------------------------------------------------- base */

/* The Debian suite an image names when it is one this agent can build from
 * the Debian mirror (debian:bookworm, debian:12, debian:trixie-slim,
 * docker.io/library/debian:13...); NULL otherwise. */
static const char *debian_suite(const char *image)
{
	static const char *const suites[][2] = {
	    {"bullseye", "11"}, {"bookworm", "12"}, {"trixie", "13"}, {NULL, NULL}};
	const char *tag;
	size_t len;
	int i;

	if (strncmp(image, "docker.io/", 10) == 0)
		image += 10;
	if (strncmp(image, "library/", 8) == 0)
		image += 8;
	if (strncmp(image, "debian:", 7) != 0 || strchr(image, '@'))
		return NULL;
	tag = image + 7;
	len = strlen(tag);
	if (len > 5 && strcmp(tag + len - 5, "-slim") == 0)
		len -= 5;
	for (i = 0; suites[i][0]; i++)
		if ((strlen(suites[i][0]) == len && strncmp(tag, suites[i][0], len) == 0) ||
		    (strlen(suites[i][1]) == len && strncmp(tag, suites[i][1], len) == 0))
			return suites[i][0];
	return NULL;
}

static const char *mirror_of(const struct agent *a)
{
	return a->s.apt_mirror[0] ? a->s.apt_mirror : "http://deb.debian.org/debian";
}

/* Longer than 60 lines: one mmdebstrap command line (minbase, merged /usr,
 * no docs, apt's caches emptied) and its `docker import`, which must stay
 * together to be read against each other. */
static int build_debian(struct agent *a, const char *image, const char *suite, struct err *e)
{
	static const char clean_hook[] =
	    "rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin "
	    "\"$1\"/var/cache/apt/archives/*.deb \"$1\"/var/log/*.log \"$1\"/tmp/*";
	static const char apt_hook[] =
	    "printf '%s\\n' 'APT::Keep-Downloaded-Packages \"false\";' "
	    "'DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || "
	    "true\"; };' 'Dir::Cache::pkgcache \"\";' 'Dir::Cache::srcpkgcache \"\";' "
	    "'Acquire::Languages \"none\";' >\"$1\"/etc/apt/apt.conf.d/docker-clean";
	static const char hooks[] = "/usr/share/mmdebstrap/hooks/merged-usr";
	char dir[] = "/var/tmp/inception-base.XXXXXX", tar[64], main_src[SET_STR + 64],
	     upd_src[SET_STR + 64], sec_src[SET_STR + 80], sec[SET_STR + 16], proxy[SET_STR + 40],
	     hookdir[sizeof(hooks) + 16], message[SET_STR + 64];
	const char *argv[32];
	const char *mirror = mirror_of(a);
	size_t ml = strlen(mirror);
	struct stat st;
	int i = 0, rc;

	if (access("/usr/bin/mmdebstrap", X_OK) != 0) {
		static const char *const inst[] = {"install", "-y", "--no-install-recommends",
		                                   "mmdebstrap", NULL};
		static const char *const update[] = {"update", NULL};

		if (apt(a, inst, NULL) < 0 && (apt(a, update, e) < 0 || apt(a, inst, e) < 0))
			return err_wrap(e, "installing mmdebstrap");
	}
	if (mkdtemp(dir) == NULL)
		return err_set(e, "mkdtemp %s: %s", dir, strerror(errno));
	snprintf(tar, sizeof(tar), "%s/rootfs.tar", dir);
	snprintf(sec, sizeof(sec), "%s", mirror);
	if (ml >= 7 && strcmp(mirror + ml - 7, "/debian") == 0)
		snprintf(sec, sizeof(sec), "%.*s/debian-security", (int)(ml - 7), mirror);
	snprintf(main_src, sizeof(main_src), "deb %s %s main", mirror, suite);
	snprintf(upd_src, sizeof(upd_src), "deb %s %s-updates main", mirror, suite);
	snprintf(sec_src, sizeof(sec_src), "deb %s %s-security main", sec, suite);
	argv[i++] = "mmdebstrap";
	argv[i++] = "--variant=minbase";
	argv[i++] = "--format=tar";
	argv[i++] = "--aptopt=Acquire::Retries \"5\"";
	if (a->s.apt_proxy[0]) {
		snprintf(proxy, sizeof(proxy), "--aptopt=Acquire::http::Proxy \"%s\"",
		         a->s.apt_proxy);
		argv[i++] = proxy;
	}
	if (stat(hooks, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(hookdir, sizeof(hookdir), "--hook-dir=%s", hooks);
		argv[i++] = hookdir;
	}
	argv[i++] = "--dpkgopt=path-exclude=/usr/share/man/*";
	argv[i++] = "--dpkgopt=path-exclude=/usr/share/doc/*";
	argv[i++] = "--dpkgopt=path-include=/usr/share/doc/*/copyright";
	argv[i++] = "--dpkgopt=path-exclude=/usr/share/info/*";
	argv[i++] = "--dpkgopt=path-exclude=/usr/share/locale/*";
	argv[i++] = "--customize-hook";
	argv[i++] = clean_hook;
	argv[i++] = "--customize-hook";
	argv[i++] = apt_hook;
	argv[i++] = suite;
	argv[i++] = tar;
	argv[i++] = main_src;
	argv[i++] = upd_src;
	argv[i++] = sec_src;
	argv[i] = NULL;
	ev_log("base: building %s from %s with mmdebstrap (minbase)", image, mirror);
	rc = run_logged(a, argv, NULL, 1800, e);
	if (rc < 0)
		err_wrap(e, "mmdebstrap %s from %s", suite, mirror);
	if (rc == 0) {
		const char *imp[] = {"docker",    "import", "--change", "CMD [\"bash\"]",
		                     "--message", message,  tar,        image,
		                     NULL};

		snprintf(message, sizeof(message), "debian %s minbase from %s (inception agent)",
		         suite, mirror);
		rc = run_logged(a, imp, NULL, 600, e);
		if (rc < 0)
			err_wrap(e, "docker import %s", image);
	}
	unlink(tar);
	rmdir(dir);
	if (rc == 0 && !image_present(image))
		rc = err_set(e, "%s still missing after docker import", image);
	return rc;
}

/* Longer than 60 lines: the base images in their order of preference (the
 * engine's own, pulled, built from the Debian mirror), and the one error
 * that names every image none of these can provide, before any build. */
static int step_base(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	struct base_ref b[64];
	int missing[64], nb = 0, nm = 0, i, r, pulled = 0, built = 0, bad = -1;
	const char *p = a->s.bases;
	char others[2048] = "";

	while (nb < 64 && (r = settings_next_base(&p, &b[nb], e)) == 1)
		nb++;
	if (r < 0)
		return -1;
	if (nb == 0) {
		*oc = STEP_CACHED;
		snprintf(msg, n, "no base image to provide (bases is empty)");
		return 0;
	}
	if (!engine_answers())
		return err_set(e, "dockerd does not answer on %s (run the docker step first)",
		               engine_sock());
	for (i = 0; i < nb; i++)
		if (!image_present(b[i].image))
			missing[nm++] = i;
	if (nm == 0) {
		*oc = STEP_CACHED;
		snprintf(msg, n, "%d base image%s present", nb, nb == 1 ? "" : "s");
		return 0;
	}
	for (i = 0; i < nm; i++) {
		const char *pull[] = {"docker", "pull", "-q", b[missing[i]].image, NULL};
		struct err pe = {.msg = ""};

		ev_log("base: %s missing: docker pull (at most %d s)", b[missing[i]].image,
		       a->s.pull_timeout);
		if (run_logged(a, pull, NULL, a->s.pull_timeout, &pe) == 0 &&
		    image_present(b[missing[i]].image)) {
			pulled++;
			missing[i] = -1;
			continue;
		}
		ev_log("base: pull of %s failed: %s", b[missing[i]].image, pe.msg);
		if (debian_suite(b[missing[i]].image) == NULL) {
			if (bad < 0)
				bad = missing[i];
			else
				snprintf(others + strlen(others), sizeof(others) - strlen(others),
				         "%s%s (%s)", others[0] ? ", " : "; also ",
				         b[missing[i]].where, b[missing[i]].image);
		}
	}
	if (bad >= 0)
		return err_set(e,
		               "%s: %s: no registry reachable and no local copy (the VM cannot "
		               "pull it, this host's Docker does not have it, and only "
		               "debian:<suite> can be built from the Debian mirror): use a debian "
		               "base, or load the image into this host's Docker first%s",
		               b[bad].where, b[bad].image, others);
	for (i = 0; i < nm; i++) {
		if (missing[i] < 0)
			continue;
		if (build_debian(a, b[missing[i]].image, debian_suite(b[missing[i]].image), e) < 0)
			return err_wrap(e, "%s: %s", b[missing[i]].where, b[missing[i]].image);
		built++;
	}
	*oc = STEP_OK;
	snprintf(msg, n, "%d base image%s: %d present, %d pulled, %d built from %s", nb,
	         nb == 1 ? "" : "s", nb - nm, pulled, built, mirror_of(a));
	return 0;
}

/* The images of `bases` the engine lacks, one per line (agent
 * --missing-bases, for the host to stream the ones it has). */
int steps_missing_bases(const struct settings *s, struct err *e)
{
	struct base_ref b;
	const char *p = s->bases;
	int r;

	if (!engine_answers())
		return err_set(e, "dockerd does not answer on %s", engine_sock());
	while ((r = settings_next_base(&p, &b, e)) == 1)
		if (!image_present(b.image))
			printf("%s\n", b.image);
	fflush(stdout);
	return r;
}

/* ------------------------------------------------------------------- make */

void tree_key(const struct settings *s, char *key, size_t n)
{
	char path[PATH_MAX], *data = NULL;
	size_t len = 0, i;

	snprintf(key, n, "-");
	snprintf(path, sizeof(path), "%s/tree.digest", s->meta);
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
	char key[80], why[1024], home[SET_STR + 16], user[SET_STR + 8], logname[SET_STR + 16];
	/* make runs as root (the engine's socket) but as the login's session
	 * would see it: a Makefile's $(HOME)/data or /home/$(USER) is the
	 * login's, as on the evaluator's machine, not /root */
	const char *menv[] = {home, user, logname, "DOCKER_CONFIG=/root/.docker", NULL};
	const struct passwd *pw = getpwnam(a->s.login);

	tree_key(&a->s, key, sizeof(key));
	if (!a->force && strcmp(key, "-") != 0 && agstate_done(&a->st, "make", key)) {
		/* the same tree, but the project may have been stopped since */
		struct project_ref pr;
		int r;

		project_ref(&a->s, &pr);
		r = services_check(&a->s, &pr, why, sizeof(why), NULL);
		if (r == 0) {
			*oc = STEP_CACHED;
			snprintf(msg, n,
			         "tree unchanged since the last make (%.12s), every service "
			         "running healthy",
			         key);
			return 0;
		}
		ev_log("make: tree unchanged, but %s: make again",
		       r < 0 ? "the engine does not answer" : why);
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
	/* (root's docker CLI state stays in root's home: DOCKER_CONFIG) */
	snprintf(home, sizeof(home), "HOME=%s%s", pw ? "" : "/home/", pw ? pw->pw_dir : a->s.login);
	snprintf(user, sizeof(user), "USER=%s", a->s.login);
	snprintf(logname, sizeof(logname), "LOGNAME=%s", a->s.login);
	if (run_logged(a, argv, menv, 3600, e) < 0) {
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

/* The certificate the project serves, copied to dest: the running container
 * of the project that publishes the health port, the first ssl_certificate
 * its nginx configuration names (`nginx -T`), `docker cp -L` of that file.
 * 0 with from = "service web: /etc/nginx/certs/site.crt", else -1 with why
 * (the reason it cannot be verified). */
static int find_cert(struct agent *a, const char *dest, char *from, size_t fn, char *why, size_t wn)
{
	struct project_ref pr;
	char id[80], svc[128], path[SET_STR] = "", src[SET_STR + 96], *out = NULL, *line, *save;
	const char *nginx[] = {"docker", "exec", id, "nginx", "-T", NULL};
	const char *cp[] = {"docker", "cp", "-L", src, dest, NULL};
	char *pem = NULL;
	size_t len = 0;
	struct err e = {.msg = ""};
	int r;

	project_ref(&a->s, &pr);
	r = project_publisher(&pr, a->s.health_port, id, sizeof(id), svc, sizeof(svc));
	if (r != 0) {
		snprintf(why, wn,
		         r < 0 ? "the engine does not answer"
		               : "no running container of the project publishes port %d",
		         a->s.health_port);
		return -1;
	}
	if (proc_capture(nginx, &out, &e) < 0) {
		snprintf(why, wn,
		         "service %s publishes port %d, but `nginx -T` fails in it (%.200s)", svc,
		         a->s.health_port, e.msg);
		free(out);
		return -1;
	}
	for (line = strtok_r(out ? out : (char[]){""}, "\n", &save); line && !path[0];
	     line = strtok_r(NULL, "\n", &save)) {
		char *q = line + strspn(line, " \t");

		if (strncmp(q, "ssl_certificate", 15) != 0 || (q[15] != ' ' && q[15] != '\t'))
			continue;
		q += 15 + strspn(q + 15, " \t\"'");
		q[strcspn(q, " \t;\"'")] = '\0';
		if (q[0] && !strchr(q, '$') && strncmp(q, "data:", 5) != 0)
			snprintf(path, sizeof(path), "%s%s", q[0] == '/' ? "" : "/etc/nginx/", q);
	}
	free(out);
	if (!path[0]) {
		snprintf(why, wn, "the nginx of service %s names no ssl_certificate file", svc);
		return -1;
	}
	snprintf(src, sizeof(src), "%s:%s", id, path);
	if (run_logged(a, cp, NULL, 60, &e) < 0) {
		snprintf(why, wn, "docker cp of %s from service %s failed (%.200s)", path, svc,
		         e.msg);
		return -1;
	}
	r = read_file_max(dest, &pem, &len, MAX_FILE, NULL) == 0 &&
	    strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL;
	free(pem);
	if (!r) {
		snprintf(why, wn, "%s in service %s is not a PEM certificate", path, svc);
		return -1;
	}
	snprintf(from, fn, "service %s: %s", svc, path);
	return 0;
}

/* 1 when the certificate a former health check took is there (ca, and
 * where it came from in fromfile), with from set. */
static int kept_cert(const char *ca, const char *fromfile, char *from, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	int ok = access(ca, R_OK) == 0 && read_file_max(fromfile, &text, &len, 4096, NULL) == 0 &&
	         len > 0 && len < n;

	if (ok)
		snprintf(from, n, "%.*s", (int)len, text);
	free(text);
	return ok;
}

/* Every service running (healthy where checked), polled: a container just
 * started may still be starting. */
static int wait_services(struct agent *a, char *ok, size_t n, struct err *e)
{
	struct project_ref pr;
	char why[1024];
	int i, good = 0;

	project_ref(&a->s, &pr);
	for (i = 1;; i++) {
		int r = services_check(&a->s, &pr, why, sizeof(why), &good);

		if (r < 0)
			return err_set(e, "dockerd does not answer on %s", engine_sock());
		if (r == 0)
			break;
		ev_log("health: services, try %d/%d: %s", i, a->s.health_tries, why);
		if (i >= a->s.health_tries)
			return err_set(e, "not every service runs healthy after %d s: %s",
			               (i - 1) * a->s.health_wait, why);
		if (i % 5 == 0)
			ev_emit("health", "progress", -1, why, NULL);
		if (proc_interrupted)
			return err_set(e, "interrupted");
		sleep((unsigned)a->s.health_wait);
	}
	if (a->s.services[0])
		snprintf(ok, n, "services %s running (healthy where checked)", a->s.services);
	else
		snprintf(ok, n, "%d containers of the project running (healthy where checked)",
		         good);
	return 0;
}

/* The services, then the HTTPS poll with the certificate looked for again
 * on each failed verification, then the TLS 1.1 probe, as one step. */
static int step_health(struct agent *a, enum step_outcome *oc, char *msg, size_t n, struct err *e)
{
	char ca[PATH_MAX], fromfile[PATH_MAX + 8], dir[SET_STR], *slash,
	    from[SET_STR + 160] = "", why[1024] = "", svcs[1200];
	struct health_result r = {0};
	int i, have_cert = 0, unverified = 0, kept = 0;

	if (wait_services(a, svcs, sizeof(svcs), e) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s", a->s.state_file);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(ca, sizeof(ca), "%s/project-cert.pem", slash ? dir : ".");
	snprintf(fromfile, sizeof(fromfile), "%s.from", ca);
	if (a->s.cert_file[0]) {
		snprintf(ca, sizeof(ca), "%s", a->s.cert_file);
		snprintf(from, sizeof(from), "cert_file %s", a->s.cert_file);
		have_cert = 1;
	} else if (kept_cert(ca, fromfile, from, sizeof(from))) {
		/* the copy the last check took (two docker commands fewer, each a
		 * second or so under TCG); taken again when it no longer verifies */
		have_cert = kept = 1;
	}
	for (i = 1; i <= a->s.health_tries; i++) {
		if (proc_interrupted)
			return err_set(e, "interrupted");
		/* A certificate made at the container's first start may not be
		 * there yet: looked for on each try until found, and again when
		 * it no longer verifies. */
		if (!have_cert) {
			have_cert = find_cert(a, ca, from, sizeof(from), why, sizeof(why)) == 0;
			unverified = !have_cert;
			if (have_cert)
				write_file_atomic(fromfile, from, strlen(from), 0644, NULL);
		}
		if (health_get(a->s.domain, a->s.health_port, have_cert ? ca : NULL, &r, e) == 0)
			break;
		if (have_cert && !a->s.cert_file[0] &&
		    (strstr(e->msg, "certificate") || strstr(e->msg, "SSL"))) {
			have_cert = 0;
			if (kept) { /* the kept copy is stale: take it again, no wait */
				kept = 0;
				unlink(fromfile);
				i--;
				continue;
			}
		}
		ev_log("health: try %d/%d: %s", i, a->s.health_tries, e->msg);
		if (i == a->s.health_tries)
			return err_wrap(e, "not healthy after %d tries%s%s", a->s.health_tries,
			                from[0] ? "; certificate from " : "", from);
		if (i % 5 == 0)
			ev_emit("health", "progress", -1, e->msg, NULL);
		sleep((unsigned)a->s.health_wait);
	}
	if (health_old_tls_refused(a->s.domain, a->s.health_port, e) < 0)
		return -1;
	*oc = STEP_OK;
	if (unverified)
		snprintf(msg, n,
		         "https://%s/ (127.0.0.1:%d) HTTP %ld, TLS 1.2+ only (1.1 refused); "
		         "certificate not verified: %s; %s",
		         a->s.domain, a->s.health_port, r.http_code, why, svcs);
	else
		snprintf(msg, n,
		         "https://%s/ (127.0.0.1:%d) HTTP %ld, certificate verified (%s), TLS 1.2+ "
		         "only (1.1 refused); %s",
		         a->s.domain, a->s.health_port, r.http_code, from, svcs);
	return 0;
}

/* ------------------------------------------------------------------ table */

static const struct step table[] = {
    {"hosts", "the domain -> 127.0.0.1 in /etc/hosts", step_hosts},
    {"docker", "Docker engine and compose v2", step_docker},
    {"data", "the compose file's bind-mounted host directories", step_data},
    {"base", "the base images the Dockerfiles build FROM", step_base},
    {"make", "make in the project (build + up)", step_make},
    {"health", "every service running, HTTPS for the domain", step_health},
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
