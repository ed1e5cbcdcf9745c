/*
 * pgpkey.c: OpenPGP v4 key fingerprints and the pinned keyring (see
 * pgpkey.h).
 */
#include "pgpkey.h"

#include "buf.h"

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

/* The decoded packets and the keyring written from them (struct buf): never
 * larger than the downloaded file, which steps.c caps at 1 MiB. */
#define PGP_MAX (4u << 20)

/* One armor block -> binary, appended to buf.  s points at the BEGIN line;
 * *next gets the position after the END line.
 * Longer than 60 lines: the armor's lines (header, blank, base64, CRC, END) are checked in the
 * order they come. */
static int dearmor_block(const char *s, size_t n, struct buf *out, const char **next, struct err *e)
{
	static const char endtag[] = "-----END PGP PUBLIC KEY BLOCK-----";
	const char *end, *p, *body, *crcline = NULL;
	unsigned char *tmp = NULL, crcb[4];
	long got;

	end = find(s, n, endtag);
	if (end == NULL)
		return err_set(e, "truncated OpenPGP key (no END line)");
	*next = end + sizeof(endtag) - 1;
	/* Skip the BEGIN line and the armor headers, up to the first empty line. */
	p = memchr(s, '\n', (size_t)(end - s));
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
		if (*p == '=' && (p == body || p[-1] == '\n') && p + 5 <= end &&
		    b64val(p[1]) >= 0) {
			crcline = p;
			break;
		}
	tmp = malloc((size_t)(end - body) + 1);
	if (tmp == NULL)
		return err_set(e, "out of memory");
	got = b64decode(body, (size_t)((crcline ? crcline : end) - body), tmp);
	if (got <= 0) {
		free(tmp);
		return err_set(e, "malformed base64 in OpenPGP armor");
	}
	if (crcline) {
		unsigned long want;

		if (b64decode(crcline + 1, 4, crcb) != 3) {
			free(tmp);
			return err_set(e, "malformed armor checksum");
		}
		want = ((unsigned long)crcb[0] << 16) | ((unsigned long)crcb[1] << 8) | crcb[2];
		if (want != crc24(tmp, (size_t)got)) {
			free(tmp);
			return err_set(e, "OpenPGP armor checksum mismatch (corrupted key)");
		}
	}
	if (buf_add(out, tmp, (size_t)got, "OpenPGP key", e) < 0) {
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* The packets of a key file: binary as is, armored with every armor block
 * decoded and concatenated (text around the blocks is ignored, as gpg
 * ignores it; it never reaches the keyring we write). */
static int decode(const unsigned char *data, size_t len, struct buf *out, struct err *e)
{
	static const char begintag[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	const char *s = (const char *)data, *p = s, *begin;
	int blocks = 0;

	if (len > 0 && (data[0] & 0x80))
		return buf_add(out, data, len, "OpenPGP key", e);
	while ((begin = find(p, len - (size_t)(p - s), begintag)) != NULL) {
		if (dearmor_block(begin, len - (size_t)(begin - s), out, &p, e) < 0)
			return -1;
		blocks++;
	}
	if (blocks == 0)
		return err_set(e, "not an OpenPGP public key (no BEGIN PGP PUBLIC KEY BLOCK)");
	return 0;
}

/* The packet at p[0..n): *tag, *body, *bodylen, *total (header + body). */
static int packet_at(const unsigned char *p, size_t n, int *tag, const unsigned char **body,
                     size_t *bodylen, size_t *total, struct err *e)
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
			blen = ((size_t)p[2] << 24) | ((size_t)p[3] << 16) | ((size_t)p[4] << 8) |
			       p[5];
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
			blen = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) |
			       p[4];
			hdr = 5;
		} else {
			return err_set(e, "indeterminate-length key packet not supported");
		}
	}
	if (blen > n - hdr)
		return err_set(e, "truncated OpenPGP packet");
	*body = p + hdr;
	*bodylen = blen;
	*total = hdr + blen;
	return 0;
}

static void hexify(const unsigned char md[20], char fpr[41])
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	for (i = 0; i < 20; i++) {
		fpr[2 * i] = hex[md[i] >> 4];
		fpr[2 * i + 1] = hex[md[i] & 15];
	}
	fpr[40] = '\0';
}

/* RFC 4880 12.2: SHA-1 over 0x99, the two-byte length and the body of a v4
 * key or subkey packet. */
