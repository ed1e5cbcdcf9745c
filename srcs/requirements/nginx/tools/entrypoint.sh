#!/bin/sh
# nginx entrypoint: write the server block for DOMAIN_NAME, create a
# self-signed certificate for it on first start (kept for the container's
# life; its key never enters an image), then exec nginx as PID 1.
set -eu

SSL=/etc/nginx/ssl

die() { echo "nginx entrypoint: $*" >&2; exit 1; }

DOMAIN_NAME=${DOMAIN_NAME:-}
case $DOMAIN_NAME in
'' | *[!A-Za-z0-9.-]*) die "DOMAIN_NAME='$DOMAIN_NAME' is not a host name (srcs/.env)" ;;
esac

sed "s/@DOMAIN_NAME@/$DOMAIN_NAME/g" /etc/nginx/inception.conf.template \
	>/etc/nginx/conf.d/inception.conf

if [ ! -s "$SSL/inception.crt" ] || [ ! -s "$SSL/inception.key" ]; then
	echo "nginx entrypoint: creating a self-signed certificate for $DOMAIN_NAME" >&2
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 825 -subj "/CN=$DOMAIN_NAME" \
		-addext "subjectAltName=DNS:$DOMAIN_NAME" \
		-keyout "$SSL/inception.key" -out "$SSL/inception.crt" 2>/dev/null) ||
		die "openssl could not create the certificate"
fi

exec "$@"
