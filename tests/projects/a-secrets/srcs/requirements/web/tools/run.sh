#!/bin/sh
# Self-signed certificate on the first start, then nginx in the foreground.
set -e

if [ ! -f /etc/nginx/certs/site.crt ]; then
	openssl req -x509 -nodes -newkey rsa:2048 -days 365 \
		-subj "/CN=$DOMAIN_NAME" \
		-keyout /etc/nginx/certs/site.key -out /etc/nginx/certs/site.crt
fi
exec nginx -g 'daemon off;'
