"""Polling the reporting mailbox over IMAP: each reported mail counts for its simulation.

Messages are read without being marked (``BODY.PEEK``), handled, then flagged ``\\Seen`` so
the next poll skips them; polling twice changes nothing (the first report of a recipient
wins). The time of the report is the server's arrival time (``INTERNALDATE``), so a slow poll
does not lengthen anyone's time-to-report. Hostile or huge messages are skipped, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from carbet.audit import services as audit
from carbet.awareness.choices import ReportSource
from carbet.awareness.models import ReportingMailbox
from carbet.awareness.tracking import record_report
from carbet.core import imap
from carbet.core.tenancy import SYSTEM
from carbet.engines.awareness.reports import MAX_REPORT_BYTES, tokens_in_report


@dataclass
class PollResult:
    messages: int = 0
    reports: int = 0
    unknown: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def poll(mailbox: ReportingMailbox, now: datetime | None = None) -> PollResult:
    result = PollResult()
    now = now or timezone.now()

    def handle(message: imap.Fetched) -> None:
        result.messages += 1
        _handle(message, result, now)

    result.errors = imap.poll_unseen(imap.Mailbox.of(mailbox), handle, max_bytes=MAX_REPORT_BYTES)
    _store(mailbox, now, result)
    return result


def _handle(message: imap.Fetched, result: PollResult, now: datetime) -> None:
    if message.too_big:
        result.skipped += 1
        return
    arrived = message.arrived or now
    counted = 0
    for token in tokens_in_report(message.raw or b""):
        if record_report(token, ReportSource.MAILBOX, at=min(arrived, now)) is not None:
            counted += 1
    if counted:
        result.reports += counted
    else:
        result.unknown += 1


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
