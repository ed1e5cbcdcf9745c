#!/bin/sh
# wait-healthy.sh: wait until every given container reports "healthy".
#
# Usage: wait-healthy.sh SECONDS CONTAINER...
# Polls `docker inspect` once a second for at most SECONDS (0: look once).
# Exit 0 when all are healthy; 1 on timeout, or at once when a container is
# missing, has no health check, or is neither running nor about to; the
# states are then printed.  A host-side tool of the Makefile, not part of
# any container.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 SECONDS CONTAINER..." >&2; exit 2; }
deadline=$(($(date +%s) + $1))
shift

# all_healthy: 0 all healthy, 1 some still starting, 2 some never will be.
all_healthy() {
	out=$(docker inspect -f '{{.Name}} {{.State.Status}} {{with index .State "Health"}}{{.Status}}{{else}}none{{end}}' "$@" 2>&1) ||
		return 2
	rc=0
	for s in $(printf '%s\n' "$out" | awk '{print $2 ":" $3}'); do
		case $s in
		running:healthy) ;;
		running:starting | running:unhealthy | restarting:* | created:*) rc=1 ;;
		*) return 2 ;;
		esac
	done
	return $rc
}

rc=0
all_healthy "$@" || rc=$?
while [ "$rc" -eq 1 ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 1
	rc=0
	all_healthy "$@" || rc=$?
done
[ "$rc" -eq 0 ] && exit 0
[ "$rc" -eq 1 ] && echo "not healthy in time:" >&2
printf '%s\n' "$out" >&2
exit 1
