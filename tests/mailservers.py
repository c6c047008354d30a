"""Real mail servers for the tests that send or poll mail, started once per test session by the
fixtures of ``tests/conftest.py``:

- ``smtp_server``: aiosmtpd on loopback, keeping every message with its arrival time (the
  ``smtp`` fixture empties it before each test);
- ``imap_server``: Debian's dovecot on loopback with a throw-away configuration (plain IMAP,
  one maildir per user). Each area polls its own user's mailbox, so the areas sharing the
  server never see each other's mail. Mail is delivered with IMAP APPEND, as a client files it.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
# user → password; one mailbox per polling area (awareness reports, exercise replies).
IMAP_USERS = {"signalement": "imap-pass-42", "reponses": "imap-exercise-42"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    at: float
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.envelope_to]

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(r.message["Subject"]) for r in self.messages]


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """aiosmtpd on 127.0.0.1 (an ephemeral port): every message is parsed and kept."""
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            with sink.lock:
                sink.messages.append(Received(time.time(), list(envelope.rcpt_tos), parsed))
            return "250 OK"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        uid = gid = 65534  # dovecot never handles mail as root: mail is handled as "nobody"
        os.chown(root / "mail", uid, gid)
        users = ""
    else:
        uid, gid = os.getuid(), os.getgid()
        name = pwd.getpwuid(uid).pw_name
        users = f"default_internal_user = {name}\ndefault_login_user = {name}\n"
    return (
        "protocols = imap\nlisten = 127.0.0.1\n"
        f"base_dir = {root}/run\nstate_dir = {root}/state\nlog_path = {root}/dovecot.log\n"
        "ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n"
        f"mail_location = maildir:{root}/mail/%u\nfirst_valid_uid = 1\n{users}"
        "passdb {\n  driver = passwd-file\n"
        f"  args = scheme=PLAIN username_format=%u {root}/passwd\n}}\n"
        f"userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={root}/mail/%u\n}}\n"
        "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n"
        f"    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
    )


@contextmanager
def dovecot() -> Iterator[dict]:
    """dovecot on 127.0.0.1 (an ephemeral port) with the ``IMAP_USERS``; skipped when dovecot
    is missing, except in CI where a skipped real-server test is a failure."""
    if not os.path.exists(DOVECOT):
        if _in_ci():
            pytest.fail("dovecot is missing: the IMAP tests cannot be skipped in CI")
        pytest.skip("dovecot is not installed")
    root = Path(tempfile.mkdtemp(prefix="carbet-dovecot-"))
    os.chmod(root, 0o755)
    (root / "mail").mkdir()
    port = _free_port()
    (root / "passwd").write_text(
        "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in IMAP_USERS.items())
    )
    (root / "dovecot.conf").write_text(_config(root, port))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.1)
    try:
        yield {"host": "127.0.0.1", "port": port, "root": root}
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def imap_append(server: dict, user: str, raw: bytes) -> None:
    """Deliver ``raw`` into ``user``'s INBOX."""
    client = imaplib.IMAP4(server["host"], server["port"], timeout=10)
    client.login(user, IMAP_USERS[user])
    client.append("INBOX", None, None, raw)
    client.logout()
