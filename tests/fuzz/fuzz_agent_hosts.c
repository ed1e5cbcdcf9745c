/*
 * fuzz_agent_hosts.c: libFuzzer target for the agent's /etc/hosts editor.
 *
 * Any bytes are a hosts file.  The editor must not crash or leak, and its
 * result must hold the invariants: exactly one line lists the name (outside
 * comments), with address 127.0.0.1; editing the result again changes
 * nothing.  Unmapping the result leaves no line with the name, and is
 * idempotent too.  The checker below re-parses the output independently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostsfile.h"

#define NAME "jdoe.42.fr"

static int ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Counts lines listing NAME (as a non-first field); *ok_ip = all of them
 * have address 127.0.0.1. */
static int count_mappings(const char *p, size_t n, int *ok_ip)
{
	size_t i = 0;
	int count = 0;

	*ok_ip = 1;
	while (i < n) {
		size_t end = i, body;
		const char *hash;
		size_t f = 0, fs, first_s = 0, first_n = 0;
		int has = 0;

		while (end < n && p[end] != '\n')
			end++;
		hash = memchr(p + i, '#', end - i);
		body = hash ? (size_t)(hash - p) : end;
		fs = i;
		while (fs < body) {
			size_t fe;

			while (fs < body && ws(p[fs]))
				fs++;
			if (fs >= body)
				break;
			fe = fs;
			while (fe < body && !ws(p[fe]))
				fe++;
			if (f == 0) {
				first_s = fs;
				first_n = fe - fs;
			} else if (fe - fs == sizeof(NAME) - 1 && !memchr(p + fs, 0, fe - fs) &&
			           strncasecmp(p + fs, NAME, fe - fs) == 0) {
				has = 1;
			}
			f++;
			fs = fe;
		}
		if (has) {
			count++;
			if (first_n != 9 || memcmp(p + first_s, "127.0.0.1", 9) != 0)
				*ok_ip = 0;
		}
		i = end + 1;
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {.msg = ""};
	char *out = NULL, *again = NULL;
	size_t outlen = 0, againlen = 0;
	int changed, changed2, ok_ip;

	if (hosts_edit((const char *)data, size, NAME, "127.0.0.1", &out, &outlen, &changed, &e) <
	    0)
		abort();
	if (count_mappings(out, outlen, &ok_ip) != 1 || !ok_ip)
		abort();
	if (hosts_edit(out, outlen, NAME, "127.0.0.1", &again, &againlen, &changed2, &e) < 0)
		abort();
	if (changed2 || againlen != outlen || memcmp(again, out, outlen) != 0)
		abort();
	if (!changed && (outlen != size || memcmp(out, data, size) != 0))
		abort();
	free(again);
	again = NULL;
	/* unmapping (ip NULL, what destroy does on the host): no line lists
	 * the name any more, and doing it again changes nothing */
	if (hosts_edit(out, outlen, NAME, NULL, &again, &againlen, &changed2, &e) < 0)
		abort();
	if (count_mappings(again, againlen, &ok_ip) != 0 || !changed2)
		abort();
	free(out);
	out = NULL;
	if (hosts_edit(again, againlen, NAME, NULL, &out, &outlen, &changed, &e) < 0)
		abort();
	if (changed || outlen != againlen || memcmp(out, again, againlen) != 0)
		abort();
	free(out);
	free(again);
	return 0;
}
