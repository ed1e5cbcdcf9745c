#!/bin/sh
# Prepare ProFTPD and exec it as PID 1.  The FTP user (name from FTP_USER,
# password from the secret) has the uid/gid of www-data, so uploads belong to
# the same owner as the rest of the WordPress files; its home, and chroot, is
# the WordPress volume.  The configuration is rendered from
# /etc/proftpd/proftpd.conf.in with the checked settings.
set -eu

site=${FTP_ROOT:-/var/www/html}
user=${FTP_USER:-}
secret=/run/secrets/ftp_password
crt=/etc/ssl/ftp/ftp.crt
conf=/etc/proftpd/proftpd.conf
key=/etc/ssl/ftp/ftp.key

die() { echo "ftp: $*" >&2; exit 1; }

port() { # NAME VALUE
	case $2 in
	'' | *[!0-9]*) die "$1 must be a port number, got '$2'" ;;
	esac
	if [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then die "$1 out of range: $2"; fi
	printf '%s' "$2"
}

check() {
	[ -n "$user" ] || die "FTP_USER is not set (srcs/.env)"
	case $user in
	[a-z_]*) ;;
	*) die "FTP_USER must start with a lower-case letter or _" ;;
	esac
	case $user in
	*[!a-z0-9_-]*) die "FTP_USER may only contain a-z 0-9 _ -" ;;
	esac
	[ ${#user} -le 32 ] || die "FTP_USER is longer than 32 characters"
	[ -s "$secret" ] || die "missing secret $secret"
	[ -d "$site" ] || die "missing site directory $site"
	min=$(port FTP_PASV_MIN "${FTP_PASV_MIN:-21100}")
	max=$(port FTP_PASV_MAX "${FTP_PASV_MAX:-21110}")
	[ "$min" -lt "$max" ] || die "FTP_PASV_MIN must be below FTP_PASV_MAX"
	addr=${FTP_PASV_ADDRESS:-127.0.0.1}
	case $addr in
	*[!0-9.]*) die "FTP_PASV_ADDRESS must be an IPv4 address" ;;
	esac
}

setup_user() {
	if id -u "$user" >/dev/null 2>&1; then
		[ "$(id -u "$user")" = "$(id -u www-data)" ] || die "user $user exists with another uid"
	else
		useradd --non-unique --uid "$(id -u www-data)" --gid "$(id -g www-data)" \
			--no-create-home --home-dir "$site" --shell /usr/sbin/nologin "$user" 2>/dev/null
	fi
	grep -qx /usr/sbin/nologin /etc/shells || echo /usr/sbin/nologin >>/etc/shells
	printf '%s:%s\n' "$user" "$(cat "$secret")" | chpasswd
}

setup_cert() {
	[ -s "$key" ] && [ -s "$crt" ] && return 0
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
		-subj "/CN=${DOMAIN_NAME:-localhost}" -keyout "$key" -out "$crt" 2>/dev/null)
}

setup_conf() {
	sed -e "s/@USER@/$user/" -e "s/@PASV_MIN@/$min/" -e "s/@PASV_MAX@/$max/" \
		-e "s/@PASV_ADDRESS@/$addr/" /etc/proftpd/proftpd.conf.in >"$conf"
	proftpd --configtest -c "$conf" >/dev/null 2>&1 ||
		{ proftpd --configtest -c "$conf"; die "bad configuration"; }
}

if [ "${1:-}" = proftpd ]; then
	check
	setup_user
	setup_cert
	setup_conf
fi
exec "$@"
