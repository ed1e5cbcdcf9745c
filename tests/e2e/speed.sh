# shellcheck shell=sh
# shellcheck disable=SC2015,SC2154 # t_ok always returns 0; logdir, tmp, ... are the tier's
# tests/e2e/speed.sh: the golden layer and the project's Docker cache, in the
# e2e tier.  Sourced by tests/e2e/run after its step 6, whose `rebuild
# --clean --vm-only` made the VM from the plain Debian image with a blank
# Docker disk; it uses the tier's helpers (inc, outcomes, t_ok, ...).
#  7a. that --clean VM reused nothing: status says the plain image and no
#      Docker cache, and the guest has no Docker (the golden layer has it)
#  7b. `rebuild` (VM and stack): healthy, made from the golden layer with a
#      Docker disk backed by the Docker cache kept after the last healthy up
#      (status says which); the guest's real compose build ran and found
#      its steps CACHED; the docker step found Docker present
#  7c. a changed Dockerfile line (a RUN appended to nginx's): `up` rebuilds
#      nginx from that line (the new step runs, the step before it is
#      CACHED), and the running container has the change
#  7d. with E2E_SPEED_CLEAN=1: `rebuild --clean` reaches healthy with no
#      CACHED step in its build log (a full build under TCG, ~10 min: opt-in)
# At exit the project's Docker cache snapshots are deleted: the tier's
# project tree is a temporary copy, its cache key is never used again.

# speed_status KEY: a field of `inception status`
speed_status() {
	inc speed-status status
	awk -v k="$1" '$1 == k {print $2}' "$logdir/speed-status.log"
}
# speed_mksize: the size of the guest's make log (0 when there is none)
speed_mksize() {
	inc speed-mksize ssh -- 'sudo stat -c %s /var/log/inception/make.log 2>/dev/null || echo 0'
	tail -n 1 "$logdir/speed-mksize.log"
}
# speed_steps OFFSET LOGNAME: the build steps the guest's make log has after
# OFFSET, one per line, "CACHED desc" or "RAN desc" (BuildKit's plain output)
speed_steps() {
	inc "$2" ssh -- "sudo tail -c +$(($1 + 1)) /var/log/inception/make.log"
	awk '
	/^#[0-9]+ \[[a-z]/ { id = $1; s = $0; sub(/^#[0-9]+ /, "", s); if (!(id in d)) d[id] = s; next }
	/^#[0-9]+ CACHED/ { c[$1] = 1 }
	END { for (id in d) print (id in c ? "CACHED" : "RAN"), d[id] }' "$logdir/$2.log"
}

# 7a. the --clean VM
base=$(speed_status base_layer)
dcache=$(speed_status docker_cache)
inc speed-nodocker ssh -- 'command -v docker || echo none'
case $base in
base-golden-*) t_fail "rebuild --clean: the plain image" "base_layer $base" ;;
*) [ "$dcache" = none ] && grep -qx none "$logdir/speed-nodocker.log" &&
	t_ok "rebuild --clean reused nothing: the plain image ($base), a blank Docker disk, no Docker in the guest" ||
	t_fail "rebuild --clean reused nothing" "docker_cache $dcache, docker: $(cat "$logdir/speed-nodocker.log")" ;;
esac

# 7b. rebuild from the golden layer and the project's Docker cache
s=$(date +%s)
# shellcheck disable=SC2086
"$INC" $OPTS --json rebuild >"$logdir/speed-rebuild.log" 2>&1; rc=$?
took=$(($(date +%s) - s))
base=$(speed_status base_layer)
dcache=$(speed_status docker_cache)
speed_steps 0 speed-mk1 >"$logdir/speed-steps1.log"
ncached=$(grep -c '^CACHED' "$logdir/speed-steps1.log")
if [ $rc -eq 0 ] && grep -q '"step":"health","state":"\(ok\|cached\)"' "$logdir/speed-rebuild.log" &&
	case $base in base-golden-*) true ;; *) false ;; esac &&
	case $dcache in dcache-*) true ;; *) false ;; esac && [ "$ncached" -gt 0 ] &&
	grep -q '"step":"make","state":"ok"' "$logdir/speed-rebuild.log"; then
	t_ok "rebuild: healthy in ${took}s from the golden layer ($base) and the Docker cache ($dcache); make ran, $ncached build steps CACHED"
