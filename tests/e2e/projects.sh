# tests/e2e/projects.sh: sourced by tests/e2e/run (after 5a, before the
# rebuild of 6) on the same VM: any Inception project, not only ours.
#   P1. `up PROJECT --generate-missing` on a copy of fixture a (a student's
#       style: web/php/db, compose.yaml, a committed .env, git-ignored docker
#       secrets nothing creates): the old project's containers stopped, the
#       two secrets generated here and pushed 0600, nothing of ours in
#       push.dir, healthy through the forwarded port; status and creds name
#       the project and its commit
#   P2. `up PROJECT` again: a no-op (0 files sent, agent steps cached)
#   P2b. `check` on it in the VM: exactly its violations' FAILs
#   P3. a local change, `push` (the VM's project): that file sent, make and
#       health run; the project's own .env as it is, the generated secrets
#       the same as before (kept, not made again)
#   P4. `up` on fixture c (FROM alpine:3.20): exit 1, the base step fails
#       naming the Dockerfile, its line and the image, before make
# Uses the run's helpers: inc, outcomes, cached, pushed_nothing, t_ok, t_fail.
# shellcheck shell=sh disable=SC2154,SC2086 # tmp, logdir, INC, OPTS...: the run's; OPTS split on purpose

proj=$tmp/student-a
cp -rp tests/projects/a-secrets "$proj"
(cd "$proj" && git init -q && git add -A &&
	git -c user.name=student -c user.email=s@42.fr commit -qm 'my inception') >"$logdir/p-git.log" 2>&1
pcommit=$(cd "$proj" && git rev-parse HEAD)
pdomain=$(sed -n 's/^DOMAIN_NAME=//p' "$proj/srcs/.env")
gen_of() { # the directory the VM's state keeps the generated inputs in
	sed -n 's/^project_gen=//p' "$XDG_STATE_HOME/inception/$NAME/vm.state"
}

# P1. another project on this VM
inc p1 --json up --generate-missing "$proj"; rc=$?
gen=$(gen_of)
inc p1-ls ssh -- "cd inception && ls -A && stat -c '%a %n' secrets secrets/db_password.txt && cat secrets/db_password.txt"
inc p1-prev ssh -- "ls -A .local/share/inception-previous-project"
code=$(curl -sS -k --max-time 60 --resolve "$pdomain:$PHTTPS:127.0.0.1" -o /dev/null -w '%{http_code}' \
	"https://$pdomain:$PHTTPS/" 2>"$logdir/p1-curl.err")
if [ $rc -eq 0 ] && grep -q 'stopping its containers (docker compose down, volumes kept)' "$logdir/p1.log" &&
	grep -q 'generated secrets/db_password.txt' "$logdir/p1.log" &&
	grep -q '"step":"health","state":"ok"' "$logdir/p1.log" &&
	case $code in 2?? | 3??) true ;; *) false ;; esac; then
	t_ok "up on a student's project (fixture a): old stack stopped, secrets generated, healthy through the forward (HTTP $code)"
else
	t_fail "up on fixture a" "exit $rc, HTTP $code $(cat "$logdir/p1-curl.err"); $(outcomes p1); $(grep -E 'error|fail' "$logdir/p1.log" | tail -3)"
fi
if [ "$(sed -n 1,5p "$logdir/p1-ls.log" | tr '\n' ' ')" = ".gitignore Makefile secrets srcs 700 secrets " ] &&
	grep -qx '600 secrets/db_password.txt' "$logdir/p1-ls.log" &&
	[ "$(tail -n 1 "$logdir/p1-ls.log")" = "$(cat "$gen/secrets/db_password.txt")" ]; then
	t_ok "push.dir holds only the project and its generated secrets (0600, the state dir's); nothing of ours"
else
	t_fail "push.dir holds only the project" "$(head -8 "$logdir/p1-ls.log" | tr '\n' ' ')"
fi
# the bundled stack's tree, with what its make made (build/ stamps), set aside, not deleted
if grep -qx Makefile "$logdir/p1-prev.log" && grep -qx build "$logdir/p1-prev.log" &&
	grep -q 'old project.s files moved to' "$logdir/p1.log"; then
	t_ok "the old project's files (its make's build/ included) moved out of push.dir to inception-previous-project"
else
	t_fail "the old project's files set aside" "$(tr '\n' ' ' <"$logdir/p1-prev.log")"
