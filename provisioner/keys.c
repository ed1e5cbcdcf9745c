/*
 * keys.c: per-VM SSH keys with libssh's pki API (see keys.h).
 *
 * A pair is generated only when its private key is missing; a missing public
 * half is derived from the private key, so a key the guest already trusts is
 * never replaced.  Files are written through write_file_atomic with mode
 * 0600 from the start, and existing files get their mode tightened.
 */
#include "keys.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "util.h"

static int write_pub(ssh_key key, const char *path, const char *comment, struct err *e)
{
	char *b64 = NULL, *line = NULL;
	int ret = -1;
	size_t len;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		err_set(e, "export public key for %s failed", path);
		goto done;
	}
	len = strlen(b64) + strlen(comment) + 32;
	line = malloc(len);
	if (line == NULL) {
		err_set(e, "out of memory");
		goto done;
	}
	snprintf(line, len, "ssh-ed25519 %s %s\n", b64, comment);
	ret = write_file_atomic(path, line, strlen(line), 0600, e);
done:
	free(line);
	if (b64)
		ssh_string_free_char(b64);
	return ret;
}

static int write_priv(ssh_key key, const char *path, struct err *e)
{
	char *b64 = NULL;
	int ret;

	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK)
		return err_set(e, "export private key %s failed", path);
	ret = write_file_atomic(path, b64, strlen(b64), 0600, e);
	ssh_string_free_char(b64);
	return ret;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One key pair: priv and priv.pub in dir. */
static int ensure_pair(const char *dir, const char *priv_name, const char *pub_name,
                       const char *comment, struct err *e)
{
	char priv[PATH_MAX], pub[PATH_MAX];
	ssh_key key = NULL;
	int ret = -1;

	if (path_join(priv, sizeof(priv), e, "%s/%s", dir, priv_name) < 0 ||
	    path_join(pub, sizeof(pub), e, "%s/%s", dir, pub_name) < 0)
		return -1;
	if (exists(priv)) {
		if (chmod(priv, 0600) < 0)
			return err_set(e, "chmod %s: %s", priv, strerror(errno));
		if (exists(pub))
			return chmod(pub, 0600) < 0
			           ? err_set(e, "chmod %s: %s", pub, strerror(errno))
			           : 0;
		/* Public half lost: derive it, never replace the pair. */
		if (ssh_pki_import_privkey_file(priv, NULL, NULL, NULL, &key) != SSH_OK) {
			err_set(e, "%s is not a readable private key (remove it to get a new one)",
			        priv);
			goto done;
		}
		ret = write_pub(key, pub, comment, e);
		goto done;
	}
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		err_set(e, "generating an ed25519 key for %s failed", priv);
		goto done;
	}
	/* Public first: a crash in between leaves no private key, so the next
	 * run makes a fresh consistent pair. */
	if (write_pub(key, pub, comment, e) < 0 || write_priv(key, priv, e) < 0)
		goto done;
	ret = 0;
done:
	ssh_key_free(key);
	return ret;
}

int keys_ensure(const char *state_dir, struct err *e)
{
	if (mkdir_p(state_dir, 0700, e) < 0)
		return -1;
	if (chmod(state_dir, 0700) < 0)
		return err_set(e, "chmod %s: %s", state_dir, strerror(errno));
	if (ensure_pair(state_dir, KEYS_USER, KEYS_USER_PUB, "inception-user", e) < 0)
		return -1;
	return ensure_pair(state_dir, KEYS_HOST, KEYS_HOST_PUB, "inception-host", e);
}
