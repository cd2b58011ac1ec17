#!/usr/bin/env python3
"""An OpenAI-style chat-completions server for the llm-agent tests (Python 3 standard library only).

    llm_server.py --port-file FILE [--key KEY]

Listens on 127.0.0.1 on a free port, writes the port to FILE, serves until killed.

POST /v1/chat/completions answers like OpenAI's API: 401 {"error": {"message", "type"}} unless
the request has "Authorization: Bearer KEY" (default "sk-test"); else by the model asked for:
  echo            content "echo: " + the last message's content; usage counts words (prompt: all
                  messages' words, completion: the answer's words)
  json            content '{"answer": 42, "exact": 0.1000000000000000000001}'
  not-json        content 'certainly! {"answer": 42' (for responseFormat json)
  garbage         a 200 body that is JSON but no chat completion
  html            a 200 text/html body
  down            500 {"error": {"message": "the model is overloaded"}}
  busy            429 with Retry-After: 1
  slow            answers after 3 s
  unknown-model   404 {"error": {"message": "The model `unknown-model` does not exist"}}
GET /log: every request so far, [{path, authorization, body}] (body parsed); /log/clear forgets.
"""
import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
LOCK = threading.Lock()
KEY = "sk-test"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flowent-fake-llm/1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json", extra=()):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/log":
            with LOCK:
                self._send(200, LOG)
        elif self.path == "/log/clear":
            with LOCK:
                LOG.clear()
            self._send(200, {"cleared": True})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        with LOCK:
            LOG.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": req})
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": "no such route"}})
        if self.headers.get("Authorization") != "Bearer " + KEY:
            return self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        model = (req or {}).get("model")
        msgs = (req or {}).get("messages") or []
        if model == "down":
            return self._send(500, {"error": {"message": "the model is overloaded"}})
        if model == "busy":
            return self._send(429, {"error": {"message": "Rate limit reached"}}, extra=[("Retry-After", "1")])
        if model == "unknown-model":
            return self._send(404, {"error": {"message": "The model `unknown-model` does not exist"}})
        if model == "garbage":
            return self._send(200, {"id": "x", "object": "chat.completion", "choices": []})
        if model == "html":
            return self._send(200, "<html>maintenance</html>", ctype="text/html")
        if model == "slow":
            time.sleep(3)
        if model == "json":
            content = '{"answer": 42, "exact": 0.1000000000000000000001}'
        elif model == "not-json":
            content = 'certainly! {"answer": 42'
        else:
            content = "echo: " + (msgs[-1]["content"] if msgs else "")
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in msgs)
        completion_tokens = len(content.split())
        self._send(200, {
            "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}})


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that hung up (the timeout test) is no error of the server's


def main():
    global KEY
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", default=KEY)
    a = ap.parse_args()
    KEY = a.key
    s = Server(("127.0.0.1", 0), Handler)
    s.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(s.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    s.serve_forever()


if __name__ == "__main__":
    main()
