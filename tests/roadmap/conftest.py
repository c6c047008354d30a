"""Helpers of the roadmap tests: the test region plus the bundled frameworks (loaded by
``migrate``), users for the second structure of organisation A, and a small PDF file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carbet.accounts.roles import StructureRole
from carbet.roadmap.models import Framework
from tests.conftest import make_user
from tests.findings.test_posture_digest import smtp_inbox  # noqa: F401 - a real SMTP server


def pdf_upload(
    name: str = "pca.pdf", content: bytes = b"%PDF-1.4 plan de continuite"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def rm(region):
    """The region with a referent of ``a2`` only and a referent of ``b``."""
    region.users["referent_a2"] = make_user(
        "ref@ehpad-alpha.test", **{StructureRole.REFERENT: [region.a2]}
    )
    region.users["referent_b"] = make_user("ref@beta.test", **{StructureRole.REFERENT: [region.b]})
    region.today = dt.date.today()
    region.frameworks = {f.code: f for f in Framework.objects.all()}
    return region
