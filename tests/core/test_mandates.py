"""The mandate gate: every branch of ``check`` and the audited refusals of ``require_mandate``."""

from __future__ import annotations

import datetime as dt

import pytest

from carbet.audit.models import AuditEntry
from carbet.awareness.service import PHISHING_MANDATE
from carbet.core.choices import MandateStatus
from carbet.core.mandates import MandateDecision, MandateRefused, check, require_mandate
from carbet.core.models import Asset
from carbet.core.tenancy import SYSTEM
from carbet.exercises.service import EXERCISE_MANDATE
from carbet.exposure.service import EXPOSURE_MANDATE
from tests.conftest import make_mandate, proven

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
SCAN = EXPOSURE_MANDATE


@pytest.fixture
def bare(region):
    """Structure ``a`` with its fixture mandate removed and one validated asset."""
    region.a.mandates.all().delete()
    return region


def asset_of(region):
    return Asset.objects.get(structure=region.a, value="alpha.test")


def test_no_mandate(bare):
    decision = check(bare.a, SCAN)
    assert not decision.allowed and decision.mandate is None
    assert "Aucun mandat" in decision.reason


def test_expired(bare):
    old = make_mandate(
        bare.a,
        valid_from=TODAY - dt.timedelta(days=400),
        valid_until=TODAY - dt.timedelta(days=1),
        signed_on=TODAY - dt.timedelta(days=400),
    )
    decision = check(bare.a, SCAN)
    assert not decision.allowed
    assert decision.mandate == old
    assert "expiré" in decision.reason


def test_future(bare):
    later = make_mandate(
        bare.a, valid_from=TODAY + dt.timedelta(days=5), valid_until=TODAY + dt.timedelta(days=50)
    )
    decision = check(bare.a, SCAN)
    assert not decision.allowed and decision.mandate == later
    assert "pas encore en vigueur" in decision.reason
    assert check(bare.a, SCAN, at=TODAY + dt.timedelta(days=5)).allowed


def test_revoked(bare):
    make_mandate(bare.a, status=MandateStatus.REVOKED, status_reason="demande écrite")
    decision = check(bare.a, SCAN)
    assert not decision.allowed
    assert "révoqué" in decision.reason


def test_service_not_covered(bare):
    make_mandate(bare.a)  # exposure scan + directory audit
    decision = check(bare.a, PHISHING_MANDATE)
    assert not decision.allowed
    assert "ne couvre pas" in decision.reason
    assert "hameçonnage" in decision.reason


def test_asset_not_proven(bare):
    make_mandate(bare.a)
    pending = Asset.objects.create(structure=bare.a, kind="domain", value="pending.test")
    decision = check(bare.a, SCAN, pending)
    assert not decision.allowed
    assert "pas encore prouvée" in decision.reason


def test_validated_by_the_structure_is_not_proof(bare):
    """The structure's own word was the hole of the security test: it decides nothing."""
    make_mandate(bare.a)
    attested = Asset.objects.create(
        structure=bare.a, kind="domain", value="attested.test", validated=True
    )
    assert not check(bare.a, SCAN, attested).allowed


def test_asset_outside_scope(bare):
    other = Asset.objects.create(structure=bare.a, kind="domain", value="other.test", **proven())
    mandate = make_mandate(bare.a, all_assets=False)
    mandate.assets.set([asset_of(bare)])
    assert check(bare.a, SCAN, asset_of(bare)).allowed
    decision = check(bare.a, SCAN, other)
    assert not decision.allowed and decision.mandate == mandate
    assert "périmètre" in decision.reason


def test_asset_of_another_structure(region):
    foreign = Asset.objects.get(structure=region.b)
    decision = check(region.a, SCAN, foreign)
    assert not decision.allowed
    assert "n'appartient pas" in decision.reason


def test_allowed(region):
    mandate = region.a.mandates.get()
    decision = check(region.a, SCAN, asset_of(region))
    assert decision == MandateDecision(True, mandate, decision.reason)
    assert decision.allowed and bool(decision)
    assert check(region.a, "directory_audit").allowed


def test_allowed_on_the_last_day_only(bare):
    make_mandate(bare.a, valid_until=TODAY + dt.timedelta(days=3))
    assert check(bare.a, SCAN, at=TODAY + dt.timedelta(days=3)).allowed
    assert not check(bare.a, SCAN, at=TODAY + dt.timedelta(days=4)).allowed


def test_a_valid_mandate_wins_over_a_revoked_one(bare):
    make_mandate(bare.a, status=MandateStatus.REVOKED)
    good = make_mandate(bare.a, reference="second")
    decision = check(bare.a, SCAN, asset_of(bare))
    assert decision.allowed and decision.mandate == good


def test_require_returns_the_mandate_and_audits_nothing(region):
    before = AuditEntry.objects.count()
    mandate = require_mandate(region.users["centre_analyst"], region.a, SCAN, asset_of(region))
    assert mandate == region.a.mandates.get()
    assert AuditEntry.objects.count() == before


def test_require_refusal_is_audited(bare):
    analyst = bare.users["centre_analyst"]
    with pytest.raises(MandateRefused) as refused:
        require_mandate(analyst, bare.a, SCAN, asset_of(bare), ip="127.0.0.1")
    assert not refused.value.decision.allowed
    assert str(refused.value) == refused.value.decision.reason
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert entry.action == "mandate.refused"
    assert entry.actor_id == analyst.pk
    assert entry.structure_id == bare.a.pk
    assert entry.changes["service"] == "exposure_scan"
    assert entry.changes["asset"] == "alpha.test"
    assert entry.changes["reason"] == refused.value.decision.reason
    assert entry.source_ip == "127.0.0.1"


def test_require_by_the_system_actor(bare):
    with pytest.raises(MandateRefused):
        require_mandate(SYSTEM, bare.a, EXERCISE_MANDATE)
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert entry.action == "mandate.refused" and entry.actor_id is None
