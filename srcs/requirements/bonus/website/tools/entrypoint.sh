#!/bin/sh
# Write the site's env.json (the domain and the published ports: nothing
# secret) so the page shows this installation's real values, then exec
# nginx as PID 1.
set -eu

num() { # NAME VALUE: VALUE must be a port number
	case $2 in
	'' | *[!0-9]*) echo "website: $1 must be a number, got '$2'" >&2; exit 1 ;;
	esac
	printf '%s' "$2"
}

domain=${DOMAIN_NAME:-login.42.fr}
case $domain in
*[!A-Za-z0-9.-]*) echo "website: bad DOMAIN_NAME '$domain'" >&2; exit 1 ;;
esac

cat >/var/www/site/env.json <<JSON
{
  "domain": "$domain",
  "bind": "$(printf '%s' "${BONUS_BIND:-127.0.0.1}" | tr -cd '0-9.:a-f')",
  "https": $(num HTTPS_PORT "${HTTPS_PORT:-443}"),
  "site": $(num SITE_PORT "${SITE_PORT:-8080}"),
  "adminer": $(num ADMINER_PORT "${ADMINER_PORT:-8081}"),
  "ftp": $(num FTP_PORT "${FTP_PORT:-21}"),
  "ftp_pasv": "$(num FTP_PASV_MIN "${FTP_PASV_MIN:-21100}")-$(num FTP_PASV_MAX "${FTP_PASV_MAX:-21110}")"
}
JSON
chmod 0644 /var/www/site/env.json
exec "$@"
