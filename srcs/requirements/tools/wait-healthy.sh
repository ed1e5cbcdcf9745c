#!/bin/sh
# wait-healthy.sh: wait until every given container reports "healthy".
#
# Usage: wait-healthy.sh SECONDS CONTAINER...
# Polls `docker inspect` once a second for at most SECONDS.  Exit 0 when all
# are healthy; 1 on timeout, or at once when a container has no health
# check or is neither running nor restarting; the states are then printed.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 SECONDS CONTAINER..." >&2; exit 2; }
limit=$1
shift

states() {
	docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$@"
}

start=$(date +%s)
while :; do
	out=$(states "$@") || exit 1
	pending=0
	for s in $(printf '%s\n' "$out" | awk '{print $2 ":" $3}'); do
		case $s in
		running:healthy) ;;
		running:starting | running:unhealthy | restarting:* | created:*) pending=1 ;;
		*) printf '%s\n' "$out" >&2; exit 1 ;;
		esac
	done
	[ "$pending" -eq 0 ] && exit 0
	if [ $(($(date +%s) - start)) -ge "$limit" ]; then
		echo "not healthy after ${limit}s:" >&2
		printf '%s\n' "$out" >&2
		exit 1
	fi
	sleep 1
done
