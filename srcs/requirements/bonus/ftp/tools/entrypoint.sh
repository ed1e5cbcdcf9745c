#!/bin/sh
# Prepare vsftpd and exec it as PID 1: the FTP user (name from FTP_USER,
# password from the secret) gets uid/gid of www-data so that uploads belong
# to the same owner as the rest of the WordPress files; its home, and chroot,
# is the WordPress volume.
set -eu

site=${FTP_ROOT:-/var/www/html}
user=${FTP_USER:-}
secret=/run/secrets/ftp_password
conf=/etc/vsftpd/vsftpd.conf

die() { echo "ftp: $*" >&2; exit 1; }

[ -n "$user" ] || die "FTP_USER is not set (srcs/.env)"
case $user in
[a-z_]*) ;;
*) die "FTP_USER must start with a lower-case letter or _" ;;
esac
case $user in
*[!a-z0-9_-]*) die "FTP_USER may only contain a-z 0-9 _ -" ;;
esac
grep -qx "$user" /etc/ftpusers && die "FTP_USER $user is a system account"
[ -s "$secret" ] || die "missing secret $secret"
[ -d "$site" ] || die "missing site directory $site"

setup_user() {
	uid=$(id -u www-data)
	gid=$(id -g www-data)
	if ! id "$user" >/dev/null 2>&1; then
		useradd --non-unique --uid "$uid" --gid "$gid" --no-create-home \
			--home-dir "$site" --shell /usr/sbin/nologin "$user"
	fi
	grep -qx /usr/sbin/nologin /etc/shells || echo /usr/sbin/nologin >>/etc/shells
	printf '%s:%s\n' "$user" "$(cat "$secret")" | chpasswd
	printf '%s\n' "$user" >/etc/vsftpd/user_list
}

setup_cert() {
	[ -s /etc/vsftpd/ssl/vsftpd.key ] && return 0
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
		-subj "/CN=${DOMAIN_NAME:-localhost}" \
		-keyout /etc/vsftpd/ssl/vsftpd.key -out /etc/vsftpd/ssl/vsftpd.crt 2>/dev/null)
}

setup_conf() {
	min=${FTP_PASV_MIN:-21100}
	max=${FTP_PASV_MAX:-21110}
	addr=${FTP_PASV_ADDRESS:-127.0.0.1}
	sed -e "s/@PASV_MIN@/$min/" -e "s/@PASV_MAX@/$max/" -e "s/@PASV_ADDRESS@/$addr/" \
		/etc/vsftpd/vsftpd.conf.in >"$conf"
}

if [ "${1:-}" = vsftpd ]; then
	setup_user
	setup_cert
	setup_conf
fi
exec "$@"
