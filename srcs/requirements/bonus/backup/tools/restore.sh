#!/bin/sh
# restore [FILE]: put the database and wp-content back from a backup.
#
# FILE is an archive name in BACKUP_DIR (or a path inside it); without FILE
# the newest inception-*.tar.gz is used.  First the current state is saved
# as BACKUP_DIR/pre-restore.tar.gz (outside the rotation), so a restore can
# be undone.  Then every table of the WordPress database is dropped and
# db.sql loaded, and wp-content is swapped for the archived one.  The object
# cache must be flushed afterwards (`make restore` does it).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh # installed there by the Dockerfile
. /usr/local/lib/inception/common.sh

[ $# -le 1 ] || die "usage: restore [FILE]"

pick() {
	if [ $# -eq 0 ] || [ -z "$1" ]; then
		file=$(newest_backup)
		[ -n "$file" ] || die "no backup in $BACKUP_DIR"
		return 0
	fi
	case $1 in
	/*) file=$1 ;;
	*) file=$BACKUP_DIR/$1 ;;
	esac
	case $file in
	"$BACKUP_DIR"/*) ;;
	*) die "$1: backups are read only from $BACKUP_DIR" ;;
	esac
	case $file in
	*/../* | */..) die "$1: no .. in the name" ;;
	esac
	[ -f "$file" ] || die "$1: no such backup in $BACKUP_DIR"
}

run() {
	tmp=$(mktemp -d "$BACKUP_DIR/.work-XXXXXX")
	trap 'rm -rf "$tmp" "$SITE_DIR/.wp-content.restore" "$SITE_DIR/.wp-content.old"' EXIT
	trap 'exit 1' INT TERM

	# Check the archive before touching anything.
	tar -tzf "$file" >"$tmp/list" || die "$file is not a readable tar.gz"
	grep -qx db.sql "$tmp/list" || die "$file has no db.sql"
	grep -q '^wp-content/' "$tmp/list" || die "$file has no wp-content/"
	tar -xzf "$file" -C "$tmp" db.sql
	tail -n 1 "$tmp/db.sql" | grep -q '^-- Dump completed' || die "$file: db.sql is incomplete"

	log "saving the current state as pre-restore.tar.gz"
	INCEPTION_LOCK_HELD=1 /usr/local/bin/backup --name pre-restore.tar.gz

	log "restoring $file"
	make_client_cnf "$tmp"
	cnf=$tmp/client.cnf
	{
		echo 'SET FOREIGN_KEY_CHECKS=0;'
		mariadb --defaults-extra-file="$cnf" -N -B -e \
			"SELECT CONCAT('DROP TABLE IF EXISTS \`', REPLACE(table_name, '\`', '\`\`'), '\`;') FROM information_schema.tables WHERE table_schema = DATABASE()" \
			"$DB_NAME"
		echo 'SET FOREIGN_KEY_CHECKS=1;'
	} >"$tmp/drop.sql"
	mariadb --defaults-extra-file="$cnf" "$DB_NAME" <"$tmp/drop.sql"
	mariadb --defaults-extra-file="$cnf" "$DB_NAME" <"$tmp/db.sql"
	rm -f "$cnf"

	# wp-content: unpack next to the live one (same filesystem), then swap.
	rm -rf "$SITE_DIR/.wp-content.restore" "$SITE_DIR/.wp-content.old"
	mkdir "$SITE_DIR/.wp-content.restore"
	tar --numeric-owner -xzpf "$file" -C "$SITE_DIR/.wp-content.restore" wp-content
	if [ -d "$SITE_DIR/wp-content" ]; then
		mv "$SITE_DIR/wp-content" "$SITE_DIR/.wp-content.old"
	fi
	mv "$SITE_DIR/.wp-content.restore/wp-content" "$SITE_DIR/wp-content"
	log "restored $file"
}

file=""
pick "${1:-}"
exec 9>"$LOCK_FILE"
flock -w 600 9 || die "another backup or restore is still running"
run
