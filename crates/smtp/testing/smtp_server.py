"""A real SMTP server for onboard's tests (aiosmtpd), on loopback.

Every message it accepts is written to --dir as <n>.eml, with a line of
JSON in --dir/log.jsonl (sender, recipients, the client's AUTH identity,
whether the session was encrypted). Recipients steer its answers:
  tempfail<N>-...@...  answered 451 for the first N deliveries, then taken;
  reject-...@...       answered 550 always.
It prints "READY <port>" once it listens, and stops on SIGTERM.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.attempts = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject-"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail"):
            wanted = int(local[len("tempfail"):].split("-", 1)[0] or "1")
            with self.lock:
                seen = self.attempts.get(address, 0)
                self.attempts[address] = seen + 1
            if seen < wanted:
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        path = os.path.join(self.directory, f"{n:06d}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(path + ".tmp", path)
        record = {
            "file": os.path.basename(path),
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "auth": session.auth_data.login.decode() if session.authenticated and session.auth_data else None,
            "tls": session.ssl is not None,
        }
        with self.lock, open(os.path.join(self.directory, "log.jsonl"), "a") as log:
            log.write(json.dumps(record) + "\n")
        return f"250 2.0.0 Ok: queued as Q{n:06d}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth", help="user:password that AUTH must present")
    a = p.parse_args()

    kwargs = {}
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=bool(a.tls_cert))

    controller = Controller(Recorder(a.dir), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print(f"READY {a.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
