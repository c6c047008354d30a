"""The security decision: the director signs (audited, dossier frozen), the dossier's pages as
images, validity from 6 months to 3 years, reminders through a real SMTP server with an
injectable clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image, ImageStat

from carbet.audit.models import AuditEntry
from carbet.bydesign import pdf, selectors, services_decision
from carbet.bydesign.models import Decision
from carbet.core import uploads
from carbet.core.models import Contact
from carbet.roadmap.models import ServiceFact

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bydesign"


def _pages_as_png(content: bytes, name: str) -> list[Path]:
    assert shutil.which("pdftoppm"), "install poppler-utils (apt-get install poppler-utils)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    target = ARTIFACTS / f"{name}.pdf"
    target.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(target), str(ARTIFACTS / name)],
        check=True,
        timeout=120,
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def _text(content: bytes) -> str:
    target = ARTIFACTS / "text.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return subprocess.run(
        ["pdftotext", str(target), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def test_the_director_signs_and_the_dossier_is_frozen(bd):
    today = dt.date(2026, 12, 6)
    decision = services_decision.sign(
        bd.users["director_a2"],
        bd.care,
        {"outcome": "conditions", "months": 6, "conditions": "Activer la double authentification"},
        today=today,
    )
    assert decision.valid_from == today and decision.valid_until == dt.date(2027, 6, 5)
    with uploads.open_upload(decision.dossier) as handle:
        stored = handle.read()
    assert hashlib.sha256(stored).hexdigest() == decision.dossier_sha256
    entry = AuditEntry.objects.get(action="bydesign.decision.sign")
    assert entry.changes["dossier_sha256"] == decision.dossier_sha256
    assert entry.structure_id == bd.a2.pk
    fact = ServiceFact.objects.get(structure=bd.a2, kind="security_decision")
    assert fact.value["outcome"] == "conditions"
    text = _text(stored)
    assert "Dossier de décision de sécurité" in text and "Dossier de soins" in text
    assert "Activer la double authentification" in text
    pages = _pages_as_png(stored, "signed-dossier")
    assert pages
    variances = [ImageStat.Stat(Image.open(png).convert("L")).var[0] for png in pages]
    assert variances[0] > 20 and all(v > 1 for v in variances), variances  # no blank page


def test_the_draft_dossier_is_a_tagged_pdf_with_every_section(bd):
    content = pdf.dossier_pdf(bd.care, None, dt.date.today())
    assert content.startswith(b"%PDF")
    target = ARTIFACTS / "tagged.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    info = subprocess.run(
        ["pdfinfo", str(target)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert "Tagged:          yes" in info
    text = _text(content)
    for heading in (
        "Le service",
        "Les mesures et leur état",
        "Risques résiduels",
        "Réponses du fournisseur",
        "La décision",
    ):
        assert heading in text, heading
    assert "pas encore signé" in text
    assert len(_pages_as_png(content, "draft-dossier")) >= 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"outcome": "accept", "months": 48}, "months"),
        ({"outcome": "accept", "months": 3}, "months"),
        ({"outcome": "maybe", "months": 12}, "outcome"),
        ({"outcome": "conditions", "months": 12, "conditions": "  "}, "conditions"),
    ],
)
def test_bad_decisions_are_refused_and_nothing_is_written(bd, values, field):
    with pytest.raises(ValidationError) as exc:
        services_decision.sign(bd.users["director_a2"], bd.care, values)
    assert field in exc.value.error_dict
    assert not Decision.objects.exists()


@pytest.mark.parametrize("role", ["referent_a2", "centre_admin", "director_b", "director"])
def test_only_the_structures_director_signs(bd, role):
    with pytest.raises(PermissionDenied):
        services_decision.sign(bd.users[role], bd.care, {"outcome": "accept", "months": 12})
    assert not Decision.objects.exists()


def test_validity_and_reminders_through_a_real_smtp_server(bd, smtp_inbox):
    Contact.objects.filter(structure=bd.a2).update(email="direction@ehpad-alpha.test")
    start = dt.date(2026, 1, 10)
    decision = services_decision.sign(
        bd.users["director_a2"], bd.care, {"outcome": "accept", "months": 12}, today=start
    )
    assert decision.valid_until == dt.date(2027, 1, 9)
    early = services_decision.send_reminders(dt.date(2026, 10, 1))
    assert early == {"before": 0, "after": 0, "failed": 0} and not smtp_inbox.messages
    soon = dt.date(2026, 11, 20)
    assert selectors.decision_state(bd.care, soon).code == "expiring"
    assert services_decision.send_reminders(soon)["before"] == 1
    assert services_decision.send_reminders(soon)["before"] == 0  # never twice
    received = smtp_inbox.by_recipient()
    assert set(received) >= {"direction@ehpad-alpha.test", "dir@ehpad-alpha.test"}
    message = received["direction@ehpad-alpha.test"][0]
    assert "à renouveler" in message["Subject"]
    assert f"/services-numeriques/service/{bd.care.pk}/decision/" in message.get_content()
    late = dt.date(2027, 1, 10)
    assert selectors.decision_state(bd.care, late).code == "expired"
    assert services_decision.send_reminders(late)["after"] == 1
    assert "expirée" in smtp_inbox.messages[-1][1]["Subject"]
    assert services_decision.send_reminders(late + dt.timedelta(days=1))["after"] == 0


def test_a_refused_mail_server_loses_no_reminder(bd, settings):
    Contact.objects.filter(structure=bd.a2).update(email="direction@ehpad-alpha.test")
    services_decision.sign(
        bd.users["director_a2"],
        bd.care,
        {"outcome": "accept", "months": 6},
        today=dt.date(2026, 1, 1),
    )
    closed = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    settings.MAILERS = closed
    assert services_decision.send_reminders(dt.date(2026, 6, 1))["failed"] == 1
    assert Decision.objects.get().reminded_before_on is None
