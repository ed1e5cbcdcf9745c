# tests/lib/docker.sh: asking the Docker engine whether something is NOT
# there, without reading a failed command's empty output as "nothing there".
#
#   docker_empty ARGS...
#       0 when `docker ARGS...` succeeds and prints nothing (e.g.
#       docker_empty ps -aq --filter label=...); when it fails (engine down,
#       bad filter) or prints something, 1 and one line saying which.
#   docker_absent KIND NAME
#       0 when the engine answers that NAME does not exist (KIND: image or
#       container: `docker KIND inspect NAME` fails with "No such KIND:
#       NAME"); 1 and one line when it exists or the engine gave another
#       error.
# shellcheck shell=sh

docker_empty() {
	_do=$(docker "$@") || { echo "docker $* failed (exit $?)"; return 1; }
	[ -z "$_do" ] || { echo "docker $*: $(printf '%s' "$_do" | tr '\n' ' ')"; return 1; }
}

docker_absent() {
	_do=$(docker "$1" inspect "$2" 2>&1 >/dev/null) && { echo "$1 $2 exists"; return 1; }
	printf '%s\n' "$_do" | grep -qiF "No such $1: $2" && return 0
	echo "docker $1 inspect $2: $(printf '%s' "$_do" | head -n 1)"
	return 1
}
