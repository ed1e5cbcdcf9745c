# common.sh: settings and helpers shared by backup, restore and the
# entrypoint (sourced, POSIX sh).
#
# Settings come from the container's environment; cron jobs get none, so the
# entrypoint saves them in $BACKUP_ENV_FILE and jobs load it from there.
# The database password is read from the secret into a client option file
# that lives only while a job runs (never on a command line).
# shellcheck shell=sh
# shellcheck disable=SC2034 # the settings are used by the scripts that source this file

BACKUP_ENV_FILE=/etc/inception-backup.env
BACKUP_DIR=/backups
SITE_DIR=/var/www/html
DB_SECRET=/run/secrets/db_password
LOCK_FILE=$BACKUP_DIR/.lock

# shellcheck source=/dev/null # written by the entrypoint at start
[ -r "$BACKUP_ENV_FILE" ] && . "$BACKUP_ENV_FILE"

DB_HOST=${DB_HOST:-mariadb}
DB_NAME=${MYSQL_DATABASE:-wordpress}
DB_USER=${MYSQL_USER:-wpuser}
BACKUP_KEEP=${BACKUP_KEEP:-7}

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# make_client_cnf DIR: write DIR/client.cnf (0600) with the credentials.
# The value is double-quoted in the option file; \ and " are escaped.
make_client_cnf() {
	[ -r "$DB_SECRET" ] || die "missing secret $DB_SECRET"
	pass=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$DB_SECRET")
	(
		umask 077
		printf '[client]\nhost=%s\nuser=%s\npassword="%s"\n' \
			"$DB_HOST" "$DB_USER" "$pass" >"$1/client.cnf"
	)
	unset pass
}

# newest_backup: the newest archive's path, or nothing.
newest_backup() {
	# shellcheck disable=SC2012 # our own names: no spaces, no newlines
	ls -1 "$BACKUP_DIR"/inception-*.tar.gz 2>/dev/null | sort | tail -n 1
}
