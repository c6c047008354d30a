"""Automatic evidence, indicators and the CaRE report read the *latest* state of each source:
a newer level-2 audit is level 2 even though an older level-4 audit exists. Real rows; dates are
set through ``at`` and the functions' ``today`` (the injectable clock)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.roadmap import auto_evidence, indicators, reports
from carbet.roadmap.models import AutoEvidence, IndicatorValue, RegionalIndicator


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def d1o5(structure) -> AutoEvidence:
    return AutoEvidence.objects.get(structure=structure, requirement__code="d1.o5")


def test_a_newer_level_2_audit_is_level_2_although_an_older_audit_reached_level_4(rm):
    auto_evidence.record(
        rm.a,
        "directory_audit",
        at=days_ago(60),
        value={"anssi_level": 4},
        reference="directory-audit:1",
    )
    assert d1o5(rm.a).satisfied
    auto_evidence.record(
        rm.a,
        "directory_audit",
        at=days_ago(10),
        value={"anssi_level": 2},
        reference="directory-audit:2",
    )
    row = d1o5(rm.a)
    assert row.satisfied is False and row.fact.reference == "directory-audit:2"
    assert row.valid_until is None
    # the same answer after the nightly refresh of the whole region
    auto_evidence.refresh_all(timezone.localdate())
    assert d1o5(rm.a).satisfied is False
    # and the CaRE report (page and PDF) shows the latest audit, not the older one
    text = " ".join(str(item["auto_text"]) for item in _report_items(rm.a))
    assert "niveau ANSSI 2" in text and "niveau ANSSI 4" not in text
    # a newer level-3 audit meets it again, for a year from that audit
    auto_evidence.record(
        rm.a,
        "directory_audit",
        at=days_ago(1),
        value={"anssi_level": 3},
        reference="directory-audit:3",
    )
    row = d1o5(rm.a)
    assert row.satisfied and row.valid_until == timezone.localdate(days_ago(1)) + dt.timedelta(
        days=365
    )


def _report_items(structure) -> list[dict]:
    """The CaRE checklist's rows (page and PDF) that carry automatic evidence."""
    context = reports.care_checklist(SYSTEM, structure)
    found: list[dict] = []

    def walk(value):
        if isinstance(value, dict):
            if "auto_text" in value:
                found.append(value)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)

    walk(context)
    return found


def test_each_ad_domain_counts_by_its_own_latest_audit(rm):
    record = auto_evidence.record
    record(
        rm.a,
        "directory_audit",
        at=days_ago(30),
        value={"anssi_level": 2, "scope": "ADM.ALPHA.TEST"},
        reference="directory-audit:1",
    )
    record(
        rm.a,
        "directory_audit",
        at=days_ago(20),
        value={"anssi_level": 4, "scope": "soins.alpha.test"},
        reference="directory-audit:2",
    )
    # the second domain's good audit does not hide the first one's level 2
    assert d1o5(rm.a).satisfied is False
    assert d1o5(rm.a).fact.reference == "directory-audit:1"
    record(
        rm.a,
        "directory_audit",
        at=days_ago(5),
        value={"anssi_level": 3, "scope": "adm.alpha.test"},
        reference="directory-audit:3",
    )
    assert d1o5(rm.a).satisfied  # both domains' latest audits reach level 3
    indicators.compute_all(timezone.localdate())
    level = IndicatorValue.objects.get(
        structure=rm.a, code="directory_level", day=timezone.localdate()
    )
    assert level.value == 3  # the weakest domain's latest level


def test_evidence_lapses_with_its_latest_fact_and_never_falls_back(rm):
    today = timezone.localdate()
    auto_evidence.record(
        rm.a,
        "directory_audit",
        at=days_ago(300),
        value={"anssi_level": 4},
        reference="directory-audit:1",
    )
    auto_evidence.record(
        rm.a,
        "directory_audit",
        at=days_ago(200),
        value={"anssi_level": 1},
        reference="directory-audit:2",
    )
    assert d1o5(rm.a).satisfied is False
    # 170 days later the level-1 audit is older than a year: nothing is current any more
    auto_evidence.refresh_all(today + dt.timedelta(days=170))
    assert not AutoEvidence.objects.filter(
        structure=rm.a, requirement__code="d1.o5", satisfied=True
    ).exists()


def test_indicators_read_the_latest_audit_and_phishing_averages_those_with_a_campaign(rm):
    today = timezone.localdate()
    auto_evidence.record(rm.a, "directory_audit", at=days_ago(60), value={"anssi_level": 4})
    auto_evidence.record(rm.a, "directory_audit", at=days_ago(2), value={"anssi_level": 2})
    start_of_year = timezone.make_aware(dt.datetime(today.year, 1, 1, 12))
    auto_evidence.record(
        rm.a,
        "phishing_campaign",
        at=max(start_of_year, days_ago(3)),
        value={"reporting_rate": 0.4, "click_rate": 0.2},
    )
    auto_evidence.record(
        rm.a2,
        "phishing_campaign",
        at=max(start_of_year, days_ago(2)),
        value={"reporting_rate": 0.2, "click_rate": 0.3},
    )
    # b's only campaign is from last year: b has no figure this year (not a zero)
    last_year = timezone.make_aware(dt.datetime(today.year - 1, 6, 1, 12))
    auto_evidence.record(
        rm.b, "phishing_campaign", at=last_year, value={"reporting_rate": 0.9, "click_rate": 0.0}
    )
    indicators.compute_all(today)
    values = {(v.structure_id, v.code): v.value for v in IndicatorValue.objects.filter(day=today)}
    assert values[(rm.a.pk, "directory_level")] == 2
    assert values[(rm.a.pk, "phishing_reporting_rate")] == 40
    assert values[(rm.a2.pk, "phishing_reporting_rate")] == 20
    assert values[(rm.b.pk, "phishing_reporting_rate")] is None
    data = RegionalIndicator.objects.get(code="phishing_reporting_rate", day=today).data
    assert data["n"] == 2 and data["structures"] == 3 and data["mean"] == 30
    page = rm.client("ars_viewer").get(reverse("roadmap:regional")).content.decode()
    # two structures have the figure: too few to publish, and the page says so with the count
    assert "seules 2 structures sur 3 ont ce chiffre" in page
    assert "moyenne de 3 structures" not in page