else
	t_fail "rebuild from the golden layer and the Docker cache" "exit $rc after ${took}s, base $base, cache $dcache, $ncached CACHED; steps: $(outcomes speed-rebuild)"
fi
grep -q '"step":"docker","state":"ok".*present.*the other VM.s containers, volumes and networks removed' "$logdir/speed-rebuild.log" &&
	t_ok "the agent's docker step found Docker present in the golden layer (no apt), and removed the cached disk's containers, volumes and networks (the other VM's)" ||
	t_fail "docker present in the golden layer" "$(grep '"step":"docker","state":"\(ok\|fail\)"' "$logdir/speed-rebuild.log")"
kept=$(speed_status docker_cache_saved)

# 7c. a changed Dockerfile line rebuilds from that line
token=speed-$$-$(date +%s)
df="$INCEPTION_TOP/srcs/requirements/nginx/Dockerfile"
cp "$df" "$tmp/nginx.Dockerfile.orig"
printf 'RUN echo %s > /etc/inception-speed\n' "$token" >>"$df"
off=$(speed_mksize)
s=$(date +%s)
inc speed-change --json up; rc=$?
took=$(($(date +%s) - s))
speed_steps "$off" speed-mk2 >"$logdir/speed-steps2.log"
# shellcheck disable=SC2016 # expanded in the guest
inc speed-incontainer ssh -- 'sudo docker exec "$(sudo docker ps -qf name=nginx)" cat /etc/inception-speed'
if [ $rc -eq 0 ] && grep -q "^RAN \[nginx [0-9]*/[0-9]*\] RUN echo $token" "$logdir/speed-steps2.log" &&
	grep -q '^CACHED \[nginx [0-9]*/[0-9]*\] COPY tools/entrypoint.sh' "$logdir/speed-steps2.log" &&
	grep -qx "$token" "$logdir/speed-incontainer.log"; then
	t_ok "a changed Dockerfile line: nginx rebuilt from that line (${took}s; the COPY before it CACHED), the change is in the running container"
else
	t_fail "a changed Dockerfile line rebuilds from that line" "exit $rc; nginx steps: $(grep '\[nginx' "$logdir/speed-steps2.log" | tr '\n' ';'); in the container: $(cat "$logdir/speed-incontainer.log")"
fi
cp "$tmp/nginx.Dockerfile.orig" "$df"

# 7d. (opt-in) a clean rebuild builds everything
if [ "${E2E_SPEED_CLEAN:-0}" = 1 ]; then
	s=$(date +%s)
	# shellcheck disable=SC2086
	"$INC" $OPTS --json rebuild --clean >"$logdir/speed-clean.log" 2>&1; rc=$?
	took=$(($(date +%s) - s))
	speed_steps 0 speed-mk3 >"$logdir/speed-steps3.log"
	if [ $rc -eq 0 ] && [ "$(speed_status docker_cache)" = none ] &&
		grep -q '^RAN ' "$logdir/speed-steps3.log" && ! grep -q '^CACHED' "$logdir/speed-steps3.log"; then
		t_ok "rebuild --clean: healthy in ${took}s, every build step run (none CACHED)"
	else
		t_fail "rebuild --clean builds everything" "exit $rc; $(grep -c '^CACHED' "$logdir/speed-steps3.log") CACHED steps"
	fi
fi

# The project's Docker caches go with the tier's temporary project tree, once
# the VM whose Docker disk one of them backs is gone: after the tier's own
# cleanup, at exit.
speed_cleanup() {
	case $kept in
	dcache-*)
		_key=$(printf '%s' "$kept" | cut -d- -f2)
		for _v in $(virsh -c qemu:///system vol-list inception 2>/dev/null |
			awk -v k="dcache-$_key-" 'index($1, k) == 1 {print $1}'); do
			virsh -c qemu:///system vol-delete --pool inception "$_v" >/dev/null 2>&1
		done ;;
	esac
}
trap 'cleanup; speed_cleanup' EXIT
