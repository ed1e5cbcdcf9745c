#!/bin/sh
# Install the backup schedule and exec cron in the foreground as PID 1.
# BACKUP_SCHEDULE is a 5-field cron time (default: every day at 03:00);
# job output goes to PID 1's stdout/stderr, i.e. `docker logs backup`.
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh # installed there by the Dockerfile
. /usr/local/lib/inception/common.sh

schedule=${BACKUP_SCHEDULE:-0 3 * * *}
case $schedule in
*[!0-9\ \*/,-]*) die "BACKUP_SCHEDULE '$schedule': only digits, space, * / , - allowed" ;;
esac
count_fields() { echo $#; }
set -f
# shellcheck disable=SC2086 # split into the cron fields on purpose
[ "$(count_fields $schedule)" -eq 5 ] || die "BACKUP_SCHEDULE '$schedule' needs 5 fields"
# shellcheck disable=SC2086,SC2116 # echo unquoted: one space between the fields
fields=$(echo $schedule)
set +f
case $BACKUP_KEEP in
'' | *[!0-9]* | 0) die "BACKUP_KEEP must be a number >= 1" ;;
esac
[ -r "$DB_SECRET" ] || die "missing secret $DB_SECRET"

# The settings jobs need (nothing secret: the password stays in the secret).
{
	printf 'MYSQL_DATABASE=%s\n' "$DB_NAME"
	printf 'MYSQL_USER=%s\n' "$DB_USER"
	printf 'DB_HOST=%s\n' "$DB_HOST"
	printf 'BACKUP_KEEP=%s\n' "$BACKUP_KEEP"
} >"$BACKUP_ENV_FILE"
chmod 0644 "$BACKUP_ENV_FILE"

printf 'SHELL=/bin/sh\nPATH=/usr/local/bin:/usr/bin:/bin\n%s root /usr/local/bin/backup >/proc/1/fd/1 2>/proc/1/fd/2\n' \
	"$fields" >/etc/cron.d/inception-backup
chmod 0644 /etc/cron.d/inception-backup
mkdir -p "$BACKUP_DIR"
chmod 0700 "$BACKUP_DIR"
log "schedule '$fields', keeping the last $BACKUP_KEEP backups in $BACKUP_DIR"
exec "$@"
