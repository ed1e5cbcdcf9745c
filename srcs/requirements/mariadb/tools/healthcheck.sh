#!/bin/sh
# mariadb health check: the WordPress user runs a query over TCP, as
# WordPress will (a ping alone passes before the grants exist).  The
# password goes through the environment of this one process, not argv.
set -eu
MYSQL_PWD=$(head -n 1 "${MYSQL_PASSWORD_FILE:-/run/secrets/db_password}")
export MYSQL_PWD
exec mariadb --protocol=tcp -h 127.0.0.1 -u "$MYSQL_USER" -N -e 'SELECT 1' "$MYSQL_DATABASE" >/dev/null
