/*
 * pgpkey.c: OpenPGP v4 key fingerprints (see pgpkey.h).
 */
#include "pgpkey.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define CRC24_INIT 0xB704CEL
#define CRC24_POLY 0x1864CFBL

static unsigned long crc24(const unsigned char *p, size_t n)
{
	unsigned long crc = CRC24_INIT;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned long)p[i] << 16;
		for (k = 0; k < 8; k++) {
			crc <<= 1;
			if (crc & 0x1000000)
				crc ^= CRC24_POLY;
		}
	}
	return crc & 0xFFFFFFL;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes base64 from s[0..n) into out (capacity >= n), skipping
 * whitespace; stops at '='.  Returns the byte count or -1. */
static long b64decode(const char *s, size_t n, unsigned char *out)
{
	unsigned long acc = 0;
	int bits = 0;
	long o = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int v;

		if (isspace((unsigned char)s[i]))
			continue;
		if (s[i] == '=')
			break;
		v = b64val((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)((acc >> bits) & 0xFF);
		}
	}
	return o;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

/* Armor -> binary.  *bin is malloc'd. */
static int dearmor(const char *s, size_t n, unsigned char **bin, size_t *binlen, struct err *e)
{
	const char *begin, *end, *p, *body, *crcline = NULL;
	unsigned char *out = NULL, crcb[4];
	long got;

	begin = find(s, n, "-----BEGIN PGP PUBLIC KEY BLOCK-----");
	if (begin == NULL)
		return err_set(e, "not an OpenPGP public key (no BEGIN PGP PUBLIC KEY BLOCK)");
	end = find(begin, n - (size_t)(begin - s), "-----END PGP PUBLIC KEY BLOCK-----");
	if (end == NULL)
		return err_set(e, "truncated OpenPGP key (no END line)");
	/* Skip the BEGIN line and the armor headers, up to the first empty line. */
	p = memchr(begin, '\n', (size_t)(end - begin));
	if (p == NULL)
		return err_set(e, "malformed OpenPGP armor");
	p++;
	body = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);

		while (ln > 0 && (p[ln - 1] == '\r' || p[ln - 1] == ' ' || p[ln - 1] == '\t'))
			ln--;
		if (ln == 0) {
			body = nl ? nl + 1 : end;
			break;
		}
		if (memchr(p, ':', ln) == NULL) { /* no headers at all */
			body = p;
			break;
		}
		p = nl ? nl + 1 : end;
	}
	if (body == NULL)
		return err_set(e, "malformed OpenPGP armor (no body)");
	/* The checksum line starts with '=' at the start of a line. */
	for (p = body; p < end; p++)
		if (*p == '=' && (p == body || p[-1] == '\n') && p + 5 <= end && b64val(p[1]) >= 0) {
			crcline = p;
			break;
		}
	out = malloc((size_t)(end - body) + 1);
	if (out == NULL)
		return err_set(e, "out of memory");
	got = b64decode(body, (size_t)((crcline ? crcline : end) - body), out);
	if (got <= 0) {
		free(out);
		return err_set(e, "malformed base64 in OpenPGP armor");
	}
	if (crcline) {
		unsigned long want;

		if (b64decode(crcline + 1, 4, crcb) != 3) {
			free(out);
			return err_set(e, "malformed armor checksum");
		}
		want = ((unsigned long)crcb[0] << 16) | ((unsigned long)crcb[1] << 8) | crcb[2];
		if (want != crc24(out, (size_t)got)) {
			free(out);
			return err_set(e, "OpenPGP armor checksum mismatch (corrupted key)");
		}
	}
	*bin = out;
	*binlen = (size_t)got;
	return 0;
}

