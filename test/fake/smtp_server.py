#!/usr/bin/python3
"""A real SMTP server for the email node's tests: aiosmtpd (Debian's python3-aiosmtpd, hence
/usr/bin/python3).

    smtp_server.py --port-file FILE --out FILE --user USER --password PASSWORD

Listens on 127.0.0.1 on a free port, writes the port to FILE, serves until killed. AUTH (PLAIN or
LOGIN, without TLS) with USER and PASSWORD is required before MAIL FROM. Each message received is
one JSON line in --out: {mail_from, rcpt_tos, data}. A recipient whose local part is "reject" is
refused with 550, "later" with 451.
"""
import argparse
import json
import signal
import socket
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local == "reject":
            return "550 5.1.1 <%s>: no such user here" % address
        if local == "later":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock, open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                                "data": envelope.original_content.decode("utf-8", "replace")}) + "\n")
        return "250 OK: queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    args = ap.parse_args()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode()
              and auth_data.password == args.password.encode())
        return AuthResult(success=ok, handled=False)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(args.out), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    with open(args.port_file, "w") as f:
        f.write(str(port))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
