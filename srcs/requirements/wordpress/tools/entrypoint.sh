#!/bin/sh
# wordpress entrypoint: on every start of php-fpm, make sure the site exists,
# then exec php-fpm so that it is PID 1.
#   1. refuse an administrator login containing "admin" (any case);
#   2. copy the WordPress tree into the (empty) volume on first start;
#   3. setup.php: write wp-config.php once (DB password from the secret,
#      fresh salts, no outbound calls), wait for the database, install the
#      site and its two users if they are missing (idempotent);
#   4. redis hook (bonus): see redis_hook below.
set -eu

WP_DIR=/var/www/html
SRC=/usr/src/wordpress
SHARE=/usr/local/share/inception

die() { echo "wordpress entrypoint: $*" >&2; exit 1; }

check_users() {
	[ -n "${WP_ADMIN_USER:-}" ] || die "WP_ADMIN_USER is not set (srcs/.env)"
	[ -n "${WP_USER:-}" ] || die "WP_USER is not set (srcs/.env)"
	case $(printf '%s' "$WP_ADMIN_USER" | tr '[:upper:]' '[:lower:]') in
	*admin*) die "WP_ADMIN_USER='$WP_ADMIN_USER' contains 'admin' or" \
		"'administrator', which the subject forbids: choose another" \
		"name in srcs/.env" ;;
	esac
	[ "$WP_ADMIN_USER" != "$WP_USER" ] || die "WP_USER must differ from WP_ADMIN_USER"
}

install_files() {
	if [ ! -f "$WP_DIR/wp-includes/version.php" ]; then
		echo "wordpress entrypoint: copying WordPress into $WP_DIR" >&2
		cp -R "$SRC/." "$WP_DIR/"
	fi
	# Uploads and the object-cache drop-in are written by php-fpm's workers.
	chown -R www-data:www-data "$WP_DIR/wp-content"
}

# redis_hook (for the bonus redis service): when WP_REDIS_HOST is set, a
# delimited block in wp-config.php defines WP_REDIS_HOST, WP_REDIS_PORT and
# WP_CACHE_KEY_SALT, and the object-cache drop-in shipped in the image
# ($SHARE/object-cache.php, added by the bonus) is copied into wp-content/.
# Without WP_REDIS_HOST the block and our drop-in are removed again, so the
# mandatory stack never depends on redis.  Rewritten on every start.
redis_hook() {
	cfg=$WP_DIR/wp-config.php
	dropin=$WP_DIR/wp-content/object-cache.php
	sed -i '/^\/\* inception redis begin \*\//,/^\/\* inception redis end \*\//d' "$cfg"
	if [ -z "${WP_REDIS_HOST:-}" ]; then
		if [ -f "$SHARE/object-cache.php" ] && cmp -s "$SHARE/object-cache.php" "$dropin"; then
			rm -f "$dropin"
		fi
		return 0
	fi
	port=${WP_REDIS_PORT:-6379}
	case $WP_REDIS_HOST in *[!A-Za-z0-9._-]*) die "bad WP_REDIS_HOST" ;; esac
	case $port in '' | *[!0-9]*) die "bad WP_REDIS_PORT" ;; esac
	# The password (bonus redis secret) joins the DB password in wp-config.php:
	# php-fpm's workers cannot read the root-only secret file.
	pass_line=""
	if [ -n "${WP_REDIS_PASSWORD_FILE:-}" ]; then
		[ -r "$WP_REDIS_PASSWORD_FILE" ] || die "cannot read $WP_REDIS_PASSWORD_FILE"
		pass=$(cat "$WP_REDIS_PASSWORD_FILE")
		case $pass in '' | *[!A-Za-z0-9._~+=/-]*) die "bad redis password: use [A-Za-z0-9._~+=/-]" ;; esac
		pass_line="define( 'WP_REDIS_PASSWORD', '$pass' );\\
"
	fi
	sed -i "/^\/\* That's all, stop editing/i\\
/* inception redis begin */\\
define( 'WP_REDIS_HOST', '$WP_REDIS_HOST' );\\
define( 'WP_REDIS_PORT', $port );\\
${pass_line}define( 'WP_CACHE_KEY_SALT', '$DOMAIN_NAME:' );\\
/* inception redis end */" "$cfg"
	if [ -f "$SHARE/object-cache.php" ]; then
		cp "$SHARE/object-cache.php" "$dropin"
		chown www-data:www-data "$dropin"
	fi
}

if [ "${1:-}" = php-fpm8.2 ]; then
	check_users
	install_files
	php "$SHARE/setup.php"
	redis_hook
fi
exec "$@"
