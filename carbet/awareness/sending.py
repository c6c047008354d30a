"""Sending a campaign: one SMTP connection, messages due now, never a message sent twice.

Idempotence is built on the recipient's ``state``: a batch is marked SENDING (with the fresh
tokens' digests) and committed *before* any message leaves; a message is marked SENT or FAILED
after. A rerun of the job (worker killed) finds SENDING rows whose fate is unknown and marks
them UNCERTAIN — never sending them again: a person may miss one simulation, but nobody ever
gets the same lure twice.

Before every batch the mandate is checked again (lapsed: the campaign stops), and each due
recipient's domain is checked against the structure's proven, unclaimed, mandated mail domains
*at that moment* (``carbet.awareness.coverage``), in the same transaction that claims the
batch: a recipient who fails is HELD with the reason — never sent, never silently dropped.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.awareness import coverage
from carbet.awareness.choices import CampaignStatus, Security, SendState
from carbet.awareness.models import (
    AwarenessSettings,
    Campaign,
    EmailTemplate,
    Recipient,
    SmtpProfile,
)
from carbet.awareness.service import PHISHING_MANDATE
from carbet.awareness.services_campaigns import throttle_of
from carbet.core import mandates
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines.awareness import tokens

log = logging.getLogger("carbet.awareness")
BATCH = 200
SMTP_TIMEOUT = 30
PLACEHOLDER_RE = re.compile(r"\{\{\s*(nom|lien|prenom)\s*\}\}", re.IGNORECASE)
MAX_IDLE_SLEEP = 5.0


def public_base_url() -> str:
    row = AwarenessSettings.objects.first()
    url = (row.public_url if row else "") or os.environ.get("CARBET_PUBLIC_URL", "")
    return (url or "http://127.0.0.1:8000").rstrip("/")


def links(token: str, base: str | None = None) -> dict[str, str]:
    base = base or public_base_url()
    return {
        "click": f"{base}/s/{token}/c",
        "open": f"{base}/s/{token}/o.gif",
        "report": f"{base}/s/{token}/r",
    }


def render_message(
    template: EmailTemplate,
    profile: SmtpProfile,
    to_address: str,
    full_name: str,
    token: str,
    base: str,
    campaign_id: int | None,
    cte: str | None = None,
) -> EmailMessage:
    urls = links(token, base)
    first = full_name.split()[0] if full_name.strip() else ""

    def text_value(match: re.Match[str]) -> str:
        key = match.group(1).lower()
        return urls["click"] if key == "lien" else (full_name if key == "nom" else first)

    def html_value(match: re.Match[str]) -> str:
        key = match.group(1).lower()
        if key == "lien":
            return f'<a href="{escape(urls["click"])}">{escape(urls["click"])}</a>'
        return escape(full_name if key == "nom" else first)

    message = EmailMessage()
    message["From"] = formataddr((template.sender_name, profile.from_address))
    message["To"] = to_address
    message["Subject"] = template.subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=profile.from_address.rsplit("@", 1)[-1])
    if campaign_id is not None:
        # Lets the structure's mail gateway allow-list simulations; reporting tools read it.
        message["X-Carbet-Campaign"] = str(campaign_id)
        message["X-Carbet-Report"] = urls["report"]
    message.set_content(PLACEHOLDER_RE.sub(text_value, template.text_body), cte=cte)
    if template.html_body:
        body = PLACEHOLDER_RE.sub(html_value, template.html_body)
    else:
        paragraphs = escape(template.text_body).split("\n\n")
        body = "".join(f"<p>{p}</p>" for p in paragraphs).replace("\n", "<br>")
        body = re.sub(r"\{\{\s*(nom|lien|prenom)\s*\}\}", html_value, body, flags=re.IGNORECASE)
    pixel = f'<img src="{escape(urls["open"])}" width="1" height="1" alt="">'
    message.add_alternative(f"<html><body>{body}{pixel}</body></html>", subtype="html", cte=cte)
    return message


class MessageFactory:
    """Messages of one campaign as bytes, rendered once and filled per recipient.

    The template is rendered a single time with sentinels (8-bit bodies, so no line wrapping or
    transfer encoding can split them), then each message is the skeleton with the recipient's
    address, name and token put in, plus its own Date and Message-ID: the same bytes
    ``render_message`` would give, at a fraction of the cost. Used when the server accepts
    8BITMIME and the address is ASCII; otherwise ``render_message`` is used.
    """

    TOKEN = "CarbetSentinelToken0123456789abc"  # noqa: S105 — 32 characters, like a token
    NAME = "CarbetSentinelFullName"
    FIRST = "CarbetSentinelFirst"
    TO = "carbet-sentinel-recipient@sentinel.invalid"

    def __init__(
        self, template: EmailTemplate, profile: SmtpProfile, base: str, campaign_id: int
    ) -> None:
        from email import policy

        message = render_message(
            template,
            profile,
            self.TO,
            f"{self.FIRST} {self.NAME}",
            self.TOKEN,
            base,
            campaign_id,
            cte="8bit",
        )
        del message["Date"]
        del message["Message-ID"]
        raw = message.as_bytes(policy=policy.SMTP)
        html_at = raw.find(b"Content-Type: text/html")
        self.head, self.html = raw[:html_at], raw[html_at:]
        self.domain = profile.from_address.rsplit("@", 1)[-1]

    def build(self, to_address: str, full_name: str, token: str) -> bytes:
        first = full_name.split()[0] if full_name.strip() else ""
        rest = full_name[len(first) :] if first else full_name
        parts = []
        for chunk, quote in ((self.head, False), (self.html, True)):
            name = escape(rest) if quote else rest
            given = escape(first) if quote else first
            chunk = chunk.replace(
                f"{self.FIRST} {self.NAME}".encode(),
                ((escape(full_name) if quote else full_name).encode()),
            )
            chunk = chunk.replace(self.NAME.encode(), name.encode())
            chunk = chunk.replace(self.FIRST.encode(), given.encode())
            parts.append(chunk)
        body = b"".join(parts).replace(self.TOKEN.encode(), token.encode())
        body = body.replace(self.TO.encode(), to_address.encode())
        stamp = (
            f"Date: {format_datetime(timezone.now())}\r\n"
            f"Message-ID: {make_msgid(domain=self.domain)}\r\n"
        ).encode()
        return stamp + body


def connect(profile: SmtpProfile) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if profile.security == Security.SSL:
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            profile.host, profile.port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        server = smtplib.SMTP(profile.host, profile.port, timeout=SMTP_TIMEOUT)
        if profile.security == Security.STARTTLS:
            server.starttls(context=context)
    server.ehlo()  # the extensions (8BITMIME) are known before the first message
    if profile.username:
        server.login(profile.username, profile.password or "")
    return server


def send_test(
    actor: Actor,
    profile: SmtpProfile,
    to_address: str,
    template: EmailTemplate,
    *,
    ip: str | None = None,
) -> None:
    """Send one sample of ``template`` to ``to_address`` (a link that leads nowhere)."""
    message = render_message(
        template, profile, to_address, _("Prénom Nom"), "0" * 32, public_base_url(), None
    )
    message.replace_header("Subject", f"[TEST] {template.subject}")
    with connect(profile) as server:
        server.send_message(message)
    audit.record(
        actor,
        "awareness.smtp.test",
        profile,
        ip=ip,
        changes={"to_domain": to_address.rsplit("@", 1)[-1]},
    )


def _claim_batch(
    campaign: Campaign, now: datetime, limit: int
) -> tuple[list[tuple[Recipient, str]], int]:
    """Mark up to ``limit`` due recipients SENDING with fresh tokens, committed before sending.

    The due recipients whose domain is not covered at this moment are HELD instead (same
    transaction, one audit entry). Returns the claimed recipients with their tokens, and how
    many were held.
    """
    with transaction.atomic():
        due = list(
            Recipient.objects.select_for_update()
            .filter(campaign=campaign, state=SendState.PENDING, scheduled_at__lte=now)
            .select_related("target")
            .order_by("scheduled_at", "pk")[:limit]
        )
        due, held = coverage.hold_uncovered(campaign, due, timezone.localdate(now))
        claimed = []
        for recipient in due:
            token = tokens.new_token()
            recipient.state = SendState.SENDING
            recipient.token_digest = tokens.digest(token)
            claimed.append((recipient, token))
        _execute_many(
            "state = %s, token_digest = %s",
            [(SendState.SENDING, r.token_digest, r.pk) for r in due],
        )
    return claimed, len(held)


def _execute_many(assignments: str, rows: list[tuple]) -> None:
    """One ``UPDATE ... WHERE id = %s`` per row through ``executemany``: Django's
    ``bulk_update`` builds CASE expressions that cost more than sending the messages."""
    if not rows:
        return
    table = connection.ops.quote_name(Recipient._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)  # noqa: S608


def _finish(campaign: Campaign) -> bool:
    """Mark the campaign done, unless recipients were released meanwhile (False: go on).

    The campaign row is locked as ``coverage.release_held`` locks it: a release either happens
    before (and its recipients are found pending here) or after (and reopens the campaign).
    """
    from carbet.awareness import results

    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if Recipient.objects.filter(campaign=campaign, state=SendState.PENDING).exists():
            return False
        campaign.status = CampaignStatus.DONE
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
    results.refresh_summary(campaign)
    audit.record(SYSTEM, "awareness.campaign.done", campaign, structure=campaign.structure)
    return True


def run(
    campaign_id: int,
    progress: Callable[[int, str], None] | None = None,
    *,
    clock: Callable[[], datetime] = timezone.now,
    sleep: Callable[[float], None] = time.sleep,
    idle_limit: float | None = None,
) -> dict[str, int]:
    """Send what is due until nothing is left (the job's body; safe to run again)."""
    campaign = Campaign.objects.select_related("template", "smtp_profile", "structure").get(
        pk=campaign_id
    )
    interrupted = Recipient.objects.filter(campaign=campaign, state=SendState.SENDING).update(
        state=SendState.UNCERTAIN, error="interrompu : jamais renvoyé"
    )
    counts = {"sent": 0, "failed": 0, "uncertain": interrupted, "skipped": 0, "held": 0}
    base = public_base_url()
    per_minute = throttle_of(campaign)
    gap = 60.0 / per_minute if per_minute > 0 else 0.0
    total = Recipient.objects.filter(campaign=campaign).count() or 1
    factory = MessageFactory(campaign.template, campaign.smtp_profile, base, campaign.pk)
    outbox = _Outbox(campaign, factory, base, gap, clock, sleep)
    idle = 0.0
    try:
        while True:
            campaign.refresh_from_db(fields=["status"])
            if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.DONE):
                break
            now = clock()
            day = timezone.localdate(now)
            if not mandates.check(campaign.structure, PHISHING_MANDATE, at=day):
                counts["skipped"] += Recipient.objects.filter(
                    campaign=campaign, state=SendState.PENDING
                ).update(state=SendState.SKIPPED, error="mandat plus en vigueur")
                campaign.status = CampaignStatus.CANCELLED
                campaign.finished_at = now
                campaign.save(update_fields=["status", "finished_at"])
                audit.record(
                    SYSTEM,
                    "awareness.campaign.stopped",
                    campaign,
                    structure=campaign.structure,
                    changes={"reason": "mandate"},
                )
                break
            batch, held = _claim_batch(campaign, now, BATCH if not gap else max(1, int(5 / gap)))
            counts["held"] += held
            if not batch and held:
                continue  # the whole batch was held: look at the next due recipients at once
            if not batch:
                following = (
                    Recipient.objects.filter(campaign=campaign, state=SendState.PENDING)
                    .order_by("scheduled_at")
                    .values_list("scheduled_at", flat=True)
                    .first()
                )
                if following is None:
                    if _finish(campaign):
                        break
                    continue
                if outbox.server is not None:  # do not hold a connection open while waiting
                    outbox.server.quit()
                    outbox.server = None
                wait = min(MAX_IDLE_SLEEP, max(0.05, (following - now).total_seconds()))
                if idle_limit is not None and idle + wait > idle_limit:
                    break
                idle += wait
                sleep(wait)
                continue
            if campaign.status == CampaignStatus.SCHEDULED:
                campaign.status = CampaignStatus.SENDING
                campaign.save(update_fields=["status"])
            sent_ids, sent_times, failed = outbox.send(batch)
            counts["failed"] += failed
            _mark_sent(sent_ids, sent_times)
            counts["sent"] += len(sent_ids)
            if progress is not None:
                done = counts["sent"] + counts["failed"] + counts["uncertain"]
                progress(int(100 * done / total), _("%(n)s messages envoyés") % {"n": done})
    finally:
        _drop(outbox.server)
    return counts


