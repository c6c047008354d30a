"""Headless Chromium fills the vendor questionnaire from the link of a real e-mail (aiosmtpd),
attaches the HDS certificate, sends it; the answers land in the service's evidence. Every page
visited is checked with axe-core (tests/browser/chromium.py).
"""

from __future__ import annotations

import re

import pytest

from carbet.bydesign import services, services_vendor, vendor_questions
from carbet.bydesign.models import MeasureState, VendorAttachment, VendorRequest
from carbet.core.models import Organisation, Structure
from carbet.core.tenancy import SYSTEM
from tests.browser.test_walkthrough import chromium_page
from tests.bydesign.conftest import CARE_RECORD

pytestmark = [pytest.mark.browser, pytest.mark.realserver]
LINK = re.compile(r"/q/([A-Za-z0-9_-]{20,128})/")


def test_a_vendor_fills_the_questionnaire_in_chromium(
    live_server, transactional_db, smtp_inbox, tmp_path
):
    organisation = Organisation.objects.create(
        finess_ej="750712184", name="EHPAD Org", legal_status="public"
    )
    structure = Structure.objects.create(
        finess_et="970200028",
        name="EHPAD Alpha",
        organisation=organisation,
        category="ehpad",
        departement="972",
    )
    care = services.create_service(SYSTEM, structure, dict(CARE_RECORD))
    services_vendor.send_request(SYSTEM, care, "secu@editeur.test", 30)
    ((_to, message),) = smtp_inbox.messages
    (token,) = LINK.findall(message.get_content())
    certificate = tmp_path / "certificat-hds.pdf"
    certificate.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    with chromium_page() as page:
        page.goto(f"{live_server.url}/q/{token}/")
        page.get_by_role("heading", name="Questionnaire de sécurité : Dossier de soins").wait_for()
        # Sent empty first: the error summary names what is missing, nothing is recorded.
        page.get_by_role("button", name="Envoyer les réponses").click()
        page.locator("#error-summary").wait_for()
        for code, (_question, kind) in vendor_questions.QUESTIONS.items():
            if kind == "yesno":
                page.locator(f"input[name={code}_choice][value=yes]").check()
            page.locator(f"#{code}_text").fill(f"Réponse du navigateur {code}")
        page.locator("#files").set_input_files(str(certificate))
        page.get_by_role("button", name="Envoyer les réponses").click()
        page.locator("#thanks").wait_for()
        problems = page.problems

    # The empty submission is refused on purpose (422); nothing else went wrong, axe included.
    assert [p for p in problems if not p.startswith("HTTP 422")] == []
    assert len(problems) == 1
    request = VendorRequest.objects.get()
    assert request.answered_at is not None
    assert request.answers["support"]["text"] == "Réponse du navigateur support"
    assert VendorAttachment.objects.get().name == "certificat-hds.pdf"
    evidence = MeasureState.objects.get(service=care, code="gov.hds").evidence
    assert "Réponse du navigateur hds" in evidence and "certificat-hds.pdf" in evidence
