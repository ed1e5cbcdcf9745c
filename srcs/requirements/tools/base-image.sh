#!/bin/sh
# base-image.sh: make sure the Debian base image (debian:bookworm) exists in
# the local Docker engine, even where Docker Hub cannot be reached.
#
# Usage: base-image.sh [--force-build] [--tag NAME:TAG]
#   1. the image is already present          -> nothing to do
#   2. `docker pull` succeeds (short timeout) -> done
#   3. otherwise build it from the Debian apt mirror with mmdebstrap (minbase,
#      merged /usr, no docs/man/locales, apt keeps no .deb files, sources for
#      bookworm, bookworm-updates and bookworm-security) and `docker import` it.
#   --force-build skips 1 and 2 (tests use it with another --tag).
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
#   DEBIAN_SECURITY_MIRROR (default: DEBIAN_MIRROR with /debian replaced by
#   /debian-security), PULL_TIMEOUT seconds (default 20).
# Exit status: 0 = the image is present now; 1 = it could not be made;
#   2 = usage error.  Progress goes to stderr.  Used by the root Makefile and
#   by the VM agent, so it depends on nothing else in this tree.
set -eu

SUITE=bookworm
TAG=debian:$SUITE
FORCE=0
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}
PULL_TIMEOUT=${PULL_TIMEOUT:-20}

log() { printf 'base-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
	echo "usage: $0 [--force-build] [--tag NAME:TAG]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--force-build) FORCE=1 ;;
	--tag) [ $# -ge 2 ] || usage; TAG=$2; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done

image_present() { docker image inspect "$TAG" >/dev/null 2>&1; }

try_pull() {
	log "trying docker pull $TAG (timeout ${PULL_TIMEOUT}s)"
	timeout "$PULL_TIMEOUT" docker pull -q "$TAG" >/dev/null 2>&1
}

# build_from_mirror: a minbase rootfs as a tar stream straight into
# `docker import`.  The dpkg path excludes and the apt settings are written
# into the image, so later `apt-get install` layers stay small too.
# Written into the image as /etc/apt/apt.conf.d/docker-clean (only at the end
# of the build: during it apt must keep the .deb files mmdebstrap installs).
APT_CLEAN='APT::Keep-Downloaded-Packages "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT::AutoRemove::SuggestsImportant "false";'

build_from_mirror() {
	command -v mmdebstrap >/dev/null 2>&1 ||
		die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	hooks=/usr/share/mmdebstrap/hooks/merged-usr
	[ -d "$hooks" ] || die "$hooks missing: mmdebstrap too old"
	log "building $TAG from $MIRROR with mmdebstrap"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# docker import reads the tar from a pipe; a failing mmdebstrap must not
	# leave a half image behind, so build to a file first (about 25 s).  A
	# mirror hiccup (seen once: "apt download failed") gets apt's retries,
	# then one more whole attempt.
	mmdebstrap_tar "$tmp/rootfs.tar" || { log "mmdebstrap failed: trying once more"; mmdebstrap_tar "$tmp/rootfs.tar"; } ||
		die "mmdebstrap failed"
	docker import --change 'CMD ["bash"]' \
		--message "debian $SUITE minbase from $MIRROR" \
		"$tmp/rootfs.tar" "$TAG" >/dev/null ||
		die "docker import failed"
}

mmdebstrap_tar() { # OUT: the minbase rootfs as a tar
	rm -f "$1"
	# shellcheck disable=SC2016 # the hooks are run by mmdebstrap, with the rootfs as "$1"
	mmdebstrap --variant=minbase --format=tar \
		--aptopt='Acquire::Retries "5"' \
		--hook-dir="$hooks" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/lintian/*' \
		--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/*.log "$1"/tmp/*' \
		--customize-hook="cat >\"\$1\"/etc/apt/apt.conf.d/docker-clean <<'APT'
$APT_CLEAN
APT" \
		"$SUITE" "$1" \
		"deb $MIRROR $SUITE main" \
		"deb $MIRROR $SUITE-updates main" \
		"deb $SECURITY_MIRROR $SUITE-security main"
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running?)"
if [ "$FORCE" -eq 0 ]; then
	image_present && exit 0
	if try_pull && image_present; then
		log "pulled $TAG"
		exit 0
	fi
	log "pull failed"
fi
build_from_mirror
image_present || die "$TAG still missing after the build"
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG") bytes)"
