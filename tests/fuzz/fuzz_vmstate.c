/*
 * fuzz_vmstate.c: libFuzzer target for the vm.state parser (vmstate.c).
 * Any text must parse or fail with a message; a state that parses is
 * written out, and that text parses back to a state that writes out the
 * same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char once[16384], twice[16384];
	struct vm_state s;
	struct err e = {.msg = ""};
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (vmstate_parse(text, &s, &e) == 0) {
		if (vmstate_format(&s, once, sizeof(once), &e) < 0 ||
		    vmstate_parse(once, &s, &e) < 0 ||
		    vmstate_format(&s, twice, sizeof(twice), &e) < 0 || strcmp(once, twice) != 0)
			abort();
	} else if (e.msg[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
