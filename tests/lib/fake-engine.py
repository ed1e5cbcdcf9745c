#!/usr/bin/env python3
"""tests/lib/fake-engine.py: a stand-in Docker engine socket for tiers that
have no dockerd (the agent tier's chroot).

    fake-engine.py SOCKET STATE-FILE REQUEST-LOG

Listens on the unix socket SOCKET and answers the engine API calls the
agent makes (agent/engine.c: GET /containers/json?all=1&filters=... for
the project's containers by compose labels, status and health, GET
/containers/NAME/json, GET /images/NAME/json for the base step, GET
/_ping), each as dockerd 2x would, in compact JSON.  STATE-FILE is read
again on every request, so a test changes the answers between runs; one
line per object:

    container NAME running healthy [label:KEY=VALUE]... [port:N]
    container NAME running none    (no health check; or unhealthy, starting)
    container NAME exited [label:KEY=VALUE]...
    image NAME:TAG

port:N publishes container port 443 on host port N.  An object not listed
is a 404 "No such container/image"; the list filters label (every KEY=VALUE
must match), status and health ("none": no health check) as dockerd does.
Every request is appended to REQUEST-LOG ("GET /containers/nginx/json 200";
a list as "GET /containers/json service=web 200", naming the service label
it filtered on, or "-"), so a test can tell what the engine was asked.
Runs until killed (SIGTERM).
"""
import json
import os
import signal
import socketserver
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler


def read_state(path):
    containers, images = {}, set()
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "container":
                st = [x for x in w[2:] if ":" not in x]
                labels = dict(x[6:].split("=", 1) for x in w[2:] if x.startswith("label:"))
                ports = [int(x[5:]) for x in w[2:] if x.startswith("port:")]
                containers[w[1]] = (st, labels, ports)
            elif len(w) == 2 and w[0] == "image":
                images.add(w[1])
    return containers, images


def health_of(st):
    return st[1] if len(st) > 1 and st[1] != "none" else "none"


def list_item(name, c):
    st, labels, ports = c
    return {"Id": (name.encode().hex() + "0" * 64)[:64], "Names": ["/" + name],
            "Image": name + ":test", "Labels": labels, "State": st[0],
            "Status": "Up 1 minute" if st[0] == "running" else "Exited (137)",
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": 443, "PublicPort": p, "Type": "tcp"}
                      for p in ports]}


def matches(c, filters):
    st, labels, _ = c
    for want in filters.get("label", []):
        k, _, v = want.partition("=")
        if k not in labels or ("=" in want and labels[k] != v):
            return False
    if "status" in filters and st[0] not in filters["status"]:
        return False
    if "health" in filters and health_of(st) not in filters["health"]:
        return False
    return True


def container_json(name, st):
    running = st[0] == "running"
    state = {
        "Status": st[0],
        "Running": running,
        "Paused": False,
        "Restarting": False,
        "Pid": 4242 if running else 0,
        "ExitCode": 0 if running else 137,
    }
    if len(st) > 1 and st[1] != "none":
        state["Health"] = {"Status": st[1], "FailingStreak": 0, "Log": []}
    return {"Id": "f" * 64, "Name": "/" + name, "State": state,
            "Config": {"Image": name + ":test"}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-engine"

    def send(self, code, obj):
        body = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", "1.45")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        containers, images = read_state(self.server.state_file)
        path = urllib.parse.urlsplit(self.path).path
        parts = path.split("/")
        # an optional version prefix: /v1.45/containers/...
        if len(parts) > 1 and parts[1].startswith("v1."):
            parts = [""] + parts[2:]
        code, obj = 404, {"message": "page not found"}
        logged = path
        if parts[1:] == ["_ping"]:
            code, obj = 200, "OK"
        elif parts[1:] == ["containers", "json"]:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            filters = json.loads(q.get("filters", ["{}"])[0])
            code = 200
            obj = [list_item(n, c) for n, c in containers.items() if matches(c, filters)]
            svc = [x.split("=", 1)[1] for x in filters.get("label", [])
                   if x.startswith("com.docker.compose.service=")]
            logged = path + " service=" + (svc[0] if svc else "-")
        elif len(parts) == 4 and parts[1] == "containers" and parts[3] == "json":
            name = urllib.parse.unquote(parts[2])
            if name in containers:
                code, obj = 200, container_json(name, containers[name][0])
            else:
                obj = {"message": "No such container: " + name}
        elif len(parts) >= 4 and parts[1] == "images" and parts[-1] == "json":
            name = urllib.parse.unquote("/".join(parts[2:-1]))
            if name in images:
                code, obj = 200, {"Id": "sha256:" + "e" * 64, "RepoTags": [name]}
            else:
                obj = {"message": "No such image: " + name}
        with open(self.server.request_log, "a") as f:
            f.write("GET %s %d\n" % (logged, code))
        self.send(code, obj)

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: fake-engine.py SOCKET STATE-FILE REQUEST-LOG\n")
        return 2
    sock, state_file, request_log = sys.argv[1:]
    if os.path.exists(sock):
        os.unlink(sock)
    srv = Server(sock, Handler)
    srv.state_file, srv.request_log = state_file, request_log
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        srv.serve_forever()
    finally:
        os.unlink(sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
