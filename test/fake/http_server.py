#!/usr/bin/env python3
"""A small HTTP server for Flowent's HTTP node tests (Python 3 standard library only).

    http_server.py --bind 127.0.0.1 [--bind 127.0.0.2 ...] --port-file FILE

Listens on the same free port on every --bind address, writes the port to FILE once it
listens, and serves until killed. Every request is recorded; GET /log returns the record.

Endpoints (any method):
  /echo...               {method, path, query, rawQuery, headers, body, json?}: headers lower-cased,
                         query {name: value or [values]}, body the request body as text, json the
                         body copied verbatim (not re-encoded) when the request says it is JSON
  /status/<code>         that status, body {"status": code}; ?retry_after=N adds Retry-After: N
  /slow?ms=N             answers after N milliseconds
  /redirect?to=URL       302 (or ?code=301/303/307/308) to URL
  /redirect-chain?n=N    N redirects in a row, then {"redirects": N}
  /text                  text/plain "hello, world\\n"
  /bytes                 application/octet-stream, bytes that are not UTF-8
  /json-bad              Content-Type application/json, a body that is not JSON
  /dup-headers           two X-Dup headers
  /big?n=N               N bytes of "x" (text/plain)
  /hmac-check?secret=S   200 {"valid": true, "timestamp": T} when X-Flowent-Signature is
                         sha256=<hex HMAC-SHA256(S, X-Flowent-Timestamp + "." + body)>, else 401
                         {"valid": false, "reason": …}
  /log                   [{method, path, host, idempotencyKey, authorization, server}] so far
  /log/clear             forget the record
"""
import argparse
import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flowent-fake/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype="application/json", extra=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, obj, extra=()):
        self._send(status, json.dumps(obj), "application/json", extra)

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self._body()
        with LOG_LOCK:
            if path not in ("/log", "/log/clear"):
                LOG.append({
                    "method": self.command,
                    "path": path,
                    "host": self.headers.get("Host"),
                    "idempotencyKey": self.headers.get("Idempotency-Key"),
                    "authorization": self.headers.get("Authorization"),
                    "server": self.server.server_address[0],
                })

        if path == "/log":
            with LOG_LOCK:
                return self._json(200, list(LOG))
        if path == "/log/clear":
            with LOG_LOCK:
                LOG.clear()
            return self._json(200, {"cleared": True})
        if path.startswith("/echo"):
            query = {k: (v[0] if len(v) == 1 else v) for k, v in q.items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            text = body.decode("utf-8", errors="replace")
            # Assembled by hand so a JSON body comes back byte for byte (no float rounding).
            parts = [
                '"method":' + json.dumps(self.command),
                '"path":' + json.dumps(path),
                '"query":' + json.dumps(query),
                '"rawQuery":' + json.dumps(url.query),
                '"headers":' + json.dumps(headers),
                '"body":' + json.dumps(text, ensure_ascii=False),
            ]
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype == "application/json" and text.strip():
                parts.append('"json":' + text)
            return self._send(200, "{" + ",".join(parts) + "}")
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            extra = [("Retry-After", q["retry_after"][0])] if "retry_after" in q else []
            return self._json(code, {"status": code}, extra)
        if path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            return self._json(200, {"slept": int(q.get("ms", ["1000"])[0])})
        if path == "/redirect":
            code = int(q.get("code", ["302"])[0])
            return self._send(code, "", "text/plain", [("Location", q["to"][0])])
        if path == "/redirect-chain":
            n = int(q.get("n", ["1"])[0])
            done = int(q.get("done", ["0"])[0])
            if done >= n:
                return self._json(200, {"redirects": n})
            return self._send(302, "", "text/plain",
                              [("Location", "/redirect-chain?n=%d&done=%d" % (n, done + 1))])
        if path == "/text":
            return self._send(200, "hello, world\n", "text/plain; charset=utf-8")
        if path == "/bytes":
            return self._send(200, b"\xff\xfe\x00binary", "application/octet-stream")
        if path == "/json-bad":
            return self._send(200, "{not json", "application/json")
        if path == "/dup-headers":
            return self._send(200, "ok", "text/plain", [("X-Dup", "a"), ("X-Dup", "b")])
        if path == "/big":
            return self._send(200, "x" * int(q.get("n", ["1000"])[0]), "text/plain")
        if path == "/hmac-check":
            secret = q.get("secret", [""])[0].encode("utf-8")
            ts = self.headers.get("X-Flowent-Timestamp")
            sig = self.headers.get("X-Flowent-Signature") or ""
            if not ts:
                return self._json(401, {"valid": False, "reason": "no X-Flowent-Timestamp"})
            want = "sha256=" + hmac.new(secret, ts.encode("ascii") + b"." + body,
                                        hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, sig):
                return self._json(401, {"valid": False, "reason": "bad signature"})
            if abs(time.time() - int(ts)) > 300:
                return self._json(401, {"valid": False, "reason": "stale timestamp"})
            return self._json(200, {"valid": True, "timestamp": int(ts)})
        return self._json(404, {"error": "no such endpoint", "path": path})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # hundreds of requests in flight at once (bench/http_idle.sh)

    def handle_error(self, request, client_address):
        # Clients that give up (timeouts, cancelled statements) are part of the tests.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def serve_all(binds, port_file):
    # The same port on every address: take a free one on the first, retry on a clash.
    for _ in range(50):
        servers = []
        try:
            first = Server((binds[0], 0), Handler)
            servers.append(first)
            port = first.server_address[1]
            for addr in binds[1:]:
                servers.append(Server((addr, port), Handler))
            break
        except OSError:
            for s in servers:
                s.server_close()
    else:
        sys.exit("could not bind the same port on " + ", ".join(binds))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, port_file)
    threading.Event().wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", action="append", default=[])
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    serve_all(a.bind or ["127.0.0.1"], a.port_file)


if __name__ == "__main__":
    socket.setdefaulttimeout(60)
    main()
