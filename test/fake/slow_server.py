#!/usr/bin/env python3
"""An HTTP server that answers every request after a delay, many at once.

    slow_server.py --port-file FILE [--delay-ms 1000]

asyncio, one coroutine per connection, so a thousand requests wait together.
Any path answers {"ok": true, "n": <number>} after the delay, except
GET /stats: {answered, inflight, maxInflight, keys: {Idempotency-Key: times seen}}.
"""
import argparse
import asyncio
import json

stats = {"answered": 0, "inflight": 0, "maxInflight": 0, "keys": {}}


async def handle(reader, writer, delay):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            path = parts[1] if len(parts) > 1 else "/"
            length = 0
            key = None
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "idempotency-key":
                    key = value.strip()
            if length:
                await reader.readexactly(length)
            if path.startswith("/stats"):
                body = json.dumps(stats).encode()
            else:
                if key:
                    stats["keys"][key] = stats["keys"].get(key, 0) + 1
                stats["inflight"] += 1
                stats["maxInflight"] = max(stats["maxInflight"], stats["inflight"])
                try:
                    await asyncio.sleep(delay / 1000.0)
                finally:
                    stats["inflight"] -= 1
                stats["answered"] += 1
                body = json.dumps({"ok": True, "n": stats["answered"]}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay-ms", type=int, default=1000)
    args = ap.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.delay_ms),
                                        "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file, "w") as f:
        f.write(str(port))
    async with server:
        await server.serve_forever()


asyncio.run(main())
