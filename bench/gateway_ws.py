"""WebSocket clients for bench/gateway.sh (standard library only).

  gateway_ws.py latency HOST PORT TOKEN WORKFLOW_ID IDLE_S MAX_S
      one socket joins the workflow, prints "joined", then for every
      workflow:complete event records receive time - the event's ts (set
      when the event was built, before the run's commit: an upper bound of
      commit -> frame); stops IDLE_S after the last event (once one came)
      or after MAX_S; prints one "RESULT ..." line.

  gateway_ws.py fanout HOST PORT TOKEN WORKFLOW_ID SOCKETS IDLE_S MAX_S
      SOCKETS sockets in one process (selectors, non-blocking) join the same
      workflow; prints "joined N" once all have their "joined" reply (the
      caller measures the gateway's RSS then and starts the runs); counts
      the events each socket receives until IDLE_S after the last frame;
      prints one "RESULT ..." line with min/max per socket.
"""
import base64
import datetime
import json
import os
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'gateway'))
from gwclient import WebSocket  # noqa: E402


def ts_ms(ts):
    """'2026-12-02T01:45:05.401Z' -> ms since the epoch"""
    d = datetime.datetime.fromisoformat(ts.replace('Z', '')).replace(tzinfo=datetime.timezone.utc)
    return d.timestamp() * 1000.0


def pick(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float('nan')


def latency(host, port, token, wf, idle_s, max_s):
    ws = WebSocket(host, int(port), f'/ws?token={token}')
    assert ws.status == 101, ws.status
    ws.send({'type': 'join:workflow', 'workflowId': wf})
    m = ws.recv(timeout=10)
    assert m and m.get('type') == 'joined', m
    print('joined', flush=True)
    lat, frames, end, last = [], 0, time.time() + float(max_s), None
    while time.time() < end:
        wait = end - time.time()
        if last is not None:
            wait = min(wait, last + float(idle_s) - time.time())
        if wait <= 0:
            break
        try:
            m = ws.recv(timeout=wait)
        except socket.timeout:
            break
        now = time.time() * 1000.0
        if m is None:
            print(f'closed by the server: {ws.close_code} {ws.close_reason}', file=sys.stderr)
            break
        frames += 1
        last = time.time()
        if m.get('event') == 'workflow:complete':
            lat.append(now - ts_ms(m['ts']))
    lat.sort()
    print(f'RESULT runs={len(lat)} frames={frames} p50_ms={pick(lat, 0.5):.2f} p99_ms={pick(lat, 0.99):.2f} '
          f'max_ms={(lat[-1] if lat else float("nan")):.2f}', flush=True)


class Client:
    __slots__ = ('sock', 'buf', 'state', 'events', 'complete', 'closed', 'out', 'lat')

    def __init__(self, sock):
        self.sock, self.buf, self.state = sock, bytearray(), 'handshake'
        self.events = self.complete = 0
        self.closed, self.out, self.lat = None, b'', []


def frame(data, opcode=1):
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('!H', n))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def fanout(host, port, token, wf, n, idle_s, max_s):
    n, port = int(n), int(port)
    sel = selectors.DefaultSelector()
    clients = []
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = (f'GET /ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
               f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n').encode()
    join = frame(json.dumps({'type': 'join:workflow', 'workflowId': wf}).encode())
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(upgrade)
        s.setblocking(False)
        c = Client(s)
        clients.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    joined, errors, started = 0, [], time.time()
    settled = [0]  # joined or refused

    def settle():
        settled[0] += 1
        if settled[0] == n:
            print(f'joined {joined} of {n} in {time.time() - started:.2f}s', flush=True)
    frames = 0
    last = None
    deadline = time.time() + float(max_s)

    def handle(c, op, payload):
        nonlocal joined, frames
        if op == 1:
            if c.state == 'joining':
                m = json.loads(payload)
                if m.get('type') == 'joined':
                    c.state = 'joined'
                    joined += 1
                else:
                    errors.append(m)
                    c.state = 'failed'
                settle()
                return
            frames += 1
            c.events += 1
            if b'"workflow:complete"' in payload:
                c.complete += 1
                m = json.loads(payload)
                c.lat.append(time.time() * 1000.0 - ts_ms(m['ts']))
        elif op == 8:
            c.closed = struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 1005
        elif op == 9:
            c.sock.setblocking(True)
            c.sock.sendall(frame(bytes(payload), opcode=10))
            c.sock.setblocking(False)

    while True:
        now = time.time()
        if now >= deadline or (last is not None and now - last >= float(idle_s)):
            break
        for k, _ in sel.select(timeout=0.2):
            c = k.data
            try:
                data = c.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                data, c.closed = b'', c.closed or f'error {e.errno}'
            if not data:
                c.closed = c.closed or 'eof'
                sel.unregister(c.sock)
                if c.state in ('handshake', 'joining'):
                    errors.append('closed before joining')
                    c.state = 'failed'
                    settle()
                continue
            buf = c.buf
            buf += data
            if c.state == 'handshake':
                i = buf.find(b'\r\n\r\n')
                if i < 0:
                    continue
                status = int(bytes(buf[:i]).split(b' ', 2)[1])
                del buf[:i + 4]
                if status != 101:
                    errors.append(f'upgrade: HTTP {status}')
                    c.state = 'failed'
                    settle()
                    continue
                c.state = 'joining'
                c.sock.setblocking(True)
                c.sock.sendall(join)
                c.sock.setblocking(False)
            off, size = 0, len(buf)
            while size - off >= 2:
                b0, ln, h = buf[off], buf[off + 1] & 0x7f, 2
                if ln == 126:
                    if size - off < 4:
                        break
                    ln, h = int.from_bytes(buf[off + 2:off + 4], 'big'), 4
                elif ln == 127:
                    if size - off < 10:
                        break
                    ln, h = int.from_bytes(buf[off + 2:off + 10], 'big'), 10
                if size - off < h + ln:
                    break
                handle(c, b0 & 0x0f, bytes(buf[off + h:off + h + ln]))
                off += h + ln
            del buf[:off]
            if frames:
                last = time.time()
    ev = [c.events for c in clients]
    co = [c.complete for c in clients]
    lat = sorted(x for c in clients for x in c.lat)
    closed = [c.closed for c in clients if c.closed is not None]
    print(f'RESULT sockets={n} joined={joined} events_min={min(ev)} events_max={max(ev)} '
          f'complete_min={min(co)} complete_max={max(co)} frames={frames} closed_by_server={len(closed)} '
          f'errors={len(errors)} complete_p50_ms={pick(lat, 0.5):.2f} complete_p99_ms={pick(lat, 0.99):.2f} '
          f'client_cpu_s={sum(os.times()[:2]):.1f}',
          flush=True)
    if errors:
        print('errors (first 3):', errors[:3], file=sys.stderr)
    if closed:
        print('closed (first 3):', closed[:3], file=sys.stderr)
    for c in clients:
        c.sock.close()


if __name__ == '__main__':
    {'latency': latency, 'fanout': fanout}[sys.argv[1]](*sys.argv[2:])