static int key_fingerprint(const unsigned char *body, size_t bodylen, unsigned char md[20],
                           struct err *e)
{
	unsigned char pre[3], out[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (bodylen < 1 || body[0] != 4)
		return err_set(e, "OpenPGP key version %d not supported (need 4)",
		               bodylen ? body[0] : -1);
	if (bodylen > 0xFFFF)
		return err_set(e, "OpenPGP v4 key packet too long");
	pre[0] = 0x99;
	pre[1] = (unsigned char)(bodylen >> 8);
	pre[2] = (unsigned char)(bodylen & 0xFF);
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, pre, 3) == 1 && EVP_DigestUpdate(ctx, body, bodylen) == 1 &&
	     EVP_DigestFinal_ex(ctx, out, &mdlen) == 1 && mdlen == 20;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set(e, "SHA-1 failed");
	memcpy(md, out, 20);
	return 0;
}

int pgp_fingerprint(const unsigned char *data, size_t len, char fpr[41], struct err *e)
{
	struct buf b;
	const unsigned char *body = NULL;
	unsigned char md[20];
	size_t bodylen = 0, total = 0;
	int tag = 0, rc = -1;

	buf_init(&b, PGP_MAX);
	if (decode(data, len, &b, e) < 0)
		goto done;
	if (packet_at((const unsigned char *)b.p, b.len, &tag, &body, &bodylen, &total, e) < 0)
		goto done;
	if (tag != 6) {
		err_set(e, "first OpenPGP packet is tag %d, not a public key (6)", tag);
		goto done;
	}
	if (key_fingerprint(body, bodylen, md, e) < 0)
		goto done;
	hexify(md, fpr);
	rc = 0;
done:
	buf_free(&b);
	return rc;
}

/* Walks the subpackets of one area: *issuer_is_primary set to 1 when an
 * issuer fingerprint (33) or issuer key ID (16) names the primary key, to
 * -1 when one names another key. */
static int scan_subpackets(const unsigned char *p, size_t n, const unsigned char primary[20],
                           int *issuer, struct err *e)
{
	size_t i = 0;

	while (i < n) {
		size_t len, hl;
		int type;

		if (p[i] < 192) {
			len = p[i];
			hl = 1;
		} else if (p[i] < 255) {
			if (n - i < 2)
				return err_set(e, "truncated OpenPGP signature subpacket");
			len = ((size_t)(p[i] - 192) << 8) + p[i + 1] + 192;
			hl = 2;
		} else {
			if (n - i < 5)
				return err_set(e, "truncated OpenPGP signature subpacket");
			len = ((size_t)p[i + 1] << 24) | ((size_t)p[i + 2] << 16) |
			      ((size_t)p[i + 3] << 8) | p[i + 4];
			hl = 5;
		}
		if (len < 1 || len > n - i - hl)
			return err_set(e, "malformed OpenPGP signature subpacket");
		type = p[i + hl] & 0x7F;
		if (type == 16 && len == 9)
			*issuer = memcmp(p + i + hl + 1, primary + 12, 8) == 0 ? 1 : -1;
		else if (type == 33 && len == 22 && p[i + hl + 1] == 4)
			*issuer = memcmp(p + i + hl + 2, primary, 20) == 0 ? 1 : -1;
		if (*issuer < 0)
			return 0;
		i += hl + len;
	}
	return 0;
}

/* 1 when the signature packet was issued by the primary key, 0 when by
 * another key or no issuer is named. */
static int issued_by(const unsigned char *s, size_t n, const unsigned char primary[20],
                     struct err *e)
{
	int issuer = 0;
	size_t hashed, unhashed;

	if (n >= 1 && s[0] == 3) {
		if (n < 15)
			return err_set(e, "truncated OpenPGP signature");
		return memcmp(s + 7, primary + 12, 8) == 0;
	}
	if (n < 6 || s[0] != 4)
		return err_set(e, "OpenPGP signature version %d not supported", n ? s[0] : -1);
	hashed = ((size_t)s[4] << 8) | s[5];
	if (hashed > n - 6 || n - 6 - hashed < 2)
		return err_set(e, "truncated OpenPGP signature");
	unhashed = ((size_t)s[6 + hashed] << 8) | s[7 + hashed];
	if (unhashed > n - 8 - hashed)
		return err_set(e, "truncated OpenPGP signature");
	if (scan_subpackets(s + 6, hashed, primary, &issuer, e) < 0)
		return -1;
	if (issuer == 0 && scan_subpackets(s + 8 + hashed, unhashed, primary, &issuer, e) < 0)
		return -1;
	return issuer > 0;
}

