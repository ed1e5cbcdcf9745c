#!/bin/sh
# build-in-guest.sh: compile the agent inside the guest, for when the binary
# built on the host cannot start there (the host's glibc is newer than the
# guest's).  The provisioner pushes agent/ (with its portable layer, lib/)
# to REMOTE/.inception/agent-src/ and runs this script from there with sudo:
#   sh build-in-guest.sh OUTPUT
# It installs the compiler and the two libraries' headers from the guest's
# apt mirror, then builds OUTPUT.  POSIX sh, set -eu.
set -eu
out=${1:?usage: build-in-guest.sh OUTPUT}
src=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
need=""
for p in gcc libc6-dev libcurl4-openssl-dev libssl-dev; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || need="$need $p"
done
if [ -n "$need" ]; then
	apt-get update -q >&2
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $need >&2
fi
cd "$src"
# shellcheck disable=SC2046
gcc -std=c11 -O2 -D_DEFAULT_SOURCE -D_GNU_SOURCE -DINCEPTION_VERSION='"guest-built"' -I. -Ilib \
	-o "$out.tmp" $(ls ./*.c ./lib/*.c) -lcurl -lcrypto
mv "$out.tmp" "$out"
"$out" --version
