/*
 * fuzz_events.c: libFuzzer target for the host's parser of the agent's
 * event lines (agentrun.c), which reads what the guest sends: untrusted.
 * Any line must parse or be refused without a crash, a leak or a read out
 * of bounds; a parsed event has a step and a state, every field
 * NUL-terminated inside its array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_event ev;
	char *line = malloc(size + 1);

	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (agent_event_parse(line, &ev) == 0 &&
	    (strnlen(ev.step, sizeof(ev.step)) == sizeof(ev.step) || ev.step[0] == '\0' ||
	     strnlen(ev.state, sizeof(ev.state)) == sizeof(ev.state) || ev.state[0] == '\0' ||
	     strnlen(ev.msg, sizeof(ev.msg)) == sizeof(ev.msg) ||
	     strnlen(ev.log, sizeof(ev.log)) == sizeof(ev.log)))
		abort();
	free(line);
	return 0;
}
