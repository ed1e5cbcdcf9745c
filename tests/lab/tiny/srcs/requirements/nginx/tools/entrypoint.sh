#!/bin/sh
# A self-signed certificate for DOMAIN_NAME (made at the first start, where
# the agent's health check reads it), a server on 443 that speaks TLS 1.2
# and 1.3 only, then nginx as PID 1.
set -eu
SSL=/etc/nginx/ssl
case ${DOMAIN_NAME:-} in
'' | *[!A-Za-z0-9.-]*) echo "entrypoint: DOMAIN_NAME is not a host name" >&2; exit 1 ;;
esac
mkdir -p "$SSL" /var/www/tiny
echo "lab seat $DOMAIN_NAME" >/var/www/tiny/index.html
cat >/etc/nginx/conf.d/tiny.conf <<CONF
server {
    listen 443 ssl;
    server_name $DOMAIN_NAME;
    ssl_certificate     $SSL/inception.crt;
    ssl_certificate_key $SSL/inception.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root /var/www/tiny;
}
CONF
if [ ! -s "$SSL/inception.crt" ]; then
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 825 -subj "/CN=$DOMAIN_NAME" \
		-addext "subjectAltName=DNS:$DOMAIN_NAME" \
		-keyout "$SSL/inception.key" -out "$SSL/inception.crt" 2>/dev/null)
fi
exec "$@"
