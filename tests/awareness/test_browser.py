"""Headless Chromium goes click → landing page → submit with a password → debrief, then the
test proves that nothing typed left the browser — the submission is an empty POST, an event —
and that no trace of the password exists anywhere: not in the request the browser sent,
not in any table of the database (every row of every table, and the raw database files), not in
the captured logs nor in any file under the data directory.

Chromium is Debian's, driven by Playwright as in tests/browser/test_walkthrough.py.
"""

from __future__ import annotations

import logging
import random
import secrets
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from carbet.awareness import sending, services_campaigns
from carbet.awareness.models import ClickEvent, Recipient
from carbet.engines.awareness import tokens
from tests.awareness.conftest import add_targets, draft_campaign, phishing_ready, smtp_profile
from tests.awareness.helpers import DOMAIN, LINK_RE
from tests.browser.test_walkthrough import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.realserver]
PERSON_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"
)


def _every_row_as_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def _files_containing(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size < 200 * 1024 * 1024:
            if needle in path.read_bytes():
                found.append(str(path))
    return found


def test_a_password_typed_on_the_landing_page_leaves_no_trace(
    live_server, transactional_db, smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    region_structure = _structure()
    phishing_ready(region_structure, DOMAIN)
    add_targets(region_structure, DOMAIN, 1)
    campaign = draft_campaign(region_structure, smtp_profile(smtp))
    from tests.conftest import make_user

    analyst = make_user("analyst-browser@centre.test", "analyst")
    services_campaigns.launch(analyst, campaign, rng=random.Random(2))
    sending.run(campaign.pk)
    (received,) = smtp.messages
    (token,) = set(LINK_RE.findall(received.message.get_body(("plain",)).get_content()))
    Recipient.objects.update(sent_at=timezone.now() - timezone.timedelta(minutes=5))
    password = "Pw-" + secrets.token_hex(12)
    posted: list[tuple[str, str]] = []

    with chromium_page() as page:
        # Headless Chromium announces itself as "HeadlessChrome", a robot signal Carbet flags:
        # the test plays a person's ordinary browser.
        page.set_extra_http_headers({"User-Agent": PERSON_UA})
        page.on(
            "request",
            lambda r: posted.append((r.url, r.post_data or "")) if r.method == "POST" else None,
        )
        with page.expect_response(lambda r: r.url.endswith(f"/s/{token}/b")) as beacon:
            page.goto(f"{live_server.url}/s/{token}/c")
        assert beacon.value.status == 204
        page.get_by_label("Identifiant").fill("jdupont")
        page.locator("input[type=password]").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("heading", name="Pas d'inquiétude : c'était un exercice").wait_for()
        assert "/debrief" in page.url
        problems = page.problems

    assert problems == []
    submits = [body for url, body in posted if url.endswith(f"/s/{token}/submit")]
    assert submits == [""]  # the submission is an event: an empty body
    assert all("jdupont" not in body and password not in body for _url, body in posted)
    recipient = Recipient.objects.get(token_digest=tokens.digest(token))
    assert recipient.submitted_at and recipient.human_clicked_at
    click = ClickEvent.objects.get(recipient=recipient)
    assert click.page_at and click.beacon_at and click.bot_reasons == []

    rows = _every_row_as_text()
    assert password not in rows and "jdupont" not in rows
    database = Path(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and database.exists():
        for path in database.parent.glob(database.name + "*"):  # the file, -wal, -journal
            assert password.encode() not in path.read_bytes(), path
    assert password not in caplog.text
    assert _files_containing(Path(settings.DATA_DIR), password.encode()) == []


def _structure():
    from carbet.core.models import Organisation, Structure

    organisation = Organisation.objects.create(
        finess_ej="750712184", name="CH Alpha", legal_status="public"
    )
    return Structure.objects.create(
        finess_et="970200010",
        name="CH Alpha",
        organisation=organisation,
        category="ch",
        departement="972",
    )
