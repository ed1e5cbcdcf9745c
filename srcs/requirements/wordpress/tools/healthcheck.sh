#!/bin/sh
# wordpress health check: php-fpm itself answers a FastCGI request for its
# ping page (the pool's ping.path) with "pong".
set -eu
SCRIPT_NAME=/ping SCRIPT_FILENAME=/ping REQUEST_METHOD=GET \
	cgi-fcgi -bind -connect 127.0.0.1:9000 | grep -q pong
