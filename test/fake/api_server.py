#!/usr/bin/env python3
"""Stand-ins for the external APIs the AI and action nodes call (Python 3 standard library only):
an OpenAI-style chat-completions API and the Brave, DuckDuckGo and Google search APIs.

    api_server.py --port-file FILE [--key KEY]

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
  judge           condition's AI fallback: {"decision": true} when the data says "yes", else false,
                  with a reasoning; usage 20 + 5 tokens
  judge-bad       JSON without a decision
  busy            429 with Retry-After: 1
  busy-long       429 with Retry-After: 3600
  busy-date       429 with Retry-After as an HTTP date 2 s ahead
  slow            answers after 3 s
  sleep-S         answers as echo after S seconds (e.g. sleep-2)
  stream-slow     answers as echo; streamed, a chunk every 0.25 s
  generator       flowent.generate's model: without the node types in the system message, an answer
                  that is no workflow; a request whose first user message says "hopeless" always, and
                  "broken" before a repair, a workflow with an edge to a node that does not exist;
                  else trigger -> set-variable -> output; usage 100 + 50
A request with "stream": true gets each answer as OpenAI streams it (text/event-stream, chunked):
chat.completion.chunk events of 4 characters of content, tool calls in two pieces each, the
finish_reason, the usage when stream_options.include_usage, then [DONE].
  metered         answers "ok" after 0.3 s; usage 30 prompt tokens + the request's max_tokens (10 when
                  absent) completion tokens, as a provider that used every token it may
  unknown-model   404 {"error": {"message": "The model `unknown-model` does not exist"}}
  agent           a tool-calling model scripted by the first user message, JSON {"calls": [[{name,
                  arguments}], ...], "stubborn": bool}: while fewer answers with tool_calls than
                  calls are in the conversation (and tool_choice is not "none", unless stubborn),
                  the next calls (arguments as a JSON text; "arguments" given as a string is sent
                  as it is); then content "final: " + the tool messages' contents joined by " | ";
                  usage: prompt 10 per message, completion 5; with "failOnce": N and "key": K, the
                  first request for step N of script K answers 500
GET /brave/search?q=&count=   Brave's Web Search response (web.results: min(count, 3) of them); 401
                              in Brave's error format unless X-Subscription-Token is brave-key
GET /ddg/?q=&format=json      DuckDuckGo's Instant Answer response: an abstract and related topics, one
                              group of them nested
GET /google/customsearch/v1   Google's Custom Search response (items: min(num, 3)); 400 "API key not
                              valid" unless key=g-key and cx=g-cx; q=nothing: no items
A search for "down" answers 503.
POST/PATCH /hubspot/crm/v3/...  HubSpot's CRM v3 API (contacts, deals/<id>, notes, contacts/search) in its
                              formats; 401 unless "Authorization: Bearer hs-token"; a contact with email
                              taken@example.com 409, busy@example.com 429; deal 404 not found
GET /log: every request so far, [{path, authorization, body, headers, at}] (body parsed; at: Unix
time it came in); /log/clear forgets.
"""
import argparse
import json
import urllib.parse
import socket
import threading
import email.utils
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
LOCK = threading.Lock()
KEY = "sk-test"
FAILED = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flowent-fake-llm/1"
    # headers and body leave in one write (flushed after each request): two small writes
    # meet the client's delayed ACK and cost 40 ms a response
    wbufsize = 1 << 16

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json", extra=()):
        if status == 200 and isinstance(body, dict) and body.get("object") == "chat.completion" \
                and getattr(self, "stream_req", None):
            return self._stream(body, self.stream_req)
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

    def _stream(self, body, req):
        """A chat completion as OpenAI streams it: chunks of a few characters of content (and of
        each tool call's arguments), the finish_reason, then the usage when asked, then [DONE]."""
        delay = 0.25 if body.get("model") == "stream-slow" else 0
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(obj):
            data = ("data: " + (obj if isinstance(obj, str) else json.dumps(obj)) + "\n\n").encode("utf-8")
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def chunk(delta, finish=None):
            event({"id": body["id"], "object": "chat.completion.chunk", "created": body["created"],
                   "model": body["model"], "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        msg = body["choices"][0]["message"]
        chunk({"role": "assistant", "content": ""})
        content = msg.get("content") or ""
        for i in range(0, len(content), 4):
            if delay:
                time.sleep(delay)
            chunk({"content": content[i:i + 4]})
        for n, tc in enumerate(msg.get("tool_calls") or []):
            args = tc["function"]["arguments"]
            half = len(args) // 2
            chunk({"tool_calls": [{"index": n, "id": tc["id"], "type": "function",
                                   "function": {"name": tc["function"]["name"], "arguments": args[:half]}}]})
            chunk({"tool_calls": [{"index": n, "function": {"arguments": args[half:]}}]})
        chunk({}, body["choices"][0]["finish_reason"])
        if (req.get("stream_options") or {}).get("include_usage"):
            event({"id": body["id"], "object": "chat.completion.chunk", "created": body["created"],
                   "model": body["model"], "choices": [], "usage": body["usage"]})
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        qs = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
        if u.path in ("/brave/search", "/ddg/", "/google/customsearch/v1"):
            with LOCK:
                LOG.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": None,
                            "headers": {k.lower(): v for k, v in self.headers.items()}, "at": time.time()})
            return self._search(u.path, qs)
        if self.path == "/log":
            with LOCK:
                self._send(200, LOG)
        elif self.path == "/log/clear":
            with LOCK:
                LOG.clear()
            self._send(200, {"cleared": True})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def _search(self, path, qs):
        q = qs.get("q", "")
        if q == "down":
            return self._send(503, {"error": {"message": "search is down for maintenance"}})
        if path == "/brave/search":
            if self.headers.get("X-Subscription-Token") != "brave-key":
                return self._send(401, {"type": "ErrorResponse", "error": {"status": 401, "code": "SUBSCRIPTION_TOKEN_INVALID",
                                                                         "detail": "The provided subscription token is invalid."}})
            n = min(int(qs.get("count", "20")), 3)
            return self._send(200, {"type": "search", "query": {"original": q}, "web": {"type": "search", "results": [
                {"title": f"Brave {i} for {q}", "url": f"https://example.com/brave/{i}", "description": f"About {q}, part {i}",
                 "page_age": "2026-11-01T00:00:00"} for i in range(1, n + 1)]}})
        if path == "/ddg/":
            return self._send(200, {
                "Heading": "PostgreSQL", "AbstractText": "PostgreSQL is a free and open-source relational database.",
                "AbstractURL": "https://en.wikipedia.org/wiki/PostgreSQL", "Abstract": "", "Type": "A",
                "RelatedTopics": [
                    {"FirstURL": "https://duckduckgo.com/PostgreSQL_Global_Development_Group",
                     "Text": "PostgreSQL Global Development Group - The community that develops PostgreSQL.", "Icon": {}},
                    {"Name": "See also", "Topics": [
                        {"FirstURL": "https://duckduckgo.com/SQL", "Text": "SQL - A domain-specific language.", "Icon": {}},
                        {"FirstURL": "https://duckduckgo.com/MySQL", "Text": "MySQL", "Icon": {}}]}]})
        if qs.get("key") != "g-key" or qs.get("cx") != "g-cx":
            return self._send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                              "status": "INVALID_ARGUMENT"}})
        info = {"kind": "customsearch#search", "searchInformation": {"totalResults": "0"}}
        if q == "nothing":
            return self._send(200, info)
        n = min(int(qs.get("num", "10")), 3)
        info["items"] = [{"kind": "customsearch#result", "title": f"Google {i} for {q}", "link": f"https://example.com/google/{i}",
                          "snippet": f"Snippet {i} of {q}"} for i in range(1, n + 1)]
        return self._send(200, info)

    def _hubspot(self, method, path, req):
        def error(status, message, category, cid):
            return self._send(status, {"status": "error", "message": message, "correlationId": cid, "category": category})
        if self.headers.get("Authorization") != "Bearer hs-token":
            return error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION", "c0ffee-401")
        now = "2026-12-02T00:00:00.000Z"
        props = (req or {}).get("properties") or {}
        if method == "POST" and path == "/hubspot/crm/v3/objects/contacts":
            if props.get("email") == "taken@example.com":
                return error(409, "Contact already exists. Existing ID: 101", "CONFLICT", "c0ffee-409")
            if props.get("email") == "busy@example.com":
                return error(429, "You have reached your secondly limit.", "RATE_LIMITS", "c0ffee-429")
            return self._send(201, {"id": "501", "properties": dict(props, hs_object_id="501", createdate=now),
                                    "createdAt": now, "updatedAt": now, "archived": False})
        if method == "PATCH" and path.startswith("/hubspot/crm/v3/objects/deals/"):
            deal = path.rsplit("/", 1)[1]
            if deal == "404":
                return error(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND", "c0ffee-404")
            return self._send(200, {"id": deal, "properties": dict(props, hs_object_id=deal), "updatedAt": now, "archived": False})
        if method == "POST" and path == "/hubspot/crm/v3/objects/notes":
            return self._send(201, {"id": "701", "properties": dict(props, hs_object_id="701"), "createdAt": now,
                                    "archived": False})
        if method == "POST" and path == "/hubspot/crm/v3/objects/contacts/search":
            if req.get("after") == "2":
                return self._send(200, {"total": 3, "results": [{"id": "3", "properties": {"email": "c@example.com"}}]})
            return self._send(200, {"total": 3, "results": [{"id": "1", "properties": {"email": "a@example.com"}},
                                                           {"id": "2", "properties": {"email": "b@example.com"}}],
                                    "paging": {"next": {"after": "2", "link": "?after=2"}}})
        return error(404, "no such HubSpot route", "OBJECT_NOT_FOUND", "c0ffee-route")

    def do_PATCH(self):
        self.do_POST("PATCH")

    def do_POST(self, method="POST"):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        with LOCK:
            LOG.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": req,
                        "method": method, "at": time.time()})
        if self.path.startswith("/hubspot/"):
            return self._hubspot(method, self.path, req)
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": "no such route"}})
        if self.headers.get("Authorization") != "Bearer " + KEY:
            return self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
        model = (req or {}).get("model")
        msgs = (req or {}).get("messages") or []
        self.stream_req = req if (req or {}).get("stream") else None
        if model == "down":
            return self._send(500, {"error": {"message": "the model is overloaded"}})
        if model == "busy":
            return self._send(429, {"error": {"message": "Rate limit reached"}}, extra=[("Retry-After", "1")])
        if model == "busy-long":
            return self._send(429, {"error": {"message": "Rate limit reached"}}, extra=[("Retry-After", "3600")])
        if model == "busy-date":
            return self._send(429, {"error": {"message": "Rate limit reached"}},
                              extra=[("Retry-After", email.utils.formatdate(time.time() + 2, usegmt=True))])
        if model == "unknown-model":
            return self._send(404, {"error": {"message": "The model `unknown-model` does not exist"}})
        if model == "garbage":
            return self._send(200, {"id": "x", "object": "chat.completion", "choices": []})
        if model == "html":
            return self._send(200, "<html>maintenance</html>", ctype="text/html")
        if model == "slow":
            time.sleep(3)
        if model and model.startswith("sleep-"):
            time.sleep(float(model[6:]))
        if model in ("judge", "judge-bad"):
            said_yes = "yes" in (msgs[-1]["content"] if msgs else "")
            content = json.dumps({"decision": said_yes, "reasoning": "the data says " + ("yes" if said_yes else "no")}
                                 if model == "judge" else {"verdict": "maybe"})
            return self._send(200, {
                "id": "chatcmpl-j", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}})
        if model == "metered":
            time.sleep(0.3)
            completion = int((req or {}).get("max_tokens") or 10)
            return self._send(200, {
                "id": "chatcmpl-m", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "length"}],
                "usage": {"prompt_tokens": 30, "completion_tokens": completion, "total_tokens": 30 + completion}})
        if model == "agent":
            return self._agent(req, msgs)
        if model == "generator":
            return self._generator(msgs)
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


    def _agent(self, req, msgs):
        script = {}
        for m in msgs:
            if m.get("role") == "user":
                try:
                    script = json.loads(m.get("content") or "{}")
                except ValueError:
                    script = {}
                break
        calls = script.get("calls") or []
        done = sum(1 for m in msgs if m.get("role") == "assistant" and m.get("tool_calls"))
        forced = req.get("tool_choice") == "none" and not script.get("stubborn")
        if script.get("failOnce") == done + 1:
            with LOCK:
                first = (script.get("key"), done + 1) not in FAILED
                FAILED.add((script.get("key"), done + 1))
            if first:
                return self._send(500, {"error": {"message": "the model is overloaded"}})
        usage = {"prompt_tokens": 10 * len(msgs), "completion_tokens": 5, "total_tokens": 10 * len(msgs) + 5}
        if done < len(calls) and req.get("tools") and not forced:
            tcs = [{"id": "call_%d_%d" % (done + 1, i), "type": "function",
                    "function": {"name": c["name"],
                                 "arguments": c["arguments"] if isinstance(c.get("arguments"), str)
                                 else json.dumps(c.get("arguments", {}))}}
                   for i, c in enumerate(calls[done])]
            message = {"role": "assistant", "content": None, "tool_calls": tcs}
            finish = "tool_calls"
        else:
            results = [m.get("content") or "" for m in msgs if m.get("role") == "tool"]
            message = {"role": "assistant", "content": "final: " + " | ".join(results)}
            finish = "stop"
        return self._send(200, {
            "id": "chatcmpl-a", "object": "chat.completion", "created": int(time.time()), "model": "agent",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})


    def _generator(self, msgs):
        system = next((m.get("content") or "" for m in msgs if m.get("role") == "system"), "")
        users = [m.get("content") or "" for m in msgs if m.get("role") == "user"]
        repair = bool(users) and users[-1].startswith("That pipeline is not valid")
        wf = {"nodes": [{"id": "start", "type": "trigger", "data": {}},
                        {"id": "greet", "type": "set-variable",
                         "data": {"name": "greeting", "value": "hello {{trigger.payload.name}}"}},
                        {"id": "done", "type": "output", "data": {"value": "{{variables.greeting}}"}}],
              "edges": [{"id": "e1", "source": "start", "target": "greet"},
                        {"id": "e2", "source": "greet", "target": "done"}],
              "explanation": "Greets the name it is given."}
        if "- human-approval (" not in system or "- llm-agent (" not in system:
            wf = {"nodes": "the node types were not in the system message"}
        elif "hopeless" in users[0] or ("broken" in users[0] and not repair):
            wf["edges"].append({"id": "e3", "source": "done", "target": "ghost"})
        return self._send(200, {
            "id": "chatcmpl-g", "object": "chat.completion", "created": int(time.time()), "model": "generator",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(wf)}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}})


class Server(ThreadingHTTPServer):
    request_queue_size = 1024  # hundreds of clients connect at once (bench/llm_concurrent.sh)
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
