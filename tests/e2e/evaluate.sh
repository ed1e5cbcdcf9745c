# shellcheck shell=sh disable=SC2154 # INC, OPTS, logdir: set by tests/e2e/run, which sources this
# tests/e2e/evaluate.sh: sourced by tests/e2e/run right after step 4d, on
# its healthy VM (it uses the tier's INC, OPTS, logdir, tmp, inc and
# nginx_tls11).
#
# 4e. `inception check --evaluate` in the VM: the evaluator's whole flow.
#     The sheet's cleanup command (every container, image, volume and
#     network of the guest's Docker gone), the base image back, `make`
#     timed, every point (a comment and a page edit made on the way), the
#     kill -9 restart, then the reboot of the VM, `make` again, healthy,
#     and the comment and the page edit still there.  Nothing may FAIL;
#     the evaluate, wordpress, persistence and restart rows must PASS.
# 4f. a violating project in the VM: the running stack broken the way the
#     sheet names (nginx made to accept TLS 1.1): `check --only nginx`
#     gives exactly that FAIL and exit 1; then nginx's own configuration is
#     put back.  (A whole second project built in the VM would cost another
#     ten minutes of TCG; the static fixtures run in the check tier.)

start=$(date +%s)
# shellcheck disable=SC2086
"$INC" $OPTS --json check --evaluate --report "$logdir/evaluate.md" \
	>"$logdir/evaluate.json" 2>"$logdir/evaluate.err"
rc=$?
secs=$(($(date +%s) - start))
verdict=$(python3 - "$logdir/evaluate.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"check"')]
by = {(r["section"], r["point"]): r for r in rows}
fails = ["%s/%s: %s" % (r["section"], r["point"], r["evidence"]) for r in rows if r["state"] == "FAIL"]
must = [("evaluate", "the sheet's cleanup command"), ("evaluate", "make, timed"),
        ("wordpress", "a user logs in and comments"), ("wordpress", "the administrator edits a page"),
        ("persistence", "reboot, make: everything still there"),
        ("restart", "kill -9 of each PID 1: back healthy")]
notpass = ["%s/%s: %s %s" % (s, p, by[(s, p)]["state"] if (s, p) in by else "missing",
                               by[(s, p)]["evidence"] if (s, p) in by else "")
           for s, p in must if (s, p) not in by or by[(s, p)]["state"] != "PASS"]
if fails:
    print("FAIL: " + " | ".join(fails)[:900])
elif notpass:
    print("not PASS: " + " | ".join(notpass)[:900])
else:
    mk = by[("evaluate", "make, timed")]["evidence"]
    per = by[("persistence", "reboot, make: everything still there")]["evidence"]
    print("ok %d points; %s; %s" % (len(rows), mk[:160], per[:300]))
PY
)
if [ "${verdict#ok}" != "$verdict" ] && [ $rc -eq 0 ]; then
	t_ok "check --evaluate in the VM (cleanup, make, reboot, make): nothing FAILs ($secs s): ${verdict#ok }"
else
	t_fail "check --evaluate in the VM: nothing FAILs, the flow and persistence PASS" \
		"exit $rc; $verdict; $(tail -3 "$logdir/evaluate.err")"
fi

nginx_tls11 on
# shellcheck disable=SC2086
"$INC" $OPTS --json check --only nginx >"$logdir/check-tls11.json" 2>"$logdir/check-tls11.err"
rc=$?
got=$(sed -n 's/^{"type":"check".*"point":"\([^"]*\)","state":"FAIL".*/\1/p' "$logdir/check-tls11.json")
if [ $rc -eq 1 ] && [ "$got" = "TLSv1.1 is refused by the server" ]; then
	t_ok "nginx in the VM set to accept TLS 1.1: check --only nginx gives exactly that FAIL, exit 1"
else
	t_fail "a violation in the VM gives exactly its FAIL" "exit $rc; FAILs: $(printf '%s' "$got" | tr '\n' ';')"
fi
nginx_tls11 off
