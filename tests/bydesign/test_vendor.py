"""The vendor questionnaire by signed link: sent through a real SMTP server, answered without
account (and in Chromium), answers and attachments become evidence; expired, revoked, spent or
random links open nothing; reminders with an injectable clock; hostile input changes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from carbet.audit.models import AuditEntry
from carbet.bydesign import services_vendor, vendor_questions
from carbet.bydesign.models import MeasureState, VendorAttachment, VendorRequest
from carbet.core import uploads

pytestmark = pytest.mark.django_db
LINK = re.compile(r"/q/([A-Za-z0-9_-]{20,128})/")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def answers() -> dict[str, str]:
    data = {}
    for code, (_question, kind) in vendor_questions.QUESTIONS.items():
        if kind == "yesno":
            data[f"{code}_choice"] = "yes"
            data[f"{code}_text"] = f"Réponse {code}"
        else:
            data[f"{code}_text"] = f"Réponse {code}"
    return data


def sent_token(inbox, index: int = -1) -> str:
    _to, message = inbox.messages[index]
    (token,) = LINK.findall(message.get_content())
    return token


@pytest.fixture
def asked(bd, smtp_inbox):
    services_vendor.send_request(bd.users["referent_a2"], bd.care, "secu@editeur.test", 30)
    bd.token = sent_token(smtp_inbox)
    bd.inbox = smtp_inbox
    return bd


def test_the_link_is_mailed_and_only_its_digest_is_stored(asked):
    ((to, message),) = asked.inbox.messages
    assert to == ["secu@editeur.test"]
    assert "Dossier de soins" in message["Subject"]
    request = VendorRequest.objects.get()
    assert request.token_digest == services_vendor.digest(asked.token)
    assert asked.token not in str(VendorRequest.objects.values_list().get())
    assert AuditEntry.objects.filter(action="bydesign.vendor.send").exists()


def test_answers_and_attachments_become_evidence(asked):
    client = Client()
    page = client.get(f"/q/{asked.token}/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "Dossier de soins" in page.content.decode()
    data = answers()
    data["files"] = SimpleUploadedFile("certificat-hds.pdf", PDF, content_type="application/pdf")
    response = client.post(f"/q/{asked.token}/", data)
    assert response.status_code == 200 and "Merci" in response.content.decode()
    request = VendorRequest.objects.get()
    assert request.answered_at and request.answers["hds"]["choice"] == "yes"
    attachment = VendorAttachment.objects.get()
    with uploads.open_upload(attachment.stored) as handle:
        assert handle.read() == PDF
    hds = MeasureState.objects.get(service=asked.care, code="gov.hds")
    assert "secu@editeur.test" in hds.evidence and "certificat-hds.pdf" in hds.evidence
    assert "Réponse hds" in hds.evidence
    entry = AuditEntry.objects.get(action="bydesign.vendor.answer")
    assert entry.actor_label == "secu@editeur.test"
    # Spent: a second answer changes nothing.
    again = client.post(f"/q/{asked.token}/", answers())
    assert again.status_code == 200
    assert VendorRequest.objects.get().answers == request.answers


def test_incomplete_or_hostile_answers_change_nothing(asked):
    client = Client()
    data = answers()
    del data["location_text"]
    data["mfa_choice"] = "<script>alert(1)</script>"
    response = client.post(f"/q/{asked.token}/", data)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-summary"' in body and "<script>alert(1)" not in body
    assert VendorRequest.objects.get().answered_at is None
    folder = uploads.storage_root() / "bydesign" / "vendor"
    before = set(folder.rglob("*")) if folder.exists() else set()
    exe = SimpleUploadedFile("cert.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(f"/q/{asked.token}/", {**answers(), "files": exe})
    assert response.status_code == 422
    assert VendorRequest.objects.get().answered_at is None
    assert not VendorAttachment.objects.exists()
    assert (set(folder.rglob("*")) if folder.exists() else set()) == before


@pytest.mark.parametrize("token", ["x" * 43, "short", "../../etc/passwd" + "a" * 30])
def test_random_links_open_nothing(asked, token):
    assert Client().get(f"/q/{token}/").status_code == 404
    assert Client().post(f"/q/{token}/", answers()).status_code == 404


def test_revoked_and_expired_links_open_nothing(asked):
    request = VendorRequest.objects.get()
    services_vendor.revoke(asked.users["referent_a2"], request)
    assert Client().get(f"/q/{asked.token}/").status_code == 404
    VendorRequest.objects.update(
        revoked_at=None, expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert Client().get(f"/q/{asked.token}/").status_code == 404


def test_reminders_send_a_new_link_until_answered(asked):
    now = timezone.now()
    assert services_vendor.send_reminders(now + dt.timedelta(days=3)) == {"sent": 0, "failed": 0}
    assert services_vendor.send_reminders(now + dt.timedelta(days=8))["sent"] == 1
    new_token = sent_token(asked.inbox)
    assert "Rappel" in asked.inbox.messages[-1][1]["Subject"]
    assert Client().get(f"/q/{asked.token}/").status_code == 404  # the old link is spent
    assert Client().get(f"/q/{new_token}/").status_code == 200
    assert services_vendor.send_reminders(now + dt.timedelta(days=9))["sent"] == 0
    for week in (16, 24, 32):
        services_vendor.send_reminders(now + dt.timedelta(days=week))
    assert VendorRequest.objects.get().reminders <= services_vendor.MAX_REMINDERS
    Client().post(f"/q/{sent_token(asked.inbox)}/", answers())
    sent = len(asked.inbox.messages)
    services_vendor.send_reminders(now + dt.timedelta(days=29))
    assert len(asked.inbox.messages) == sent  # answered: no more reminders


def test_other_structures_cannot_send_or_revoke(asked):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services_vendor.send_request(asked.users["director_b"], asked.care, "x@y.test")
    with pytest.raises(PermissionDenied):
        services_vendor.revoke(asked.users["director_b"], VendorRequest.objects.get())


KEYS = [f"{code}_{part}" for code in vendor_questions.QUESTIONS for part in ("choice", "text")]


@given(
    st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=12),
        st.sampled_from(["yes", "no", "partly", "", "x" * 2001]) | st.text(max_size=40),
        max_size=20,
    )
)
def test_cleaning_any_submission_never_fails_and_keeps_only_known_questions(data):
    cleaned, errors = vendor_questions.clean(data)
    assert set(cleaned) <= set(vendor_questions.QUESTIONS)
    assert set(errors) <= set(vendor_questions.QUESTIONS)
    for answer in cleaned.values():
        assert len(answer["text"]) <= vendor_questions.MAX_ANSWER
