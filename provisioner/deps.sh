#!/bin/sh
# provisioner/deps.sh: install the Debian packages this project needs, only
# the missing ones, non-interactively (as root, or through sudo).
#
#   deps.sh          what `make vm` needs on the host (build + libvirt + qemu)
#   deps.sh test     that plus what the test tiers use (cmocka, valgrind,
#                    clang/libFuzzer, Docker engine + compose v2, wrk, ...);
#                    `make test` and every tier target run this first
#   deps.sh bench    that plus virt-install, for tests/bench (`make bench`)
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

# The benchmarks time a by-hand pipeline with virt-install beside ours.
BENCH_PKGS="virtinst"

want=$HOST_PKGS
case ${1:-host} in
host) ;;
test) want="$want $TEST_PKGS" ;;
bench) want="$want $TEST_PKGS $BENCH_PKGS" ;;
*) echo "deps: unknown set \"$1\" (host, test or bench)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
		missing="$missing $p"
done

# The package lists are fetched when they are missing or older than a day
# (a fresh machine has none: apt then finds nothing, e.g. virtinst), and
# once more if an install fails on a list that went stale meanwhile.
lists_fresh() {
	find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | grep -q .
}
apt_update() {
	echo "deps: apt-get update"
	as_root apt-get update -qq
}
apt_install() { # PACKAGE...: install, refreshing the lists first if needed
	lists_fresh || apt_update
	as_root apt-get install -y -qq --no-install-recommends "$@" && return 0
	echo "deps: install failed; refreshing the package lists and trying once more"
	apt_update && as_root apt-get install -y -qq --no-install-recommends "$@"
}

# Without an init system (containers, CI machines) package scripts would
# start daemons through /etc/init.d; the tiers start what they need and stop
# it by PID, so deny service starts while we install (only if no policy is
# in place, and only for the install).
no_service_starts() {
	[ -d /run/systemd/system ] && return 0
	[ -e /usr/sbin/policy-rc.d ] && return 0
	as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
	trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
}

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	no_service_starts
	echo "deps: installing:$missing"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	apt_install $missing || {
		echo "deps: could not install:$missing (run as root: apt-get update && apt-get install$missing)" >&2
		exit 1
	}
	echo "deps: installed in $(( $(date +%s) - t0 ))s"
else
	echo "deps: all ${1:-host} packages present"
fi

if [ "${1:-host}" != host ] && ! docker compose version >/dev/null 2>&1; then
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
	no_service_starts
	echo "deps: installing docker-compose (v2)"
	as_root apt-get install -y -qq --no-install-recommends -t trixie docker-compose 2>/dev/null ||
		apt_install docker-compose
	docker compose version || {
		echo "deps: docker compose (v2) still missing: install trixie's docker-compose package" >&2
		exit 1
	}
fi
