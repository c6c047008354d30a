"""Reports through a real IMAP mailbox (the session's dovecot on loopback, ``imap_server``):
reported mails are delivered into it with IMAP APPEND (as a
mail client would file them) in every forwarding shape, then polled by Carbet."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from urllib.parse import quote

import pytest
from django.utils import timezone

from carbet.awareness import imap_reporting, results
from carbet.awareness.models import Recipient, ReportingMailbox
from carbet.engines.awareness import tokens
from tests.awareness.helpers import sent_campaign
from tests.mailservers import IMAP_USERS, imap_append

pytestmark = pytest.mark.realserver
USER = "signalement"
PASSWORD = IMAP_USERS[USER]


def _append(server, raw: bytes) -> None:
    imap_append(server, USER, raw)


def _forward(token: str, how: str) -> bytes:
    link = f"https://carbet.example/s/{token}/c"
    original = EmailMessage()
    original["Subject"] = "Nouveau document partagé"
    original["From"] = "support@faux.test"
    original.set_content(f"Consultez : {link}")
    report = EmailMessage()
    report["Subject"] = "TR: Nouveau document partagé"
    report["From"] = "agent@alpha-mail.test"
    report["To"] = "signalement@alpha-mail.test"
    if how == "safelinks":
        report.set_content("Suspect ?")
        wrapped = f"https://eur01.safelinks.protection.outlook.com/?url={quote(link, safe='')}"
        report.add_alternative(f'<p><a href="{wrapped}">document</a></p>', subtype="html")
    elif how == "attachment":
        report.set_content("Message suspect en pièce jointe.")
        report.add_attachment(original)
    else:
        report.set_content(f"> {link}")
    return report.as_bytes()


def test_forwarded_reports_are_matched_from_the_mailbox(region, smtp, imap_server):
    campaign, sent = sent_campaign(region, smtp, 4)
    safelinked, attached, inline, silent = sorted(sent.values())
    mailbox = ReportingMailbox.objects.create(
        name="Signalement",
        host=imap_server["host"],
        port=imap_server["port"],
        security="none",
        username=USER,
        password=PASSWORD,
    )
    _append(imap_server, _forward(safelinked, "safelinks"))
    _append(imap_server, _forward(attached, "attachment"))
    _append(imap_server, _forward(inline, "inline"))
    _append(imap_server, _forward(inline, "inline"))  # reported twice: counted once
    _append(imap_server, b"Subject: rien\r\n\r\nAucun lien ici.\r\n")
    _append(imap_server, b"\x00\xff garbage \r\n\r\n" * 50)
    outcome = imap_reporting.poll(mailbox)
    assert outcome.errors == []
    assert outcome.messages == 6 and outcome.reports == 4 and outcome.unknown == 2
    reported = {
        t
        for t in (safelinked, attached, inline, silent)
        if Recipient.objects.get(token_digest=tokens.digest(t)).reported_at
    }
    assert reported == {safelinked, attached, inline}
    recipient = Recipient.objects.get(token_digest=tokens.digest(attached))
    assert recipient.report_source == "mailbox"
    assert recipient.reported_at <= timezone.now() + dt.timedelta(seconds=1)
    numbers = results.funnel(campaign)
    assert numbers.reported == 3 and numbers.median_minutes_to_report is not None
    again = imap_reporting.poll(mailbox)  # everything was marked seen
    assert again.messages == 0 and again.reports == 0


def test_a_wrong_password_is_an_error_on_the_mailbox_not_a_crash(db, imap_server):
    mailbox = ReportingMailbox.objects.create(
        name="Mauvais",
        host=imap_server["host"],
        port=imap_server["port"],
        security="none",
        username=USER,
        password="wrong",
    )
    outcome = imap_reporting.poll(mailbox)
    assert outcome.errors and outcome.reports == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error and mailbox.last_polled_at
