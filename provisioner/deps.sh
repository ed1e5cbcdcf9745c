#!/bin/sh
# provisioner/deps.sh: install the Debian packages this project needs, only
# the missing ones, non-interactively (as root, or through sudo).
#
#   deps.sh          what `make vm` needs on the host (build + libvirt + qemu)
#   deps.sh test     that plus what the test tiers use (cmocka, valgrind,
#                    clang/libFuzzer, Docker engine + compose v2, wrk, ...)
#
# Docker compose v2 is not in Debian 12: there, trixie's docker-compose
# package (a static Go binary) is installed from the trixie suite, pinned
# at priority 100 so nothing else is upgraded from trixie unasked.
set -eu

HOST_PKGS="gcc make pkg-config libc6-dev libvirt-dev libssh-dev libyaml-dev
libcurl4-openssl-dev libxml2-dev libssl-dev libvirt-daemon-system
libvirt-clients qemu-system-x86 qemu-utils mmdebstrap e2fsprogs fdisk grub-pc-bin xorriso
openssh-client ca-certificates curl"
TEST_PKGS="libcmocka-dev valgrind clang libclang-rt-14-dev cppcheck clang-tidy
clang-format shellcheck man-db docker.io openssl wrk iptables procps python3 git iproute2
openssh-server"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null; then sudo "$@"
	else echo "deps: need root to run: $*  (run as root or install sudo)" >&2; exit 1
	fi
}

want=$HOST_PKGS
[ "${1:-}" = test ] && want="$want $TEST_PKGS"

missing=""
for p in $want; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
		missing="$missing $p"
done

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	as_root apt-get update -qq
	# shellcheck disable=SC2086
	as_root apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: all host packages present"
fi

if [ "${1:-}" = test ] && ! docker compose version >/dev/null 2>&1; then
	. /etc/os-release
	if [ "${VERSION_CODENAME:-}" = bookworm ]; then
		echo "deps: compose v2 is not in bookworm: adding the trixie suite (pin 100) for docker-compose"
		as_root sh -c 'cat > /etc/apt/sources.list.d/inception-trixie.sources' <<-SRC
		Types: deb
		URIs: ${DEBIAN_MIRROR:-http://deb.debian.org/debian}
		Suites: trixie
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		SRC
		as_root sh -c 'printf "Package: *\nPin: release n=trixie\nPin-Priority: 100\n" > /etc/apt/preferences.d/inception-trixie'
		as_root apt-get update -qq
	fi
	echo "deps: installing docker-compose (v2)"
	as_root apt-get install -y -qq --no-install-recommends -t trixie docker-compose 2>/dev/null ||
		as_root apt-get install -y -qq --no-install-recommends docker-compose
	docker compose version
fi
