#!/bin/sh
# backup [--name NAME]: one consistent backup of the WordPress site, now.
#
# The archive BACKUP_DIR/inception-YYYYmmdd-HHMMSS.tar.gz (mode 0600) holds
#   db.sql       mariadb-dump --single-transaction of the WordPress database
#                (one consistent snapshot, no table locks for InnoDB)
#   wp-content/  uploads, themes and plugins, owners kept (numeric)
#   backup.info  when and from what it was made
# It is written under a temporary name and renamed when complete, so a
# half-written archive never counts as a backup.  Then only the newest
# BACKUP_KEEP archives are kept.  --name writes BACKUP_DIR/NAME instead and
# leaves it out of the rotation (restore uses it for its safety copy).
# Runs from cron (the schedule) and from `make backup`; a lock serialises it
# with restore.
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh # installed there by the Dockerfile
. /usr/local/lib/inception/common.sh

name=""
if [ "${1:-}" = --name ]; then
	[ $# -eq 2 ] || die "usage: backup [--name NAME]"
	name=$2
	case $name in
	*/* | .* | '') die "bad name '$name'" ;;
	esac
fi

run() {
	[ -d "$SITE_DIR/wp-content" ] || die "$SITE_DIR/wp-content does not exist (is WordPress installed?)"
	stamp=$(date -u +%Y%m%d-%H%M%S)
	if [ -z "$name" ]; then
		# One archive per second at most: names sort by time.
		if [ -e "$BACKUP_DIR/inception-$stamp.tar.gz" ]; then
			sleep 1
			stamp=$(date -u +%Y%m%d-%H%M%S)
		fi
		name=inception-$stamp.tar.gz
	fi
	tmp=$(mktemp -d "$BACKUP_DIR/.work-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 1' INT TERM
	make_client_cnf "$tmp"

	mariadb-dump --defaults-extra-file="$tmp/client.cnf" \
		--single-transaction --quick --routines --triggers \
		--default-character-set=utf8mb4 --add-drop-table \
		"$DB_NAME" >"$tmp/db.sql"
	rm -f "$tmp/client.cnf"
	tail -n 1 "$tmp/db.sql" | grep -q '^-- Dump completed' || die "mariadb-dump did not complete"

	printf 'date=%s\ndatabase=%s\nhost=%s\n' "$stamp" "$DB_NAME" "$DB_HOST" >"$tmp/backup.info"
	(umask 077 && tar --numeric-owner -czf "$tmp/out.tar.gz" \
		-C "$tmp" backup.info db.sql -C "$SITE_DIR" wp-content)
	mv "$tmp/out.tar.gz" "$BACKUP_DIR/$name"
	log "wrote $BACKUP_DIR/$name ($(du -h "$BACKUP_DIR/$name" | cut -f1))"
	case $name in
	inception-*) rotate ;;
	esac
}

# rotate: delete all but the newest BACKUP_KEEP archives.
rotate() {
	# shellcheck disable=SC2012 # our own names: no spaces, no newlines
	ls -1 "$BACKUP_DIR"/inception-*.tar.gz 2>/dev/null | sort -r |
		tail -n +"$((BACKUP_KEEP + 1))" | while read -r old; do
		rm -f "$old"
		log "removed $old (keeping the last $BACKUP_KEEP)"
	done
}

mkdir -p "$BACKUP_DIR"
# restore calls backup while holding the lock (INCEPTION_LOCK_HELD=1).
if [ "${INCEPTION_LOCK_HELD:-0}" != 1 ]; then
	exec 9>"$LOCK_FILE"
	flock -w 600 9 || die "another backup or restore is still running"
fi
run
