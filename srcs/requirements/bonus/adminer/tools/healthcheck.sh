#!/bin/sh
# adminer health check: php-fpm answers a FastCGI request for its ping page.
set -eu
SCRIPT_NAME=/ping SCRIPT_FILENAME=/ping REQUEST_METHOD=GET \
	cgi-fcgi -bind -connect 127.0.0.1:9000 | grep -q pong
