# tests/lib/tap.sh: the one way every shell test tier reports results.
#
# A tier script sources this file, calls t_ok/t_fail (or t_check NAME CMD...)
# once per named check, then `t_done`, which prints the tier's closing line
# and returns non-zero when anything failed.  Output is TAP-like
# ("ok N - name" / "not ok N - name"), which tests/run counts across tiers.
# shellcheck shell=sh

T_N=0
T_PASS=0
T_FAIL=0
T_TIER=${T_TIER:-tier}

t_ok() {
	T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1))
	printf 'ok %d - %s\n' "$T_N" "$1"
}

# t_fail NAME [WHY...]: record a failure; the reason is printed as a
# TAP diagnostic so the log says what went wrong, not just that it did.
t_fail() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1))
	printf 'not ok %d - %s\n' "$T_N" "$1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$*"
	return 0
}

# t_check NAME CMD...: run CMD with its output captured; pass on exit 0.
# On failure the last lines of the output are shown as diagnostics.
t_check() {
	_name=$1; shift
	_out=$("$@" 2>&1); _rc=$?
	if [ "$_rc" -eq 0 ]; then
		t_ok "$_name"
	else
		t_fail "$_name" "exit $_rc: $*"
		printf '%s\n' "$_out" | tail -n 15 | sed 's/^/#     /'
	fi
	return 0
}

# t_note TEXT: a diagnostic line that is not a result.
t_note() { printf '# %s\n' "$*"; }

t_done() {
	printf '%s: %d passed, %d failed\n' "$T_TIER" "$T_PASS" "$T_FAIL"
	[ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
}
