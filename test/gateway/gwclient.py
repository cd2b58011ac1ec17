"""Clients for the gateway tests, standard library only: HTTP (urllib),
WebSocket (a socket, the RFC 6455 handshake and frames) and SSE."""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time
import urllib.error
import urllib.request


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f'<{self.status} {self.body[:300]!r}>'


def http(base, method, path, token=None, body=None, raw=None, headers=None, timeout=30):
    h = dict(headers or {})
    if token:
        h['Authorization'] = 'Bearer ' + token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        h.setdefault('Content-Type', 'application/json')
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, dict(r.headers), r.read().decode())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read().decode())


def recv_all(sock):
    """Everything the peer sends until it closes; the socket is closed then."""
    data = b''
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    return data


def http_at_once(host, port, reqs, method='POST', timeout=30):
    """Send requests [(path, headers, body bytes)] so that they arrive
    together: every connection is opened first, then all requests are
    written in one loop; answers [Response] in order."""
    socks = [socket.create_connection((host, port), timeout=timeout) for _ in reqs]
    msgs = []
    for path, headers, body in reqs:
        h = dict(headers or {})
        h.setdefault('Content-Type', 'application/json')
        head = ''.join(f'{k}: {v}\r\n' for k, v in h.items())
        msgs.append((f'{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n{head}'
                     f'Content-Length: {len(body)}\r\n\r\n').encode() + body)
    for sk, m in zip(socks, msgs):
        sk.sendall(m)
    out = []
    for sk in socks:
        data = recv_all(sk)
        head, _, body = data.partition(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        hdrs = {l.split(':', 1)[0]: l.split(':', 1)[1].strip() for l in lines[1:] if ':' in l}
        out.append(Response(int(lines[0].split()[1]), hdrs, body.decode()))
    return out


def sign(secret, body, ts=None):
    ts = str(int(time.time()) if ts is None else ts)
    mac = hmac.new(secret.encode(), ts.encode() + b'.' + body, hashlib.sha256).hexdigest()
    return {'X-Flowent-Timestamp': ts, 'X-Flowent-Signature': 'sha256=' + mac}


class WebSocket:
    """A minimal RFC 6455 client: text frames, close, ping/pong."""

    def __init__(self, host, port, path, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f'GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
                           f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n'
                           f'Sec-WebSocket-Version: 13\r\n\r\n').encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buf = head.partition(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        self.status = int(lines[0].split()[1])
        self.headers = {l.split(':', 1)[0].lower(): l.split(':', 1)[1].strip() for l in lines[1:] if ':' in l}
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1((key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
            assert self.headers.get('sec-websocket-accept') == want, self.headers
        else:
            self.body = self.buf
        self.close_code = None

    def send(self, obj, opcode=1):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack('!H', n)
        else:
            head += bytes([0x80 | 127]) + struct.pack('!Q', n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError('closed')
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack('!H', self._read(2))[0]
        elif n == 127:
            n = struct.unpack('!Q', self._read(8))[0]
        return b0 & 0x0f, self._read(n)

    def recv(self, timeout=10):
        """The next text message as JSON; None when the server closed."""
        self.sock.settimeout(timeout)
        while True:
            op, data = self.recv_frame()
            if op == 1:
                return json.loads(data)
            if op == 8:
                self.close_code = struct.unpack('!H', data[:2])[0] if len(data) >= 2 else None
                self.close_reason = data[2:].decode(errors='replace')
                return None
            if op == 9:
                self.send(data, opcode=10)

    def until(self, pred, timeout=15):
        """Messages until pred(message) is true; returns all of them."""
        got, end = [], time.time() + timeout
        while time.time() < end:
            m = self.recv(timeout=max(0.1, end - time.time()))
            if m is None:
                break
            got.append(m)
            if pred(m):
                return got
        raise AssertionError(f'timed out; got {got[-5:]}')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def sse(host, port, path, token, last_event_id=None, timeout=15):
    """Read an SSE stream to its end: [(id, data as JSON)]."""
    s = socket.create_connection((host, port), timeout=timeout)
    extra = f'Last-Event-ID: {last_event_id}\r\n' if last_event_id is not None else ''
    s.sendall((f'GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n'
               f'Accept: text/event-stream\r\nConnection: close\r\n{extra}\r\n').encode())
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        if data.endswith(b'0\r\n\r\n'):
            break
    s.close()
    head, _, body = data.partition(b'\r\n\r\n')
    status = int(head.split()[1])
    # de-chunk
    text, rest = b'', body
    if b'chunked' in head.lower():
        while rest:
            size_line, _, rest = rest.partition(b'\r\n')
            size = int(size_line or b'0', 16)
            if size == 0:
                break
            text += rest[:size]
            rest = rest[size + 2:]
    else:
        text = body
    events = []
    for block in text.decode().split('\n\n'):
        ev = {}
        for line in block.split('\n'):
            if line.startswith('id: '):
                ev['id'] = int(line[4:])
            elif line.startswith('data: '):
                ev['data'] = json.loads(line[6:])
            elif line.startswith('event: '):
                ev['event'] = line[7:]
        if 'data' in ev:
            events.append(ev)
    return status, events
