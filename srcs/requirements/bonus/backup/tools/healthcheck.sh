#!/bin/sh
# backup health check: the backup directory is writable and the database
# server answers (mariadb-admin ping succeeds even before authentication).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh # installed there by the Dockerfile
. /usr/local/lib/inception/common.sh
[ -d "$BACKUP_DIR" ] && [ -w "$BACKUP_DIR" ]
[ -s /etc/cron.d/inception-backup ]
mariadb-admin -h "$DB_HOST" --connect-timeout=3 ping >/dev/null 2>&1
