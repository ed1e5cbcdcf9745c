# tests/lib/gitleak.sh: is a secret in git?  Proven able to say yes first.
#
#   git_has REPO TEXT
#       0 when TEXT is in a tracked file of REPO's work tree (committed or
#       not) or was added or removed by any commit of any ref; 1 when not;
#       2 (and a line) when git failed (e.g. not a repository, or one
#       owned by another user: git's "dubious ownership").
#   git_leak_check REPO FILE...
#       0 when the secret held in no FILE (its content without the final
#       newline, e.g. secrets/db_password.txt) is in REPO (git_has); else 1
#       and one line naming the first such FILE.  First, on a scratch clone
#       of REPO, the first FILE's secret is planted in a commit and removed
#       by the next: git_has must find it both times (a check that cannot
#       fail proves nothing, and a secret made during the run is in no
#       commit of REPO); when it does not, 1.  Secrets are never printed.
# shellcheck shell=sh

git_has() {
	git -C "$1" grep -qF -e "$2"
	_gh=$?
	[ $_gh -eq 0 ] && return 0
	[ $_gh -eq 1 ] || { echo "git grep in $1 failed (exit $_gh)"; return 2; }
	_gh=$(git -C "$1" log --all --format=%h -S "$2") || { echo "git log in $1 failed"; return 2; }
	[ -n "$_gh" ]
}

git_leak_check() {
	_gr=$1; shift
	[ $# -gt 0 ] || { echo "git_leak_check: no secret file given"; return 1; }
	_gs=$(cat "$1") || return 1
	[ -n "$_gs" ] || { echo "$1: no secret"; return 1; }
	_gd=$(mktemp -d /tmp/inception-gitleak.XXXXXX) || return 1
	_gok=1
	if git clone -q "$_gr" "$_gd/r" 2>"$_gd/err"; then
		printf 'planted=%s\n' "$_gs" >"$_gd/r/planted.txt"
		_gc="git -C $_gd/r -c user.name=test -c user.email=test@localhost"
		if $_gc add planted.txt && $_gc commit -qm plant && git_has "$_gd/r" "$_gs" &&
			$_gc rm -q planted.txt && $_gc commit -qm unplant && git_has "$_gd/r" "$_gs"; then
			_gok=0
		else
			echo "git_has missed a secret planted in a scratch commit"
		fi
	else
		echo "git clone $_gr: $(head -n 1 "$_gd/err")"
	fi
	rm -rf "$_gd"
	[ "$_gok" -eq 0 ] || return 1
	for _gf in "$@"; do
		_gs=$(cat "$_gf") || return 1
		[ -n "$_gs" ] || { echo "$_gf: no secret"; return 1; }
		git_has "$_gr" "$_gs"
		case $? in
		0) echo "the secret in $_gf is in git ($_gr)"; return 1 ;;
		1) ;;
		*) return 1 ;;
		esac
	done
	return 0
}