/* Reads the first packet header; *tag, *body, *bodylen. */
static int first_packet(const unsigned char *p, size_t n, int *tag, const unsigned char **body,
			size_t *bodylen, struct err *e)
{
	size_t hdr, blen;

	if (n < 2 || !(p[0] & 0x80))
		return err_set(e, "not an OpenPGP packet");
	if (p[0] & 0x40) { /* new format */
		*tag = p[0] & 0x3F;
		if (p[1] < 192) {
			blen = p[1];
			hdr = 2;
		} else if (p[1] < 224) {
			if (n < 3)
				return err_set(e, "truncated OpenPGP packet");
			blen = ((size_t)(p[1] - 192) << 8) + p[2] + 192;
			hdr = 3;
		} else if (p[1] == 255) {
			if (n < 6)
				return err_set(e, "truncated OpenPGP packet");
			blen = ((size_t)p[2] << 24) | ((size_t)p[3] << 16) | ((size_t)p[4] << 8) | p[5];
			hdr = 6;
		} else {
			return err_set(e, "partial-length key packet not supported");
		}
	} else { /* old format */
		int lt = p[0] & 3;

		*tag = (p[0] >> 2) & 0x0F;
		if (lt == 0) {
			blen = p[1];
			hdr = 2;
		} else if (lt == 1) {
			if (n < 3)
				return err_set(e, "truncated OpenPGP packet");
			blen = ((size_t)p[1] << 8) | p[2];
			hdr = 3;
		} else if (lt == 2) {
			if (n < 5)
				return err_set(e, "truncated OpenPGP packet");
			blen = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) | p[4];
			hdr = 5;
		} else {
			return err_set(e, "indeterminate-length key packet not supported");
		}
	}
	if (blen > n - hdr)
		return err_set(e, "truncated OpenPGP packet");
	*body = p + hdr;
	*bodylen = blen;
	return 0;
}

int pgp_fingerprint(const unsigned char *data, size_t len, char fpr[41], struct err *e)
{
	unsigned char *bin = NULL, md[EVP_MAX_MD_SIZE], pre[3];
	const unsigned char *key = NULL, *body = NULL;
	size_t keylen = 0, bodylen = 0;
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = NULL;
	int tag = 0, rc = -1;

	if (len > 0 && (data[0] & 0x80)) { /* binary */
		key = data;
		keylen = len;
	} else {
		if (dearmor((const char *)data, len, &bin, &keylen, e) < 0)
			return -1;
		key = bin;
	}
	if (first_packet(key, keylen, &tag, &body, &bodylen, e) < 0)
		goto done;
	if (tag != 6) {
		err_set(e, "first OpenPGP packet is tag %d, not a public key (6)", tag);
		goto done;
	}
	if (bodylen < 1 || body[0] != 4) {
		err_set(e, "OpenPGP key version %d not supported (need 4)", bodylen ? body[0] : -1);
		goto done;
	}
	if (bodylen > 0xFFFF) {
		err_set(e, "OpenPGP v4 key packet too long");
		goto done;
	}
	pre[0] = 0x99;
	pre[1] = (unsigned char)(bodylen >> 8);
	pre[2] = (unsigned char)(bodylen & 0xFF);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, pre, 3) != 1 || EVP_DigestUpdate(ctx, body, bodylen) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20) {
		err_set(e, "SHA-1 failed");
		goto done;
	}
	for (i = 0; i < 20; i++) {
		static const char hex[] = "0123456789ABCDEF";

		fpr[2 * i] = hex[md[i] >> 4];
		fpr[2 * i + 1] = hex[md[i] & 15];
	}
	fpr[40] = '\0';
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	free(bin);
	return rc;
}

int pgp_check_fingerprint(const unsigned char *data, size_t len, const char *want, struct err *e)
{
	char got[41], norm[41];
	size_t n = 0;

	for (; *want; want++) {
		if (*want == ' ')
			continue;
		if (n == 40 || !isxdigit((unsigned char)*want))
			return err_set(e, "invalid pinned fingerprint");
		norm[n++] = (char)toupper((unsigned char)*want);
	}
	norm[n] = '\0';
	if (n != 40)
		return err_set(e, "invalid pinned fingerprint");
	if (pgp_fingerprint(data, len, got, e) < 0)
		return -1;
	if (strcmp(got, norm) != 0)
		return err_set(e, "key fingerprint %s is not the pinned %s: refusing to trust it", got,
			       norm);
	return 0;
}
