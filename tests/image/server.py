#!/usr/bin/env python3
"""tests/image/server.py: a small HTTP server for the download tier.

Serves files under ROOT on 127.0.0.1 with HTTP Range support (bytes=N- and
bytes=N-M), and logs every request (path and Range header) to LOG, one line
each, so the tier can check that a resume really sent a Range request.

A path /cut/N/REST serves ROOT/REST but closes the connection after the body
reaches byte offset N of the file (the headers announce the full length, so
the client sees a cut, not a short file).  A request starting at or past N
is served in full: the first download is cut, the resume completes.  Only
the first request for a given /cut/ path is cut.

A path /norange/REST ignores Range headers (always 200 and the whole file),
like servers that cannot resume.

A path /cutall/N/REST cuts every request that starts before N (a server that
never lets a download finish).

A path /more/N/REST answers a Range request with a Content-Range that names
the real file size but a Content-Length and a body N bytes longer (a server
that sends more than the file it announces).

A path /nolength/REST sends no Content-Length (the body ends when the
connection closes), so the client cannot know the size.

A path /redirect/SCHEME/PORT/REST answers 302 with a Location of
SCHEME://127.0.0.1:PORT/REST.

The prefixes combine (e.g. /norange/cutall/N/REST), in any order.

Usage: server.py ROOT PORTFILE LOG [CERT KEY]
  (binds port 0, writes the port to PORTFILE; with CERT and KEY it speaks
  HTTPS with that certificate)
"""
import http.server
import os
import re
import socketserver
import ssl
import sys

ROOT, PORTFILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
CHUNK = 1 << 16
CUT_DONE = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet on stderr; LOG has what matters
        pass

    def _log(self, code):
        with open(LOG, "a", encoding="utf-8") as f:
            f.write("%s %s range=%s code=%d\n" % (
                self.command, self.path, self.headers.get("Range", "-"), code))

    def _fail(self, code):
        self._log(code)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        path, cut, ranges, more = self.path.split("?", 1)[0], None, True, 0
        nolength = False
        while True:
            m = re.match(r"^/(cut|cutall|more)/(\d+)(/.*)$", path)
            r = re.match(r"^/redirect/(https?)/(\d+)(/.*)$", path)
            if path.startswith("/norange/"):
                ranges, path = False, path[len("/norange"):]
            elif path.startswith("/nolength/"):
                nolength, path = True, path[len("/nolength"):]
            elif r:
                self._log(302)
                self.send_response(302)
                self.send_header("Location", "%s://127.0.0.1:%s%s" % r.groups())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            elif m and m.group(1) == "more":
                more, path = int(m.group(2)), m.group(3)
            elif m and m.group(1) == "cutall":
                cut, path = int(m.group(2)), m.group(3)
            elif m:
                if self.path not in CUT_DONE:
                    cut = int(m.group(2))
                    CUT_DONE.add(self.path)
                path = m.group(3)
            else:
                break
        full = os.path.realpath(os.path.join(ROOT, path.lstrip("/")))
        if not full.startswith(os.path.realpath(ROOT) + "/") or not os.path.isfile(full):
            return self._fail(404)
        size = os.path.getsize(full)
        start, end = 0, size - 1
        rng = self.headers.get("Range") if ranges else None
        code = 200
        if rng:
            m = re.match(r"^bytes=(\d+)-(\d*)$", rng.strip())
            if not m:
                return self._fail(400)
            start = int(m.group(1))
            if m.group(2):
                end = min(int(m.group(2)), size - 1)
            if start >= size:
                self._log(416)
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            code = 206
        if code != 206:
            more = 0
        self._log(code)
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes" if ranges else "none")
        if nolength:
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(end - start + 1 + more))
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if head:
            return
        stop = end + 1
        if cut is not None and start < cut < stop:
            stop = cut
        with open(full, "rb") as f:
            f.seek(start)
            pos = start
            while pos < stop:
                data = f.read(min(CHUNK, stop - pos))
                if not data:
                    break
                self.wfile.write(data)
                pos += len(data)
        if more and stop == end + 1:
            self.wfile.write(b"\0" * more)
        if stop != end + 1:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) > 5:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