fi
"$INC" $OPTS --json status >"$logdir/p1-status.json" 2>&1
"$INC" $OPTS --json creds >"$logdir/p1-creds.json" 2>&1
if python3 - "$logdir/p1-status.json" "$logdir/p1-creds.json" "$proj" "$pcommit" <<'PY' 2>"$logdir/p1-json.err"
import json, sys
st = json.load(open(sys.argv[1])); cr = json.load(open(sys.argv[2]))
assert st["project"] == sys.argv[3] and st["project_commit"] == sys.argv[4], st
assert st["project_dirty"] is False, st
assert cr["project"] == sys.argv[3] and cr["commit"] == sys.argv[4], cr
assert "generated secrets/db_password.txt" in cr and "generated secrets/db_root_password.txt" in cr, cr
PY
then
	t_ok "status and creds (--json) name the project and its commit; creds lists its generated files"
else
	t_fail "status and creds name the project" "$(tail -2 "$logdir/p1-json.err")"
fi

# P2. the same project again: nothing to do
inc p2 --json up "$proj"; rc=$?
if [ $rc -eq 0 ] && pushed_nothing p2 && cached p2 hosts docker data base make; then
	t_ok "up on the same project again is a no-op: 0 files sent, agent steps cached"
else
	t_fail "up on fixture a again is a no-op" "exit $rc; $(outcomes p2)"
fi

# P2b. `inception check` on this student's project in the VM: a project in
# another style (services web/php/db, the password in a docker secret) whose
# violations are real: its srcs/.env is committed (tracked, not ignored), its
# images are not named after its services, and its WordPress is not
# installed (the installer answers, the database is empty, so no
# administrator to look at).  Exactly those six FAILs, exit 1; the services
# found by what their Dockerfiles install (web is nginx...); its volumes
# under /home/jdoe/data, the project's LOGIN, PASS.
"$INC" $OPTS --json check >"$logdir/p2-check.json" 2>"$logdir/p2-check.err"; rc=$?
got=$(python3 - "$logdir/p2-check.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"type":"check"')]
print(";".join(sorted(r["point"] for r in rows if r["state"] == "FAIL")))
print(len([r for r in rows if r["section"] == "nginx" and r["state"] == "PASS"]))
PY
)
want='.env and secrets/ are git-ignored;administrator login has no "admin";each image named after its service;https://LOGIN.42.fr is the installed site;no credentials in tracked files;the WordPress user logs in, DB not empty'
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$got" | sed -n 1p)" = "$want" ] &&
	[ "$(printf '%s\n' "$got" | sed -n 2p)" -ge 6 ]; then
	t_ok "check on fixture a in the VM: exactly its 6 FAILs (committed .env, image names, WordPress not installed), exit 1; web checked as its nginx"
else
	t_fail "check on fixture a in the VM: exactly its FAILs" "exit $rc; FAILs: $(printf '%s\n' "$got" | sed -n 1p); nginx PASS: $(printf '%s\n' "$got" | sed -n 2p); $(tail -2 "$logdir/p2-check.err")"
fi

# P3. a local change, then push (the VM's project)
before=$(cat "$gen/secrets/db_password.txt")
printf '\n# a local change\n' >>"$proj/srcs/requirements/web/conf/wordpress.conf"
inc p3 --json push; rc=$?
inc p3-cat ssh -- "cat inception/srcs/.env; echo ==; cat inception/secrets/db_password.txt"
ran=" $(outcomes p3)"
if [ $rc -eq 0 ] && [ "$ran" = " push=ok make=ok health=ok " ] &&
	grep -q '"step":"push","state":"ok".*files: 1 sent' "$logdir/p3.log" &&
	[ "$(sed '/^==$/,$d' "$logdir/p3-cat.log")" = "$(cat "$proj/srcs/.env")" ] &&
	[ "$(sed '1,/^==$/d' "$logdir/p3-cat.log")" = "$before" ] && [ "$(cat "$gen/secrets/db_password.txt")" = "$before" ]; then
	t_ok "push after a local change: 1 file sent, make and health; the project's .env as committed, the generated secrets kept"
else
	t_fail "push of fixture a after a local change" "exit $rc; steps:$ran; $(head -c 300 "$logdir/p3-cat.log")"
fi

# P4. a broken project: FROM alpine:3.20 that nothing can provide here
inc p4 --json up tests/projects/c-alpine; rc=$?
if [ $rc -eq 1 ] && grep -q '"step":"base","state":"fail"' "$logdir/p4.log" &&
	grep -q 'srcs/requirements/[a-z]*/Dockerfile:[0-9][0-9]*: alpine:3.20: no registry reachable' "$logdir/p4.log" &&
	! grep -q '"step":"make","state"' "$logdir/p4.log"; then
	t_ok "up on fixture c: exit 1, the base step names the Dockerfile, its line and alpine:3.20, before make"
else
	t_fail "up on fixture c fails clearly" "exit $rc; $(outcomes p4); $(grep -i 'alpine' "$logdir/p4.log" | tail -2 | cut -c1-300)"
fi
