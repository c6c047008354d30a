"""What the public endpoints record: opens, clicks, page loads, beacons, submissions, reports.

Every function takes the raw token from the URL and finds its recipient by digest; an unknown,
malformed or purged token finds nothing (the view answers 404). Nothing a person types on a
landing page is ever read here: a submission is an event — it records a time, nothing else
(the sanitised pages have no named field, and the endpoint never reads a request body).

A click is counted as a person's only on positive evidence — the landing page's script beacon
(which a scanner does not run) or a submission — and never when an immediate robot signal
(too fast, scanner network, scanner user agent) was seen. ``settle_clicks`` later flags the
clicks that never showed that evidence, with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from carbet.awareness.choices import ReportSource
from carbet.awareness.models import AwarenessSettings, ClickEvent, Recipient
from carbet.core.tenancy import SYSTEM
from carbet.engines.awareness import bots, tokens

MAX_UA = 300


def bot_rules() -> bots.BotRules:
    row = AwarenessSettings.objects.first()
    if row is None:
        return bots.BotRules()
    networks = tuple(line.strip() for line in row.scanner_networks.splitlines() if line.strip())
    agents = tuple(line.strip() for line in row.scanner_agents.splitlines() if line.strip())
    return bots.BotRules(
        networks=bots.DEFAULT_SCANNER_NETWORKS + networks,
        agents=bots.DEFAULT_SCANNER_AGENTS + agents,
        fast_seconds=row.fast_click_seconds,
    )


def _scope(token: str):
    if not tokens.looks_like_token(token):
        return None
    return Recipient.objects.visible_to(SYSTEM).filter(token_digest=tokens.digest(token))


def find(token: str) -> Recipient | None:
    scope = _scope(token)
    if scope is None:
        return None
    recipient = scope.select_related("campaign__template__landing_page").first()
    if recipient is None or not tokens.matches(token, recipient.token_digest or ""):
        return None
    return recipient


def record_open(token: str, now: datetime | None = None) -> bool:
    """One UPDATE: the open pixel is the hottest endpoint."""
    scope = _scope(token)
    if scope is None:
        return False
    now = now or timezone.now()
    return bool(
        scope.update(open_count=F("open_count") + 1, opened_at=Coalesce(F("opened_at"), now))
    )


def _immediate_reasons(recipient: Recipient, click: ClickEvent) -> list[str]:
    verdict = bots.classify(
        bots.Click(click.at, recipient.sent_at, click.ip, click.user_agent, True, True),
        bot_rules(),
        now=click.at,
    )
    return [str(reason) for reason in verdict]


def record_click(
    token: str, ip: str | None, user_agent: str, now: datetime | None = None
) -> Recipient | None:
    recipient = find(token)
    if recipient is None:
        return None
    now = now or timezone.now()
    click = ClickEvent(recipient=recipient, at=now, ip=ip or None, user_agent=user_agent[:MAX_UA])
    click.bot_reasons = _immediate_reasons(recipient, click)
    click.save()
    Recipient.objects.filter(pk=recipient.pk, clicked_at__isnull=True).update(clicked_at=now)
    return recipient


def record_page(
    token: str, ip: str | None, user_agent: str, now: datetime | None = None
) -> Recipient | None:
    """The landing page was loaded: the follow-up request a scanner often does not make."""
    recipient = find(token)
    if recipient is None:
        return None
    now = now or timezone.now()
    click = recipient.clicks.filter(page_at__isnull=True).order_by("-at").first()
    if click is None:  # the page was opened directly: it is a click and its follow-up at once
        record_click(token, ip, user_agent, now)
        click = recipient.clicks.order_by("-at").first()
    ClickEvent.objects.filter(pk=click.pk).update(page_at=now)
    return recipient


def _human(recipient: Recipient, now: datetime) -> None:
    updated = Recipient.objects.filter(pk=recipient.pk, human_clicked_at__isnull=True).update(
        human_clicked_at=now
    )
    if updated:
        from carbet.awareness import training

        training.assign_after_click(recipient)


def record_beacon(token: str, now: datetime | None = None) -> bool:
    """The page's script ran: a browser with a person in front of it (unless flagged)."""
    recipient = find(token)
    if recipient is None:
        return False
    now = now or timezone.now()
    click = (
        recipient.clicks.filter(page_at__isnull=False, beacon_at__isnull=True)
        .order_by("-at")
        .first()
    )
    if click is None:
        return True
    ClickEvent.objects.filter(pk=click.pk).update(beacon_at=now)
    if not click.bot_reasons:
        _human(recipient, click.at)
    return True


def record_submit(token: str, now: datetime | None = None) -> bool:
    """A form was submitted: keep *that* it was (the first time), nothing of what it held."""
    recipient = find(token)
    if recipient is None:
        return False
    now = now or timezone.now()
    Recipient.objects.filter(pk=recipient.pk, submitted_at__isnull=True).update(submitted_at=now)
    click = recipient.clicks.order_by("-at").first()
    if click is None or not click.bot_reasons:
        _human(recipient, click.at if click else now)
    return True


def record_report(
    token: str, source: str = ReportSource.LINK, at: datetime | None = None
) -> Recipient | None:
    recipient = find(token)
    if recipient is None:
        return None
    mark_reported(recipient, source, at)
    return recipient


def mark_reported(recipient: Recipient, source: str, at: datetime | None = None) -> bool:
    """First report wins (a later forward of the same mail changes nothing)."""
    at = at or timezone.now()
    return bool(
        Recipient.objects.filter(pk=recipient.pk, reported_at__isnull=True).update(
            reported_at=at, report_source=source
        )
    )


def settle_clicks(now: datetime | None = None, campaign: Any = None) -> int:
    """Flag, with their reasons, the clicks old enough to judge; returns how many settled."""
    now = now or timezone.now()
    rules = bot_rules()
    pending = ClickEvent.objects.visible_to(SYSTEM).filter(
        settled=False, at__lte=now - bots.FOLLOW_UP_GRACE
    )
    if campaign is not None:
        pending = pending.filter(recipient__campaign=campaign)
    settled = 0
    for click in pending.select_related("recipient").iterator(chunk_size=500):
        verdict = bots.classify(
            bots.Click(
                click.at,
                click.recipient.sent_at,
                click.ip,
                click.user_agent,
                followed_up=click.page_at is not None,
                beacon=click.beacon_at is not None,
            ),
            rules,
            now=now,
        )
        click.bot_reasons = [str(reason) for reason in verdict]
        click.settled = True
        click.save(update_fields=["bot_reasons", "settled"])
        settled += 1
    return settled
