/*
 * fuzz_manifest.c: libFuzzer target for the push manifest parser (push.h),
 * which reads the manifest back from the guest.  Any text must parse or
 * fail with a message; what parses, formatted and parsed again, formats
 * to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* parse(text) formatted, or NULL when it does not parse. */
static char *reformat(const char *text)
{
	struct push_entry *v = NULL;
	struct err e = {.msg = ""};
	long n = push_manifest_parse(text, &v, &e);
	char *out;

	if (n < 0) {
		if (e.msg[0] == '\0')
			abort(); /* every failure says why */
		return NULL;
	}
	out = push_manifest_format(v, (size_t)n);
	push_entries_free(v, (size_t)n);
	if (out == NULL)
		abort();
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *once, *twice;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	once = reformat(text);
	if (once != NULL) {
		twice = reformat(once);
		if (twice == NULL || strcmp(once, twice) != 0)
			abort();
		free(twice);
	}
	free(once);
	free(text);
	return 0;
}
