"""Evidence files (hostile uploads, encryption at rest, custody), indicators and their STIX 2.1
export, the PRIS provider's narrow access, lessons learned and the ARS's aggregates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import stix2
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.core import uploads
from carbet.crisis import selectors, services, services_evidence, services_lessons, stix, tokens
from carbet.crisis.models import LogEntry
from carbet.engines.exercises import jsonformat
from tests.crisis.conftest import T0

H = dt.timedelta(hours=1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_evidence_is_encrypted_fingerprinted_and_has_its_custody(case, region):
    user = region.users["referent"]
    secret = b"Journal pare-feu : patient DUPONT Jean, IPP 123456\n"
    evidence = services_evidence.add_evidence(
        user,
        case,
        SimpleUploadedFile("pare-feu.txt", secret),
        holder="RSSI",
        description="Export du pare-feu",
        collected_at=T0 + H,
    )
    assert evidence.encrypted and evidence.size == len(secret)
    stored = uploads.upload_path(evidence.stored_name).read_bytes()
    assert b"DUPONT" not in stored and b"patient" not in stored  # encrypted at rest
    assert services_evidence.read_evidence(user, evidence) == secret
    services_evidence.add_custody(
        user,
        evidence,
        holder="PRIS Cyber Réponse",
        action="transferred",
        reason="analyse",
        at=T0 + 2 * H,
    )
    assert [c.action for c in evidence.custody.order_by("at")] == ["collected", "transferred"]
    assert LogEntry.objects.filter(case=case, text__contains=evidence.sha256).exists()
    with pytest.raises(PermissionDenied):
        services_evidence.read_evidence(region.users["director_b"], evidence)
    with pytest.raises(PermissionDenied):
        services_evidence.read_evidence(region.users["ars_viewer"], evidence)
    # A file changed on disk no longer matches its fingerprint.
    plain = services_evidence.add_evidence(
        user, case, SimpleUploadedFile("note.pdf", PDF), holder="RSSI", sensitive=False
    )
    path = uploads.upload_path(plain.stored_name)
    path.write_bytes(PDF + b"% altered\n")
    with pytest.raises(services_evidence.EvidenceAltered):
        services_evidence.read_evidence(user, plain)


@pytest.mark.parametrize(
    "name, data",
    [
        ("rapport.pdf", b"MZ\x90\x00 this is an executable"),  # an .exe renamed .pdf
        ("outil.exe", b"MZ\x90\x00"),
        ("note.txt", b"text with a \x00 NUL byte"),
        ("../../etc/passwd.txt", b"root:x:0:0"),  # accepted, but stored under a random name
    ],
)
def test_hostile_uploads(case, region, name, data, keys):
    user = region.users["referent"]
    before = list(Path(keys / "media").rglob("*")) if (keys / "media").exists() else []
    try:
        evidence = services_evidence.add_evidence(
            user, case, SimpleUploadedFile(name, data), holder="RSSI", sensitive=False
        )
    except ValidationError as exc:
        assert "file" in exc.message_dict
        after = list(Path(keys / "media").rglob("*.*")) if (keys / "media").exists() else []
        assert [p for p in after if p not in before and p.is_file()] == []  # nothing left
        return
    assert name.startswith("../") and ".." not in evidence.stored_name
    assert uploads.upload_path(evidence.stored_name).is_relative_to(Path(keys / "media").resolve())


def test_too_big_upload_is_refused(case, region, settings):
    settings.CARBET_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationError):
        services_evidence.add_evidence(
            region.users["referent"], case, SimpleUploadedFile("big.txt", b"a" * 500), holder="x"
        )


def test_indicators_and_stix_bundle(case, region):
    user = region.users["referent"]
    rows = [
        ("ipv4", " 203.0.113.7 ", "amber"),
        ("domain", "Evil.Example.", "green"),
        ("sha256", "A" * 64, "red"),
        ("url", "https://evil.example/pay?id=1'", "amber+strict"),
        ("email", "attaquant@evil.example", "clear"),
        ("filename", "lock'it.exe", "amber"),
    ]
    for kind, value, tlp in rows:
        services_evidence.add_indicator(user, case, type=kind, value=value, tlp=tlp, source="PRIS")
    assert case.indicators.get(type="domain").value == "evil.example"
    with pytest.raises(ValueError):
        services_evidence.add_indicator(user, case, type="ipv4", value="203.0.113.7", tlp="amber")
    for kind, value in (
        ("ipv4", "999.1.1.1"),
        ("ipv6", "1.2.3.4"),
        ("md5", "xyz"),
        ("domain", "a b"),
        ("url", "javascript:x"),
    ):
        with pytest.raises(ValueError):
            services_evidence.add_indicator(user, case, type=kind, value=value, tlp="amber")
    text = stix.bundle_json(case)
    bundle = stix2.parse(text, allow_custom=False)
    indicators = [o for o in bundle.objects if o.type == "indicator"]
    assert len(indicators) == 6
    patterns = {o.pattern for o in indicators}
    assert "[ipv4-addr:value = '203.0.113.7']" in patterns
    assert "[file:name = 'lock\\'it.exe']" in patterns
    assert "[file:hashes.'SHA-256' = '" + "a" * 64 + "']" in patterns
    red = next(o for o in indicators if "SHA-256" in o.pattern)
    assert red.object_marking_refs == [stix2.TLP_RED.id]
    assert any(o.type == "marking-definition" for o in bundle.objects)  # AMBER+STRICT statement
    assert region.a.name not in text
    assert (
        json.loads(stix.bundle_json(case))["objects"][0]["id"]
        == json.loads(text)["objects"][0]["id"]
    )


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(
        ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "filename"]
    ),
    value=st.text(max_size=80),
)
def test_any_indicator_value_is_normalised_or_refused(kind, value):
    try:
        services_evidence.normalise_indicator(kind, value)
    except ValueError:
        pass


def test_provider_access_is_narrow_and_expires(case, region):
    pris = case.stakeholders.get(kind="pris")
    pris.name, pris.qualification_ref = "Cyber Réponse", "PRIS-2025-014"
    pris.save()
    with pytest.raises(PermissionDenied):  # the cell asks; the centre grants
        tokens.grant_provider_access(region.users["director"], pris, days=7)
    with pytest.raises(ValueError):
        tokens.grant_provider_access(
            region.users["centre_analyst"], case.stakeholders.get(kind="ars")
        )
    access, token = tokens.grant_provider_access(
        region.users["centre_analyst"], pris, days=7, now=T0
    )
    assert access.token_hash != token and token not in access.token_hash
    assert tokens.access_for(token, now=T0 + H) == access
    assert tokens.access_for(token + "x", now=T0 + H) is None
    assert tokens.access_for(token, now=T0 + 8 * 24 * H) is None  # expired
    entry = tokens.provider_append(
        access, text="Point d'entrée : VPN sans MFA", kind="fact", now=T0 + H
    )
    assert entry.author_label == "Cyber Réponse (PRIS, PRIS-2025-014)" and entry.author_id is None
    indicator = tokens.provider_add_indicator(
        access, type="ipv4", value="198.51.100.9", tlp="amber", now=T0 + H
    )
    assert indicator.added_by.startswith("Cyber Réponse")
    tokens.revoke(region.users["centre_analyst"], access)
    assert tokens.access_for(token) is None
    with pytest.raises(PermissionError):
        tokens.provider_append(access, text="après révocation", kind="fact")


def test_lessons_become_findings_actions_roadmap_fact_and_a_scenario(
    case, region, django_capture_on_commit_callbacks
):
    from carbet.findings.models import ActionItem, Finding

    user = region.users["director"]
    services_lessons.add_lesson(user, case, kind="worked", text="Les procédures papier ont tenu")
    services_lessons.add_lesson(
        user,
        case,
        kind="improve",
        text="Sauvegardes accessibles depuis le domaine",
        recommendation="Sauvegardes hors ligne et testées",
        workstream="technical",
        severity=4,
    )
    services_lessons.add_lesson(
        user,
        case,
        kind="improve",
        text="Annuaire de crise incomplet",
        recommendation="Tenir l'annuaire de crise à jour",
        workstream="communication",
    )
    with pytest.raises(PermissionDenied):  # the centre publishes
        services_lessons.publish_lessons(user, case)
    result = services_lessons.publish_lessons(region.users["centre_analyst"], case)
    assert result == {"findings_created": 2, "findings_updated": 0, "actions": 2}
    findings = Finding.objects.filter(structure=region.a, source="crisis")
    assert findings.count() == 2 and findings.filter(severity=4).exists()
    assert ActionItem.objects.filter(
        structure=region.a, title="Sauvegardes hors ligne et testées"
    ).exists()
    again = services_lessons.publish_lessons(region.users["centre_analyst"], case)
    assert again["actions"] == 0 and Finding.objects.filter(source="crisis").count() == 2
    services.change_phase(
        region.users["centre_analyst"], case, "containment", reason="x", now=T0 + H
    )
    text = services_lessons.exercise_scenario(case)
    scenario, problems = jsonformat.parse(text)
    assert problems == [] and scenario.injects and len(scenario.objectives) == 2
    assert region.a.name not in text and "dir@alpha" not in text
    summary = services_lessons.closing_summary(case, now=T0 + 10 * H)
    assert summary["entries"] >= 3


def test_the_ars_sees_aggregates_only(region, keys):
    admin = region.users["centre_admin"]
    for n in range(10):
        services.open_case_for(
            admin,
            region.a if n % 2 else region.b,
            category="ransomware" if n < 5 else "messagerie",
            now=T0,
        )
    aggregates = selectors.region_aggregates(region.users["ars_viewer"], now=T0)
    assert aggregates.total == 10 and aggregates.by_category.published
    rows = dict(aggregates.by_category.rows())
    assert (
        rows["Rançongiciel sur le système d'information"] == 5
        and rows["Messagerie compromise"] == 5
    )
    # All in one phase: the phase table would state each case's phase, so it is withheld.
    assert not aggregates.by_phase.published
    # Two départements of five: crossed with the categories nothing below five can be isolated.
    assert aggregates.by_departement is not None
    assert dict(aggregates.by_departement.rows()) == {"971": 5, "972": 5}
    # One more case in a third département: a cell of one, withheld from the table.
    services.open_case_for(admin, region.a2, category="messagerie", now=T0)
    region.a2.departement = "973"
    region.a2.save()
    again = selectors.region_aggregates(region.users["ars_viewer"], now=T0)
    assert again.by_departement is None or None in again.by_departement.counts
    with pytest.raises(PermissionDenied):
        selectors.region_aggregates(region.users["director"])
    assert not selectors.cases_for(region.users["ars_viewer"]).exists()
    assert selectors.reason_text(None)
