# tests/unit/install.sh: sourced by tests/unit/run (after the build).
#
# `make install` into a temporary PREFIX, then the installed pieces work
# from there and nothing else: the binary's --help, the man page through
# `man -l` without a warning, the bash completion generated from the command
# table, the agent, and the data files found relative to PREFIX/bin (a copy
# of the seed unit test, run from PREFIX/bin, renders the cloud-init
# templates from PREFIX/share/inception).  Then DESTDIR staging and
# `make uninstall`.
# shellcheck shell=sh

inst=$(mktemp -d /tmp/inception-install.XXXXXX)
ilog=build/unit-install.log
if make install PREFIX="$inst/usr" >"$ilog" 2>&1; then
	t_ok "install: make install PREFIX=..."
else
	t_fail "install: make install PREFIX=..." "see $ilog"
	tail -n 20 "$ilog" | sed 's/^/#   /'
fi

out=$("$inst/usr/bin/inception" --help 2>&1); rc=$?
case $out in
*"usage: inception"*"  destroy "*)
	if [ $rc -eq 0 ]; then t_ok "install: PREFIX/bin/inception --help"
	else t_fail "install: PREFIX/bin/inception --help" "exit $rc"; fi ;;
*) t_fail "install: PREFIX/bin/inception --help" "exit $rc: $out" ;;
esac

page=$inst/usr/share/man/man1/inception.1
warn=$(MANPAGER=cat MANWIDTH=80 man --warnings -l "$page" 2>&1 >"$inst/man.txt"); rc=$?
if [ $rc -eq 0 ] && [ -z "$warn" ] && grep -q '^EXIT STATUS' "$inst/man.txt" &&
	grep -q 'inception - a Debian VM' "$inst/man.txt"; then
	t_ok "install: man -l renders the installed page without a warning"
else
	t_fail "install: man -l renders the installed page without a warning" "exit $rc: $warn"
fi
# The page names every command, configuration flag and exit code the binary has.
missing=""
for w in $("$inst/usr/bin/inception" --complete-commands) \
	$("$inst/usr/bin/inception" config --keys | awk '$2 ~ /^--/ { print $2 }'); do
	grep -qF -- "$w" "$inst/man.txt" || missing="$missing $w"
done
for code in 0 1 2 3 4 5 6; do
	grep -Eq "^       $code  " "$inst/man.txt" || missing="$missing exit-$code"
done
if [ -z "$missing" ]; then t_ok "install: the man page covers every command, config flag and exit code"
else t_fail "install: the man page covers every command, config flag and exit code" "missing:$missing"; fi

comp=$inst/usr/share/bash-completion/completions/inception
out=$(bash -c '
	. "$1"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _inception; echo "${COMPREPLY[*]}"; }
	c inception de; c inception image ""; c inception --memory 4G up --no; c inception ""
' sh "$comp" 2>&1)
want="destroy
fetch build list export import prune
--no-build-fallback
$("$inst/usr/bin/inception" --complete-commands | tr '\n' ' ' | sed 's/ $//')"
if [ "$out" = "$want" ]; then t_ok "install: bash completion from the command table (commands, subcommands, flags)"
else t_fail "install: bash completion from the command table" "got: $(printf '%s' "$out" | tr '\n' '|')"; fi

t_check "install: the agent runs from PREFIX/lib/inception" "$inst/usr/lib/inception/agent" --version
# the seed test finds cloud-init/ through data_path(), from PREFIX/bin
cp build/unit-vg/test_seed "$inst/usr/bin/test_seed"
t_check "install: data files found from PREFIX/bin (cloud-init templates in PREFIX/share)" \
	env -u INCEPTION_DATADIR "$inst/usr/bin/test_seed"
rm -f "$inst/usr/bin/test_seed"
t_check "install: the agent's sources for build-in-guest are in PREFIX/share" \
	test -x "$inst/usr/share/inception/agent/build-in-guest.sh" -a \
	-f "$inst/usr/share/inception/agent/main.c" -a -f "$inst/usr/share/inception/agent/lib/err.c"

if make install DESTDIR="$inst/stage" PREFIX=/opt/inc >>"$ilog" 2>&1 &&
	[ -x "$inst/stage/opt/inc/bin/inception" ] && [ -f "$inst/stage/opt/inc/share/man/man1/inception.1" ]; then
	t_ok "install: DESTDIR stages under DESTDIR/PREFIX"
else
	t_fail "install: DESTDIR stages under DESTDIR/PREFIX" "see $ilog"
fi
make uninstall PREFIX="$inst/usr" >>"$ilog" 2>&1; rc=$?
left=$(find "$inst/usr" -type f | head -n 5)
if [ $rc -eq 0 ] && [ -z "$left" ]; then t_ok "install: make uninstall removes every file"
else t_fail "install: make uninstall removes every file" "exit $rc, left: $left"; fi
rm -rf "$inst"
