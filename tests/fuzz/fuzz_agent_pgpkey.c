/*
 * fuzz_agent_pgpkey.c: libFuzzer target for the OpenPGP key parser that
 * pins Docker's apt key (agent/pgpkey.c), which reads a downloaded file.
 * Any bytes must be accepted or refused with a message.  The pin is the
 * fingerprint of the key the input starts with, so the whole-file checks
 * are reached; a keyring accepted is that key alone: parsed again it gives
 * the same keyring and the same fingerprint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgpkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {.msg = ""};
	unsigned char *kr = NULL, *again = NULL;
	size_t krlen = 0, againlen = 0;
	char fpr[41], fpr2[41];

	if (pgp_fingerprint(data, size, fpr, &e) < 0) {
		if (e.msg[0] == '\0')
			abort();
		return 0;
	}
	if (pgp_pinned_keyring(data, size, fpr, &kr, &krlen, &e) < 0) {
		if (e.msg[0] == '\0')
			abort();
		return 0;
	}
	if (krlen == 0 || pgp_fingerprint(kr, krlen, fpr2, &e) < 0 || strcmp(fpr, fpr2) != 0)
		abort();
	if (pgp_pinned_keyring(kr, krlen, fpr, &again, &againlen, &e) < 0 || againlen != krlen ||
	    memcmp(again, kr, krlen) != 0)
		abort();
	free(again);
	free(kr);
	return 0;
}
