#!/bin/sh
# mariadb entrypoint: initialise the data directory on first start, then
# exec the server so that mariadbd is PID 1 and gets the signals.
#
# First start (no /var/lib/mysql/mysql): system tables are created with
# mariadb-install-db, then one bootstrap run of mariadbd (no network, no
# background server) reads SQL from a pipe that sets the root password,
# removes anonymous and socket-only accounts and the test database, and
# creates MYSQL_DATABASE and MYSQL_USER.  Passwords come from the secret
# files, never from the environment or the command line.
#
# Environment: MYSQL_DATABASE, MYSQL_USER (letters, digits, _),
#   MYSQL_PASSWORD_FILE, MYSQL_ROOT_PASSWORD_FILE.
set -eu

DATADIR=/var/lib/mysql

die() { echo "mariadb entrypoint: $*" >&2; exit 1; }

# read_secret FILE: the first line of FILE, which must not be empty.
read_secret() {
	[ -r "$1" ] || die "secret $1 is missing"
	_s=$(head -n 1 "$1")
	[ -n "$_s" ] || die "secret $1 is empty"
	printf '%s' "$_s"
}

# sql_string VALUE: VALUE as an SQL string literal body ('' and \\ escaped).
sql_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g"; }

check_name() {
	case $2 in
	'' | *[!A-Za-z0-9_]*) die "$1='$2': use letters, digits and _ only" ;;
	esac
}

initialise() {
	check_name MYSQL_DATABASE "${MYSQL_DATABASE:-}"
	check_name MYSQL_USER "${MYSQL_USER:-}"
	root_pw=$(sql_string "$(read_secret "${MYSQL_ROOT_PASSWORD_FILE:-/run/secrets/db_root_password}")")
	user_pw=$(sql_string "$(read_secret "${MYSQL_PASSWORD_FILE:-/run/secrets/db_password}")")
	[ -z "$(ls -A "$DATADIR")" ] ||
		die "$DATADIR has files but no system tables: empty it (make fclean)"
	echo "mariadb entrypoint: initialising $DATADIR" >&2
	# A failed first start leaves nothing behind, so the next one starts over.
	trap 'rm -rf "${DATADIR:?}"/* "${DATADIR:?}"/.[!.]*' EXIT
	mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
		--auth-root-authentication-method=normal >/dev/null
	mariadbd --user=mysql --bootstrap --skip-networking <<SQL
FLUSH PRIVILEGES;
DELETE FROM mysql.global_priv WHERE User = '' OR (User NOT IN ('root', 'mariadb.sys'));
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
DROP DATABASE IF EXISTS test;
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';
CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$user_pw';
GRANT ALL PRIVILEGES ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';
FLUSH PRIVILEGES;
SQL
	[ -d "$DATADIR/$MYSQL_DATABASE" ] || die "initialisation failed"
	trap - EXIT
	echo "mariadb entrypoint: initialised" >&2
}

chown mysql:mysql "$DATADIR" /run/mysqld
if [ "${1:-}" = mariadbd ]; then
	[ -d "$DATADIR/mysql" ] || initialise
fi
exec "$@"
