#!/bin/bash
# website health check: nginx answers GET / on the site port with 200.
# (bash's /dev/tcp: no HTTP client needed in the image.)
set -eu
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 3 status <&3
case $status in
"HTTP/1.1 200"*) exit 0 ;;
esac
exit 1
