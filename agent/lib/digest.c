/*
 * digest.c: SHA-256 as hex (see digest.h).
 */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], struct err *e)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	ssize_t r;

	if (fd < 0 || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_set(e, "read %s: %s", path, fd < 0 ? strerror(errno) : "digest init failed");
		goto done;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			EVP_DigestUpdate(ctx, buf, (size_t)r);
	if (r < 0) {
		err_set(e, "read %s: %s", path, strerror(errno));
		goto done;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		err_set(e, "read %s: digest failed", path);
		goto done;
	}
	hex_encode(md, mdlen, hex);
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return rc;
}

void sha256_mem(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, hex);
}
