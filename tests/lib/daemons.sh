# tests/lib/daemons.sh: start the daemons a test tier needs, stop only those.
#
# There is no systemd on the build machines: a tier that needs dockerd or
# libvirtd starts it here when it is not already answering, remembers the
# PID, and `daemons_stop` (run from the tier's EXIT trap) ends exactly the
# processes this file started, by PID.  A daemon that was already running
# is used and left alone.
# shellcheck shell=sh

DAEMONS_STARTED=""
DAEMONS_LOGDIR=${DAEMONS_LOGDIR:-${TMPDIR:-/tmp}/inception-daemons}

_daemon_start() { # NAME CMD...: start CMD in the background, record its PID
	_n=$1; shift
	mkdir -p "$DAEMONS_LOGDIR"
	# no descriptor of ours goes with it (a lock held by whoever ran the
	# tier, e.g. `flock FILE make test`, would be held as long as the daemon)
	"$@" >>"$DAEMONS_LOGDIR/$_n.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	DAEMONS_STARTED="$DAEMONS_STARTED $!"
	echo "# started $_n (pid $!), log $DAEMONS_LOGDIR/$_n.log"
}

_wait_for() { # SECONDS CMD...: poll CMD until it succeeds
	_t=$1; shift
	while [ "$_t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1; _t=$((_t - 1))
	done
	return 1
}

ensure_dockerd() {
	docker info >/dev/null 2>&1 && return 0
	command -v dockerd >/dev/null || { echo "dockerd not installed (package docker.io): run make test-deps" >&2; return 1; }
	_daemon_start dockerd dockerd
	_wait_for 60 docker info || { echo "dockerd did not come up: see $DAEMONS_LOGDIR/dockerd.log" >&2; return 1; }
}

ensure_libvirtd() {
	# Without udev, /dev/kvm stays root:root 0600; libvirt 9.0 then re-probes
	# QEMU on every call (minutes per define).  Set what Debian's udev rule
	# sets, before libvirtd caches its capabilities.
	if [ -c /dev/kvm ] && [ "$(id -u)" -eq 0 ] && getent group kvm >/dev/null &&
	   [ "$(stat -c %G:%a /dev/kvm)" != kvm:660 ]; then
		chgrp kvm /dev/kvm && chmod 0660 /dev/kvm &&
			echo "# set /dev/kvm to root:kvm 0660 (the udev default)"
	fi
	virsh -c qemu:///system version >/dev/null 2>&1 && return 0
	command -v libvirtd >/dev/null || { echo "libvirtd not installed (package libvirt-daemon-system): run make deps" >&2; return 1; }
	if [ ! -S /run/libvirt/virtlogd-sock ]; then
		_daemon_start virtlogd virtlogd
		_wait_for 20 test -S /run/libvirt/virtlogd-sock || return 1
	fi
	_daemon_start libvirtd libvirtd
	_wait_for 60 virsh -c qemu:///system version ||
		{ echo "libvirtd did not come up: see $DAEMONS_LOGDIR/libvirtd.log" >&2; return 1; }
}

daemons_stop() {
	for _p in $DAEMONS_STARTED; do
		kill "$_p" 2>/dev/null || continue
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 30 ]; do sleep 1; _i=$((_i + 1)); done
	done
	DAEMONS_STARTED=""
}
