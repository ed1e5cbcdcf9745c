#!/bin/sh
# Start redis-server as PID 1 under the redis user.  The password is read
# from the secret (root-only file) here and given to redis as an extra config
# line on stdin ("-" as the last argument), never on the command line.
set -eu

secret=/run/secrets/redis_password
[ -s "$secret" ] || { echo "redis: missing secret $secret" >&2; exit 1; }

if [ "${1:-}" = redis-server ]; then
	pass=$(cat "$secret")
	case $pass in
	*[!A-Za-z0-9._~+=-]*) echo "redis: the password must be [A-Za-z0-9._~+=-]" >&2; exit 1 ;;
	esac
	exec setpriv --reuid=redis --regid=redis --init-groups "$@" - <<CONF
requirepass $pass
CONF
fi
exec "$@"
