"""Pages of the findings store: list, filters, detail, status changes, overdue, manual findings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carbet.core.models import Asset
from carbet.findings.choices import Status
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding
from tests.findings.findings_helpers import make_finding, make_findings

LIST = "/vulnerabilites/"


def test_structure_users_see_their_findings_only(region):
    make_findings(region.a, "alpha-1", "alpha-2")
    make_findings(region.b, "beta-1")
    page = region.client("director").get(LIST).content.decode()
    assert "Finding alpha-1" in page and "Finding alpha-2" in page
    assert "Finding beta-1" not in page
    page_b = region.client("director_b").get(LIST).content.decode()
    assert "Finding beta-1" in page_b and "Finding alpha-1" not in page_b
    # the structure filter offers only visible structures
    assert region.a.name not in page_b


@pytest.mark.parametrize("role", ["ars_viewer", "nobody"])
def test_ars_and_account_without_role_get_403_on_every_findings_page(region, role):
    finding = make_finding(region.a)
    client = region.client(role)
    for path in (
        LIST,
        "/vulnerabilites/en-retard/",
        "/vulnerabilites/exporter/",
        "/vulnerabilites/acceptations/",
        "/vulnerabilites/acceptations/demander/",
        "/vulnerabilites/nouvelle/",
        "/vulnerabilites/importer/",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/vulnerabilites/{finding.pk}/").status_code == 404
    assert client.post(f"/vulnerabilites/{finding.pk}/etat/").status_code == 404


def test_another_structures_finding_is_a_404_everywhere(region):
    finding = make_finding(region.a, "secret")
    client = region.client("director_b")
    assert client.get(f"/vulnerabilites/{finding.pk}/").status_code == 404
    response = client.post(
        f"/vulnerabilites/{finding.pk}/etat/", {"status": "confirmed", "reason": "x"}
    )
    assert response.status_code == 404
    client.post(
        "/vulnerabilites/etat/", {"finding": [finding.pk], "status": "confirmed", "reason": "x"}
    )
    assert Finding.objects.get(pk=finding.pk).status == Status.NEW
    export = client.get("/vulnerabilites/exporter/?format=csv&status=all")
    assert export.status_code == 200
    assert b"Finding secret" not in b"".join(export.streaming_content)


def test_filters_narrow_the_list(region):
    today = timezone.localdate()
    make_findings(region.a, "crit", severity="critical", kev=True, cve="CVE-2024-1111")
    make_findings(region.a, "low", severity="low")
    late = make_finding(region.a, "late", severity="medium")
    Finding.objects.filter(pk=late.pk).update(sla_due=today - dt.timedelta(days=3))
    make_finding(region.a, "fp", status=Status.FALSE_POSITIVE)
    client = region.client("referent")

    def titles(query: str) -> set[str]:
        html = client.get(f"{LIST}?{query}").content.decode()
        return {n for n in ("crit", "low", "late", "fp") if f"Finding {n}<" in html}

    assert titles("") == {"crit", "low", "late"}  # open ones by default
    assert titles("status=decided") == {"fp"}
    assert titles("status=all") == {"crit", "low", "late", "fp"}
    assert titles("severity=4") == {"crit"}
    assert titles("kev=1") == {"crit"}
    assert titles("overdue=on") == {"late"}
    assert titles("q=cve-2024-1111") == {"crit"}
    assert titles("q=Finding+lo") == {"low"}
    assert titles(f"structure={region.a.pk}&sort=due") == {"crit", "low", "late"}
    assert titles("severity=banana&sort=nonsense") == {"crit", "low", "late"}


def test_asset_filter_is_offered_for_the_chosen_structure(region):
    asset = Asset.objects.get(structure=region.a)
    ingest(
        region.a,
        "exposure",
        [FindingInput(title="On the asset", asset_id=asset.pk, fingerprint="on-asset")],
        complete=False,
    )
    make_findings(region.a, "elsewhere")
    client = region.client("director")
    html = client.get(f"{LIST}?structure={region.a.pk}&asset={asset.pk}").content.decode()
    assert "On the asset" in html and "Finding elsewhere" not in html
    assert asset.value in html


def _bulk_rows(structure, count: int, prefix: str) -> None:
    ingest(
        structure,
        "exposure",
        [FindingInput(title=f"{prefix} {i}", fingerprint=f"{prefix}-{i}") for i in range(count)],
        complete=False,
    )


def test_list_query_count_does_not_grow_with_rows(region, django_assert_max_num_queries):
    client = region.client("centre_admin")
    _bulk_rows(region.a, 10, "few")
    client.get(LIST)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    _bulk_rows(region.a, 400, "many")
    _bulk_rows(region.b, 400, "many-b")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{LIST}?page=3&sort=structure")
    assert response.status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(LIST, headers={"HX-Request": "true"})


def test_detail_shows_the_plain_french_page(region):
    asset = Asset.objects.get(structure=region.a)
    ingest(
        region.a,
        "exposure",
        [
            FindingInput(
                title="VPN vulnérable",
                fingerprint="vpn",
                severity="critical",
                description="La passerelle VPN a une faille connue.",
                remediation="Mettre à jour le boîtier.",
                cve="CVE-2024-21762",
                references=["d1.o1", "https://cert.ssi.gouv.fr/alerte/x", "anssi-hygiene-34"],
                evidence={"port": 443, "banner": {"product": "FortiOS", "tls": [1.2, 1.3]}},
                kev=True,
                epss=0.97,
                asset_id=asset.pk,
            )
        ],
        complete=False,
    )
    finding = Finding.objects.get(fingerprint="vpn")
    Finding.objects.filter(pk=finding.pk).update(sla_due=timezone.localdate() - dt.timedelta(1))
    html = region.client("referent").get(f"/vulnerabilites/{finding.pk}/").content.decode()
    for expected in (
        "VPN vulnérable",
        "La passerelle VPN a une faille connue.",
        "Mettre à jour le boîtier.",
        "Pourquoi c'est important",
        "Exploitée activement",
        "CVE-2024-21762",
        "<dt>CaRE</dt>",
        "<dt>ANSSI</dt>",
        "<dt>banner</dt>",
        "FortiOS",
        "En retard",
        "97,0 %",
        asset.value,
        "Historique",
        "Détectée",
    ):
        assert expected in html, expected
    assert 'name="reason"' in html  # the referent may triage


def test_status_change_from_the_page(region):
    finding = make_finding(region.a)
    client = region.client("referent")
    url = f"/vulnerabilites/{finding.pk}/etat/"
    missing = client.post(url, {"status": "confirmed", "reason": ""})
    assert missing.status_code == 422
    assert "obligatoire" in missing.content.decode() or "motif" in missing.content.decode()
    response = client.post(url, {"status": "confirmed", "reason": "Vu sur place"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == Status.CONFIRMED and finding.status_reason == "Vu sur place"
    htmx = client.post(
        url, {"status": "in_remediation", "reason": "Plan lancé"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == f"/vulnerabilites/{finding.pk}/"
    # not a choice the referent has: the form refuses it, nothing changes
    refused = client.post(url, {"status": "verified_closed", "reason": "fait"})
    assert refused.status_code == 422
    finding.refresh_from_db()
    assert finding.status == Status.IN_REMEDIATION
    # the IT provider sees the finding but cannot change it
    it = region.client("it_provider")
    assert it.get(f"/vulnerabilites/{finding.pk}/").status_code == 200
    assert it.post(url, {"status": "confirmed", "reason": "x"}).status_code == 403


def test_duplicate_from_the_page_names_a_visible_original(region):
    copy, original = make_findings(region.a, "copy", "orig")
    foreign = make_finding(region.b, "foreign")
    client = region.client("centre_analyst")
    url = f"/vulnerabilites/{copy.pk}/etat/"
    bad = client.post(url, {"status": "duplicate", "reason": "x", "duplicate_of": foreign.pk})
    assert bad.status_code == 422 and "même structure" in bad.content.decode()
    client.post(url, {"status": "duplicate", "reason": "x", "duplicate_of": original.pk})
    assert Finding.objects.get(pk=copy.pk).duplicate_of_id == original.pk


def test_decisions_made_in_the_page_survive_a_rescan(region):
    fp, acc = make_findings(region.a, "fp", "acc")
    client = region.client("referent")
    client.post(f"/vulnerabilites/{fp.pk}/etat/", {"status": "false_positive", "reason": "leurre"})
    Finding.objects.filter(pk=acc.pk).update(status=Status.RISK_ACCEPTED)
    later = timezone.now() + dt.timedelta(days=2)
    items = [FindingInput(title=f"Finding {n}", fingerprint=f"fp-{n}") for n in ("fp", "acc")]
    ingest(region.a, "exposure", items, complete=True, scope="tests", now=later)
    for finding, label in ((fp, "Faux positif"), (acc, "Risque accepté")):
        finding.refresh_from_db()
        html = client.get(f"/vulnerabilites/{finding.pk}/").content.decode()
        assert label in html
        assert finding.last_seen == later
    assert "Finding fp<" not in client.get(LIST).content.decode()


def test_bulk_status_from_the_list(region):
    new_one, closed = make_findings(region.a, "n", "c")
    Finding.objects.filter(pk=closed.pk).update(status=Status.VERIFIED_CLOSED)
    client = region.client("referent")
    response = client.post(
        "/vulnerabilites/etat/",
        {
            "finding": [new_one.pk, closed.pk],
            "status": "confirmed",
            "reason": "revue",
            "next": "/vulnerabilites/?status=all",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/vulnerabilites/?status=all"
    html = response.content.decode()
    assert "1 vulnérabilité(s) mise(s) à jour" in html
    assert f"#{closed.pk}" in html
    assert Finding.objects.get(pk=new_one.pk).status == Status.CONFIRMED
    # an outside redirect target is ignored
    outside = client.post(
        "/vulnerabilites/etat/",
        {
            "finding": [new_one.pk],
            "status": "in_remediation",
            "reason": "r",
            "next": "//evil.test/",
        },
    )
    assert outside["Location"] == "/vulnerabilites/"
    assert region.client("director").post("/vulnerabilites/etat/", {}).status_code == 403


def test_overdue_page_groups_by_structure(region):
    past = timezone.localdate() - dt.timedelta(days=10)
    late_a = make_findings(region.a, "la1", "la2", severity="critical")
    late_b = make_findings(region.b, "lb", severity="high")
    Finding.objects.filter(pk__in=[f.pk for f in late_a + late_b]).update(sla_due=past)
    make_findings(region.a2, "fine")
    admin_html = region.client("centre_admin").get("/vulnerabilites/en-retard/").content.decode()
    assert region.a.name in admin_html and region.b.name in admin_html
    assert region.a2.name not in admin_html
    assert admin_html.index(region.a.name) < admin_html.index(region.b.name)  # criticals first
    director_html = region.client("director").get("/vulnerabilites/en-retard/").content.decode()
    assert region.a.name in director_html and region.b.name not in director_html


def test_manual_finding_goes_through_ingest_and_deduplicates(region):
    client = region.client("centre_analyst")
    asset = Asset.objects.get(structure=region.a)
    form = {
        "structure": region.a.pk,
        "asset": asset.pk,
        "title": "Mot de passe administrateur partagé",
        "severity": 3,
        "description": "Le compte admin est partagé par toute l'équipe.",
        "remediation": "Créer un compte nominatif par personne.",
        "references": "anssi-hygiene-7\nd1.o2",
        "cve": "",
        "cvss": "",
    }
    response = client.post("/vulnerabilites/nouvelle/", form)
    finding = Finding.objects.get(title="Mot de passe administrateur partagé")
    assert response["Location"] == f"/vulnerabilites/{finding.pk}/"
    assert finding.source == "manual" and finding.asset == asset
    assert finding.references == ["anssi-hygiene-7", "d1.o2"]
    assert finding.sla_due is not None
    client.post("/vulnerabilites/nouvelle/", form)
    assert Finding.objects.filter(title="Mot de passe administrateur partagé").count() == 1
    # an asset of another structure is not a choice
    wrong = client.post(
        "/vulnerabilites/nouvelle/",
        {**form, "asset": Asset.objects.get(structure=region.b).pk, "title": "Autre"},
    )
    assert wrong.status_code == 200 and not Finding.objects.filter(title="Autre").exists()
    fragment = client.get(f"/vulnerabilites/nouvelle/actifs/?structure={region.a.pk}")
    assert asset.value in fragment.content.decode()
    for role in ("director", "referent", "director_b"):
        assert region.client(role).get("/vulnerabilites/nouvelle/").status_code == 403
        assert region.client(role).get("/vulnerabilites/nouvelle/actifs/").status_code == 403