static int normalise_pin(const char *want, char norm[41], struct err *e)
{
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
	return 0;
}

/*
 * The walk over a key file's packets, as one transferable public key (RFC
 * 4880 11.1): a primary key, then user IDs, user attributes, signatures
 * and subkeys.  A second primary key, a packet of any other kind, or a
 * subkey whose signatures were not issued by the primary key (a subkey
 * grafted from another key) refuses the whole file.  Issuers are compared,
 * signatures are not verified here: apt's gpgv verifies every binding
 * signature and ignores a subkey whose binding does not verify.
 */
int pgp_pinned_keyring(const unsigned char *data, size_t len, const char *want, unsigned char **out,
                       size_t *outlen, struct err *e)
{
	struct buf b, kr;
	unsigned char primary[20] = {0}, md[20] = {0};
	char norm[41], fpr[41], sub[41] = "";
	size_t off = 0;
	int rc = -1, keys = 0, in_subkey = 0, sub_bound = 0;

	buf_init(&b, PGP_MAX);
	buf_init(&kr, PGP_MAX);
	if (normalise_pin(want, norm, e) < 0)
		return -1;
	if (decode(data, len, &b, e) < 0)
		goto done;
	if (b.len == 0) {
		err_set(e, "empty OpenPGP key");
		goto done;
	}
	while (off < b.len) {
		const unsigned char *body = NULL;
		size_t bodylen = 0, total = 0;
		int tag = 0, by = 0;

		if (packet_at((const unsigned char *)b.p + off, b.len - off, &tag, &body, &bodylen,
		              &total, e) < 0)
			goto done;
		if (keys == 0 && tag != 6) {
			err_set(e, "first OpenPGP packet is tag %d, not a public key (6)", tag);
			goto done;
		}
		switch (tag) {
		case 6: /* primary key */
			if (key_fingerprint(body, bodylen, md, e) < 0)
				goto done;
			hexify(md, fpr);
			if (keys++ == 0) {
				memcpy(primary, md, 20);
				if (strcmp(fpr, norm) != 0) {
					err_set(e,
					        "key fingerprint %s is not the pinned %s: "
					        "refusing to trust it",
					        fpr, norm);
					goto done;
				}
			} else {
				err_set(e,
				        "key file holds another key (%s) besides the pinned %s: "
				        "refusing to trust it",
				        fpr, norm);
				goto done;
			}
			break;
		case 14: /* subkey: its signatures must come from the primary */
			if (in_subkey && !sub_bound)
				goto unbound;
			if (key_fingerprint(body, bodylen, md, e) < 0)
				goto done;
			hexify(md, sub);
			in_subkey = 1;
			sub_bound = 0;
			break;
		case 2: /* signature */
			if (!in_subkey)
				break;
			by = issued_by(body, bodylen, primary, e);
			if (by < 0)
				goto done;
			if (by == 0) {
				err_set(e,
				        "subkey %s of key %s is signed by another key (a foreign "
				        "subkey): refusing to trust it",
				        sub, norm);
				goto done;
			}
			sub_bound = 1;
			break;
		case 13: /* user ID */
		case 17: /* user attribute */
			if (in_subkey && !sub_bound)
				goto unbound;
			in_subkey = 0;
			break;
		case 12: /* trust: local to a keyring, never copied */ off += total; continue;
		default:
			err_set(
			    e, "unexpected OpenPGP packet (tag %d) in key %s: refusing to trust it",
			    tag, norm);
			goto done;
		}
		if (buf_add(&kr, b.p + off, total, "keyring", e) < 0)
			goto done;
		off += total;
	}
	if (in_subkey && !sub_bound)
		goto unbound;
	if (out) {
		*out = (unsigned char *)buf_detach(&kr, outlen);
		if (*out == NULL) {
			err_set(e, "out of memory");
			goto done;
		}
	}
	rc = 0;
	goto done;
unbound:
	err_set(e, "subkey %s of key %s has no binding signature: refusing to trust it", sub, norm);
done:
	buf_free(&b);
	buf_free(&kr);
	return rc;
}

int pgp_check_fingerprint(const unsigned char *data, size_t len, const char *want, struct err *e)
{
	return pgp_pinned_keyring(data, len, want, NULL, NULL, e);
}
