"""The public space /s/ through Django's client: tracking, landing page, debrief, report link,
tokens that cannot be guessed or reused, bot flags, and what a submission keeps (that it
happened, nothing else)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.utils import timezone

from carbet.awareness import results, tracking
from carbet.awareness.models import ClickEvent, Recipient
from carbet.engines.awareness import tokens
from tests.awareness.helpers import sent_campaign

pytestmark = pytest.mark.realserver
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


def _client() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER_UA, enforce_csrf_checks=True)


def _recipient(token: str) -> Recipient:
    return Recipient.objects.get(token_digest=tokens.digest(token))


def test_open_click_page_beacon_submit_debrief(region, smtp):
    campaign, sent = sent_campaign(region, smtp, 3)
    token = next(iter(sent.values()))
    client = _client()
    pixel = client.get(f"/s/{token}/o.gif")
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    assert pixel["Cache-Control"] == "no-store" and pixel["Referrer-Policy"] == "no-referrer"
    assert "sessionid" not in pixel.cookies and "csrftoken" not in pixel.cookies
    Recipient.objects.filter(token_digest=tokens.digest(token)).update(
        sent_at=timezone.now() - dt.timedelta(minutes=5)
    )
    click = client.get(f"/s/{token}/c")
    assert click.status_code == 302 and click["Location"] == f"/s/{token}/p"
    page = client.get(f"/s/{token}/p")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'action="/s/{token}/submit"' in body
    landing_html = body[body.index('<div class="aw-landing">') :]
    assert not re.search(r"<(input|select|textarea|button)\b[^>]*\bname=", landing_html)
    assert "awareness-beacon.js" in body and "<script>" not in body
    assert client.post(f"/s/{token}/b").status_code == 204
    recipient = _recipient(token)
    assert recipient.opened_at and recipient.human_clicked_at
    submitted = client.post(
        f"/s/{token}/submit", {"identifiant": "jdupont", "password": "Sup3r-Secret!"}
    )
    assert submitted.status_code == 302 and submitted["Location"] == f"/s/{token}/debrief"
    recipient.refresh_from_db()
    assert recipient.submitted_at is not None
    assert "jdupont" not in str(Recipient.objects.filter(pk=recipient.pk).values().first())
    debrief = html.unescape(client.get(f"/s/{token}/debrief").content.decode())
    assert "exercice" in debrief and campaign.template.clues[0] in debrief
    numbers = results.funnel(campaign)
    assert (numbers.sent, numbers.opened, numbers.clicked, numbers.submitted) == (3, 1, 1, 1)


def test_unknown_malformed_and_foreign_tokens_get_404_everywhere(region, smtp):
    _campaign, sent = sent_campaign(region, smtp, 1)
    real = next(iter(sent.values()))
    client = _client()
    # A random token, a real one one character off, path tricks, ids.
    near = real[:-1] + ("A" if real[-1] != "A" else "B")
    for token in (tokens.new_token(), near, "1", "../../etc", "x" * 32, "A" * 200):
        for suffix, method in (
            ("o.gif", "get"),
            ("c", "get"),
            ("p", "get"),
            ("b", "post"),
            ("submit", "post"),
            ("debrief", "get"),
            ("r", "get"),
            ("r", "post"),
        ):
            response = getattr(client, method)(f"/s/{token}/{suffix}")
            assert response.status_code == 404, (token, suffix)
            assert b"Alpha" not in response.content
    assert not ClickEvent.objects.exists()


def test_a_token_counts_only_in_its_own_campaign_and_dies_with_the_purge(region, smtp):
    first, sent_first = sent_campaign(region, smtp, 2)
    second, sent_second = sent_campaign(region, smtp, targets="same")
    email = sorted(sent_first)[0]
    assert sent_first[email] != sent_second[email]  # a fresh token per campaign
    client = _client()
    assert client.post(f"/s/{sent_first[email]}/r").status_code == 200
    assert results.funnel(first).reported == 1 and results.funnel(second).reported == 0
    results.purge(region.users["centre_admin"], first)
    assert client.get(f"/s/{sent_first[email]}/c").status_code == 404
    assert client.get(f"/s/{sent_second[email]}/c").status_code == 302


def test_report_link_counts_only_on_post(region, smtp):
    campaign, sent = sent_campaign(region, smtp, 1)
    token = next(iter(sent.values()))
    client = _client()
    page = client.get(f"/s/{token}/r")  # what a link scanner does
    assert page.status_code == 200 and results.funnel(campaign).reported == 0
    client.post(f"/s/{token}/r")
    recipient = _recipient(token)
    assert recipient.reported_at and recipient.report_source == "link"


def test_scanner_clicks_are_flagged_with_reasons_and_left_out(region, smtp):
    campaign, sent = sent_campaign(region, smtp, 3)
    scanner, fast, silent = sorted(sent.values())
    Recipient.objects.update(sent_at=timezone.now() - dt.timedelta(minutes=10))
    Recipient.objects.filter(token_digest=tokens.digest(fast)).update(sent_at=timezone.now())
    Client(HTTP_USER_AGENT="python-requests/2.32").get(f"/s/{scanner}/c")
    _client().get(f"/s/{fast}/c", follow=True)
    _client().get(f"/s/{silent}/c")  # never loads the page
    later = timezone.now() + dt.timedelta(minutes=5)
    assert tracking.settle_clicks(later) == 3
    reasons = {
        token: ClickEvent.objects.get(recipient__token_digest=tokens.digest(token)).bot_reasons
        for token in (scanner, fast, silent)
    }
    assert "scanner_agent" in reasons[scanner]
    assert "too_fast" in reasons[fast]
    assert reasons[silent] == ["no_follow_up"]
    numbers = results.funnel(campaign)
    assert numbers.clicked == 0 and numbers.bot_clicks == 3
    assert ClickEvent.objects.count() == 3  # flagged, never deleted
    campaign.include_bots = True
    assert results.funnel(campaign).clicked == 3


def test_the_open_pixel_takes_the_fast_path_and_never_touches_a_session(region, smtp):
    """The pixel is answered before the session and authentication middlewares: even a staff
    member's logged-in browser gets no session read, no Vary: Cookie, no cookie."""
    _campaign, sent = sent_campaign(region, smtp, 1)
    token = next(iter(sent.values()))
    client = region.client("centre_analyst")
    pixel = client.get(f"/s/{token}/o.gif")
    assert pixel.status_code == 200 and pixel.content.startswith(b"GIF89a")
    assert "Cookie" not in pixel.get("Vary", "")
    assert not pixel.cookies
    assert _recipient(token).open_count == 1
    assert client.head(f"/s/{token}/o.gif").status_code == 200
    assert client.get(f"/s/{tokens.new_token()}/o.gif").status_code == 404
