/*
 * fuzz_sha512sums.c: libFuzzer target for the SHA512SUMS parser
 * (image_sums_find), which reads a file downloaded from the network.  The
 * first line of the input is the file name to look up, the rest the
 * checksums file.  A digest found is 128 lowercase hex digits; a failure
 * says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char hex[IMAGE_SHA512_HEX + 1], *name;
	struct err e = {.msg = ""};
	size_t nlen = nl ? (size_t)(nl - (const char *)data) : size, i;

	name = malloc(nlen + 1);
	if (name == NULL)
		return 0;
	memcpy(name, data, nlen);
	name[nlen] = '\0';
	if (image_sums_find(nl ? nl + 1 : "", nl ? size - nlen - 1 : 0, name, hex, &e) == 0) {
		for (i = 0; i < IMAGE_SHA512_HEX; i++)
			if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
				abort();
		if (hex[IMAGE_SHA512_HEX] != '\0')
			abort();
	} else if (e.msg[0] == '\0') {
		abort();
	}
	free(name);
	return 0;
}