@dataclass
class _Outbox:
    """A run's SMTP side: the connection (opened when first needed, None while closed) and the
    pace set by the campaign's throttle (``gap`` seconds between messages)."""

    campaign: Campaign
    factory: MessageFactory
    base: str
    gap: float
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    server: smtplib.SMTP | None = None
    last_sent: float = 0.0

    def send(
        self, batch: list[tuple[Recipient, str]]
    ) -> tuple[list[int], dict[int, datetime], int]:
        """Send a claimed batch: the ids sent, when each left, and how many failed (marked)."""
        sent_ids: list[int] = []
        sent_times: dict[int, datetime] = {}
        failed = 0
        for recipient, token in batch:
            if self.gap:
                pause = self.last_sent + self.gap - time.monotonic()
                if pause > 0:
                    self.sleep(pause)
            name = recipient.target.full_name if recipient.target else ""
            try:
                if self.server is None:
                    self.server = connect(self.campaign.smtp_profile)
                _deliver(
                    self.server,
                    self.factory,
                    self.campaign,
                    recipient.email,
                    name,
                    token,
                    self.base,
                )
            except (smtplib.SMTPException, OSError) as exc:
                self.server = _drop(self.server)
                Recipient.objects.filter(pk=recipient.pk).update(
                    state=SendState.FAILED, error=f"{type(exc).__name__}: {exc}"[:300]
                )
                failed += 1
                continue
            self.last_sent = time.monotonic()
            sent_ids.append(recipient.pk)
            sent_times[recipient.pk] = self.clock()
        return sent_ids, sent_times, failed


def _deliver(
    server: smtplib.SMTP,
    factory: MessageFactory,
    campaign: Campaign,
    to_address: str,
    name: str,
    token: str,
    base: str,
) -> None:
    if to_address.isascii() and server.has_extn("8bitmime"):
        server.sendmail(
            campaign.smtp_profile.from_address,
            [to_address],
            factory.build(to_address, name, token),
            mail_options=["BODY=8BITMIME"],
        )
        return
    message = render_message(
        campaign.template, campaign.smtp_profile, to_address, name, token, base, campaign.pk
    )
    server.send_message(message)


def _mark_sent(ids: list[int], times: dict[int, datetime]) -> None:
    if not ids:
        return
    with transaction.atomic():
        _execute_many(
            "state = %s, sent_at = %s",
            [
                (SendState.SENT, connection.ops.adapt_datetimefield_value(times[pk]), pk)
                for pk in ids
            ],
        )


def _drop(server: smtplib.SMTP | None) -> None:
    if server is None:
        return None
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()
    return None
