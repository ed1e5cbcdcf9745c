/*
 * fuzz_config.c: libFuzzer target for the YAML configuration loader.
 * Any input must either load or fail with a message; never crash, leak or
 * read out of bounds.  The loaded config is also validated and formatted.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct err e;
	char buf[2048];
	const char *const *keys;

	config_defaults(&c);
	err_clear(&e);
	if (config_load_buffer(&c, "fuzz.yaml", (const char *)data, size, &e) == 0) {
		config_validate(&c, &e);
		for (keys = config_keys(); *keys; keys++)
			config_format(&c, *keys, buf, sizeof(buf));
	} else if (e.msg[0] == '\0') {
		__builtin_trap(); /* every failure must say why */
	}
	config_free(&c);
	return 0;
}
