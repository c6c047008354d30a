"""Dashboard pages: the centre's region, a structure's priorities and peers, tenancy on each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carbet.core.models import Organisation, Structure
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import PostureSnapshot
from carbet.findings.posture import snapshots
from tests.findings.test_posture_fixtures import A_SECRET, B_SECRET, SHARED_CVE, seed_findings

DASHBOARD = "/vulnerabilites/tableau-de-bord/"


@pytest.fixture
def seeded(region):
    seed_findings(region)
    return region


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_centre_dashboard_shows_the_whole_region(seeded):
    html = page(seeded.client("centre_analyst"), DASHBOARD)
    for structure in (seeded.a, seeded.a2, seeded.b):
        assert structure.name in html
    assert "Posture par structure" in html and "Carte de chaleur" in html
    assert 'class="heat-4"' in html  # a critical cell
    # The CVE open in all three structures is offered as a regional campaign seed.
    assert SHARED_CVE in html
    assert "<svg" not in html or 'role="img"' in html
    # Worst score first: a (2 criticals, 3 overdue) heads the table.
    assert html.index(seeded.a.name) < html.index(seeded.a2.name)
    by_name = page(seeded.client("centre_analyst"), DASHBOARD + "?tri=nom")
    assert by_name.index(seeded.a.name) < by_name.index(seeded.b.name)


def test_centre_dashboard_queries_do_not_grow_with_structures(seeded):
    client = seeded.client("centre_admin")
    client.get(DASHBOARD)  # warm the session and the menus
    month_ago = timezone.localdate() - dt.timedelta(days=30)
    snapshots.take_snapshots(month_ago)
    with CaptureQueriesContext(connection) as small:
        page(client, DASHBOARD)
    organisation = Organisation.objects.create(
        finess_ej="970000018", name="Groupe Gamma", legal_status="private"
    )
    for index in range(15):
        structure = Structure.objects.create(
            finess_et=f"97030{index:04d}",
            name=f"Structure {index}",
            organisation=organisation,
            category="ehpad",
            departement="973",
        )
        ingest(
            structure,
            "exposure",
            [FindingInput(title="VPN", cve=SHARED_CVE, severity="critical")],
            complete=False,
        )
    snapshots.take_snapshots(month_ago)
    with CaptureQueriesContext(connection) as large:
        page(client, DASHBOARD)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) < 25


def test_trend_arrow_compares_with_thirty_days_ago(seeded):
    then = timezone.localdate() - dt.timedelta(days=30)
    snapshots.take_snapshots(then)
    PostureSnapshot.objects.filter(structure=seeded.a).update(scores={"posture": 95})
    PostureSnapshot.objects.filter(structure=seeded.b).update(scores={"posture": 20})
    html = page(seeded.client("centre_admin"), DASHBOARD)
    assert "en recul" in html and "en progrès" in html
    structure_html = page(
        seeded.client("director"), reverse("findings:structure_dashboard", args=[seeded.a.pk])
    )
    assert "il y a 30 jours : 95" in structure_html


def test_a_directors_dashboard_is_their_structure_priorities_first(seeded):
    html = page(seeded.client("director"), DASHBOARD)
    assert "Ce qu'il faut faire d'abord" in html
    first = html.index("Ce qu'il faut faire d'abord")
    assert html.index(f"{A_SECRET} Fortinet VPN") > first  # a critical one leads
    assert "En retard de" in html and "Comment :" in html
    assert B_SECRET not in html and seeded.b.name not in html and "Alpha2" not in html
    assert "Posture par structure" not in html  # never the centre's region table


def test_someone_covering_several_structures_gets_their_table_only(seeded):
    html = page(seeded.client("org_director"), DASHBOARD)
    assert seeded.a.name in html and seeded.a2.name in html
    assert seeded.b.name not in html and B_SECRET not in html
    assert "Carte de chaleur" not in html


def test_ars_is_sent_to_aggregates(seeded):
    response = seeded.client("ars_viewer").get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"] == reverse("findings:ars_dashboard")


@pytest.mark.parametrize("role", ["nobody"])
def test_people_without_rights_are_refused(seeded, role):
    assert seeded.client(role).get(DASHBOARD).status_code == 403


@pytest.mark.parametrize(
    "role",
    [
        "director",
        "referent",
        "it_provider",
        "org_director",
        "ght_referent",
        "director_b",
        "ars_viewer",
        "nobody",
    ],
)
def test_the_centre_dashboard_is_refused_to_everyone_but_centre_staff(seeded, role):
    assert seeded.client(role).get(reverse("findings:centre_dashboard")).status_code == 403


def test_centre_staff_reach_the_centre_dashboard_by_its_own_address(seeded):
    html = page(seeded.client("centre_analyst"), reverse("findings:centre_dashboard"))
    assert "Posture par structure" in html and seeded.b.name in html


@pytest.mark.parametrize(
    "role,expected",
    [
        ("director_b", 404),
        ("ars_viewer", 404),
        ("nobody", 404),
        ("director", 200),
        ("it_provider", 200),
        ("ght_referent", 200),
        ("centre_analyst", 200),
    ],
)
def test_structure_dashboard_tenancy(seeded, role, expected):
    url = reverse("findings:structure_dashboard", args=[seeded.a.pk])
    response = seeded.client(role).get(url)
    assert response.status_code == expected
    if expected == 200:
        assert A_SECRET in response.content.decode()


def test_peer_comparison_is_anonymous_and_needs_five(seeded):
    """The comparison needs four *other* comparable structures (a group of five).

    It used to need three in all, and then showed the exact median and quartiles: with three
    structures those give back the two others' exact figures (issue 11). The group's figures
    are now bands computed without the viewer's structure (``carbet.engines.disclosure``).
    """
    url = reverse("findings:structure_dashboard", args=[seeded.b.pk])
    html = page(seeded.client("director_b"), url)
    assert "groupe trop petit pour une comparaison anonyme" in html
    names = ("Gamma-Secret", "Delta-Secret", "Epsilon-Secret")
    # Three more small EHPADs: b, a2 and these three make five, but only four are others.
    for index, name in enumerate(names):
        peer = Structure.objects.create(
            finess_et=f"97020{index + 5:04d}",
            name=name,
            organisation=seeded.org_b,
            category="ehpad",
            places=50,
            departement="971",
        )
        ingest(
            peer, "manual", [FindingInput(title=f"{name} constat", severity="high")], complete=False
        )
    html = page(seeded.client("director_b"), url)
    assert "Médiane du groupe" in html and "EHPAD de taille petite" in html
    assert "jamais de la vôtre" in html and "0–2" in html  # bands, not exact figures
    for other in (*names, seeded.a2.name, seeded.a2.finess_et, "Alpha2"):
        assert other not in html
    # Once nightly snapshots exist, the group's figures come from last night's.
    snapshots.take_snapshots(timezone.localdate() - dt.timedelta(days=1))
    html = page(seeded.client("director_b"), url)
    assert "Chiffres du groupe : photo du" in html and "Gamma-Secret" not in html


@pytest.mark.parametrize(
    "role", ["director", "referent", "it_provider", "director_b", "ars_viewer"]
)
def test_posture_export_is_for_centre_staff_only(seeded, role):
    response = seeded.client(role).get(reverse("findings:posture_export") + "?format=csv")
    assert response.status_code == 403


def test_ars_dashboard_tenancy(seeded):
    url = reverse("findings:ars_dashboard")
    for role in ("director", "director_b", "it_provider", "nobody"):
        assert seeded.client(role).get(url).status_code == 403, role
    for role in ("ars_viewer", "centre_admin"):
        assert seeded.client(role).get(url).status_code == 200, role


def test_region_figures_follow_every_audited_change(seeded):
    """The region's figures are kept between requests, until the next audited change."""
    client = seeded.client("centre_admin")
    before = page(client, DASHBOARD)
    assert "Nouvelle faille très grave" not in before
    ingest(
        seeded.b,
        "manual",
        [
            FindingInput(
                title="Nouvelle faille très grave", cve="CVE-2025-0001", severity="critical"
            )
        ],
        complete=False,
    )
    ingest(
        seeded.a,
        "manual",
        [FindingInput(title="Même faille chez A", cve="CVE-2025-0001", severity="critical")],
        complete=False,
    )
    after = page(client, DASHBOARD)
    assert "CVE-2025-0001" in after  # now shared by two structures: a campaign seed
    totals = after.split("vulnérabilités critiques ouvertes")[0].rsplit('class="kpi', 1)[1]
    assert ">6<" in totals  # 4 seeded + 2 new


@pytest.mark.parametrize("seconds", [0, 300])
def test_dashboard_with_and_without_the_region_cache(seeded, settings, seconds):
    settings.CARBET_DASHBOARD_CACHE_SECONDS = seconds
    html = page(seeded.client("centre_admin"), DASHBOARD)
    assert seeded.a.name in html and SHARED_CVE in html


def test_the_ars_finds_its_page_in_the_menu(seeded):
    ars_dashboard = reverse("findings:ars_dashboard")
    home = seeded.client("ars_viewer").get("/", follow=True).content.decode()
    assert f'href="{ars_dashboard}"' in home
    staff = seeded.client("centre_admin").get(DASHBOARD).content.decode()
    assert staff.count(f'href="{ars_dashboard}"') == 1  # the button, not a second menu entry
