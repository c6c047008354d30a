"""Polling the reporting mailbox over IMAP: each reported mail counts for its simulation.

Messages are read without being marked (``BODY.PEEK``), handled, then flagged ``\\Seen`` so
the next poll skips them; polling twice changes nothing (the first report of a recipient
wins). The time of the report is the server's arrival time (``INTERNALDATE``), so a slow poll
does not lengthen anyone's time-to-report. Hostile or huge messages are skipped, not fatal.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from carbet.audit import services as audit
from carbet.awareness.choices import ReportSource, Security
from carbet.awareness.models import ReportingMailbox
from carbet.awareness.tracking import record_report
from carbet.core.tenancy import SYSTEM
from carbet.engines.awareness.reports import MAX_REPORT_BYTES, tokens_in_report

IMAP_TIMEOUT = 30
MAX_MESSAGES_PER_POLL = 500
SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class PollResult:
    messages: int = 0
    reports: int = 0
    unknown: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def connect(mailbox: ReportingMailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if mailbox.security == Security.SSL:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=context, timeout=IMAP_TIMEOUT
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=IMAP_TIMEOUT)
        if mailbox.security == Security.STARTTLS:
            client.starttls(ssl_context=context)
    client.login(mailbox.username, mailbox.password or "")
    return client


def _arrival(meta: bytes) -> datetime | None:
    parsed = imaplib.Internaldate2tuple(meta)
    if parsed is None:
        return None
    import time

    return datetime.fromtimestamp(time.mktime(parsed), tz=UTC)


def poll(mailbox: ReportingMailbox, now: datetime | None = None) -> PollResult:
    result = PollResult()
    now = now or timezone.now()
    try:
        client = connect(mailbox)
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
        _store(mailbox, now, result)
        return result
    try:
        status, _ = client.select(mailbox.folder or "INBOX")
        if status != "OK":
            raise imaplib.IMAP4.error(f"dossier {mailbox.folder!r} introuvable")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split()[:MAX_MESSAGES_PER_POLL] if status == "OK" else []
        for uid in uids:
            result.messages += 1
            _handle(client, uid, result, now)
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    _store(mailbox, now, result)
    return result


def _handle(client: imaplib.IMAP4, uid: bytes, result: PollResult, now: datetime) -> None:
    status, meta = client.uid("FETCH", uid, "(RFC822.SIZE INTERNALDATE)")
    header = meta[0] if status == "OK" and meta and isinstance(meta[0], bytes) else b""
    size = SIZE_RE.search(header)
    if size is None or int(size.group(1)) > MAX_REPORT_BYTES:
        result.skipped += 1
        client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        return
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = b""
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            raw = item[1]
    arrived = _arrival(header) or now
    found = tokens_in_report(raw)
    counted = 0
    for token in found:
        if record_report(token, ReportSource.MAILBOX, at=min(arrived, now)) is not None:
            counted += 1
    if counted:
        result.reports += counted
    else:
        result.unknown += 1
    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def _store(mailbox: ReportingMailbox, now: datetime, result: PollResult) -> None:
    ReportingMailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now, last_error=(result.errors[0] if result.errors else "")[:300]
    )


def poll_all(now: datetime | None = None) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    for mailbox in ReportingMailbox.objects.all():
        outcome = poll(mailbox, now)
        totals[mailbox.name] = outcome.as_dict()
        if outcome.reports:
            audit.record(
                SYSTEM, "awareness.mailbox.poll", mailbox, changes={"reports": outcome.reports}
            )
    return totals
