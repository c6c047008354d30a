"""Reading a mailbox over IMAP, for every service that polls one.

One way to connect (TLS from the start, STARTTLS or none, as the mailbox's settings say, with a
timeout), to list the unseen messages, to fetch one within a size limit and to flag it seen.
Messages are read with ``BODY.PEEK`` and flagged ``\\Seen`` only once the caller has handled
them, so a poll that dies half-way reads the rest again next time (callers make handling a
message twice harmless). A network, TLS or protocol failure becomes one short line of text for
the mailbox's "last error", never an exception out of a poll.

The callers own the meaning of a message; this module knows only IMAP.
"""

from __future__ import annotations

import imaplib
import re
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

IMAP_TIMEOUT = 30
MAX_MESSAGES_PER_POLL = 500
# What a poll can meet on the wire; anything else (a database error...) is the caller's bug.
ERRORS = (imaplib.IMAP4.error, OSError, ssl.SSLError)
SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
MESSAGE_ID_RE = re.compile(r"<[\w.+-]+@[\w.-]+>")


@dataclass(frozen=True)
class Mailbox:
    """Where to read: the settings of a mailbox (the password already decrypted)."""

    host: str
    port: int
    security: str  # "ssl" (TLS from the start), "starttls" or "none"
    username: str
    password: str
    folder: str = "INBOX"

    @classmethod
    def of(cls, row: object, prefix: str = "") -> Mailbox:
        """The mailbox a service's row describes in its fields ``<prefix>host``,
        ``<prefix>port``, ``<prefix>security``, ``<prefix>username``, ``<prefix>password``
        (decrypted by its field) and ``<prefix>folder``."""
        values = {name: getattr(row, prefix + name) for name in _FIELDS}
        values["password"] = values["password"] or ""
        values["folder"] = values["folder"] or "INBOX"
        return cls(**values)


_FIELDS = ("host", "port", "security", "username", "password", "folder")


@dataclass(frozen=True)
class Fetched:
    """One message: its bytes (None when too big or unreadable) and the server's arrival time."""

    raw: bytes | None
    arrived: datetime | None
    too_big: bool = False


def error_text(exc: BaseException) -> str:
    """A failure as one line for the mailbox's "last error" (kind and reason, bounded)."""
    return f"{type(exc).__name__}: {exc}"[:300]


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if mailbox.security == "ssl":
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=IMAP_TIMEOUT
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=IMAP_TIMEOUT)
        if mailbox.security == "starttls":
            client.starttls(ssl_context=context)
    client.login(mailbox.username, mailbox.password or "")
    return client


@contextmanager
def opened(mailbox: Mailbox, *, readonly: bool = False) -> Iterator[imaplib.IMAP4]:
    """A logged-in client with the mailbox's folder selected; logged out on leaving."""
    client = connect(mailbox)
    try:
        folder = mailbox.folder or "INBOX"
        status, _data = client.select(folder, readonly=readonly)
        if status != "OK":
            raise imaplib.IMAP4.error(f"dossier {folder!r} introuvable")
        yield client
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def unseen(client: imaplib.IMAP4, limit: int = MAX_MESSAGES_PER_POLL) -> list[bytes]:
    """The UIDs of the unseen messages, at most ``limit`` (the rest waits for the next poll)."""
    status, data = client.uid("SEARCH", None, "UNSEEN")
    return (data[0] or b"").split()[:limit] if status == "OK" else []


def _arrival(meta: bytes) -> datetime | None:
    parsed = imaplib.Internaldate2tuple(meta)
    if parsed is None:
        return None
    return datetime.fromtimestamp(time.mktime(parsed), tz=UTC)


def fetch(client: imaplib.IMAP4, uid: bytes, max_bytes: int) -> Fetched:
    """The message ``uid`` without flagging it; one larger than ``max_bytes`` (or of unknown
    size) is not downloaded at all."""
    status, meta = client.uid("FETCH", uid, "(RFC822.SIZE INTERNALDATE)")
    header = meta[0] if status == "OK" and meta and isinstance(meta[0], bytes) else b""
    size = SIZE_RE.search(header)
    arrived = _arrival(header)
    if size is None or int(size.group(1)) > max_bytes:
        return Fetched(None, arrived, too_big=True)
    _status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            return Fetched(bytes(item[1]), arrived)
    return Fetched(None, arrived)


def mark_seen(client: imaplib.IMAP4, uid: bytes) -> None:
    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def poll_unseen(
    mailbox: Mailbox,
    handle: Callable[[Fetched], None],
    *,
    max_bytes: int,
    limit: int = MAX_MESSAGES_PER_POLL,
) -> list[str]:
    """Hand each unseen message to ``handle``, then flag it seen; the failures met, as text
    (empty when the poll went through)."""
    try:
        with opened(mailbox) as client:
            for uid in unseen(client, limit):
                handle(fetch(client, uid, max_bytes))
                mark_seen(client, uid)
    except ERRORS as exc:
        return [error_text(exc)]
    return []


def holds_message_id(mailbox: Mailbox, message_id: str) -> bool | None:
    """Whether the folder holds a message with this Message-ID; None when it cannot be told
    (a malformed id, or the mailbox unreachable): the caller must not assume either way."""
    if not MESSAGE_ID_RE.fullmatch(message_id):
        return None
    try:
        with opened(mailbox, readonly=True) as client:
            status, data = client.uid("SEARCH", None, "HEADER", "Message-ID", f'"{message_id}"')
            if status != "OK":
                return None
            return bool((data[0] or b"").split())
    except ERRORS:
        return None
