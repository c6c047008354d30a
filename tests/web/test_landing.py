"""Where each role lands, the structure page's posture and next steps, the menus, the region
table's risk column, and the labels shown instead of codes (issue 17, points 3 and 5)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from carbet.audit.presentation import action_label, describe_changes
from carbet.cli import carbet_help
from carbet.core.models import Contact
from carbet.engines.directory.rules import registry
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.posture import reports
from carbet.web.templatetags.carbet_labels import ad_rule, ad_title, amount, bot_reasons
from tests.findings.test_posture_fixtures import A_SECRET, B_SECRET, seed_findings


@pytest.fixture
def seeded(region):
    seed_findings(region)
    return region


def landing(region, role: str) -> str:
    response = region.client(role).get(reverse("web:home"))
    assert response.status_code == 302
    return response.url


def test_each_role_lands_on_its_security_view(seeded):
    dashboard = reverse("findings:dashboard")
    assert landing(seeded, "director") == dashboard  # one structure: its dashboard
    assert landing(seeded, "referent") == dashboard
    assert landing(seeded, "it_provider") == dashboard
    assert landing(seeded, "org_director") == dashboard  # two structures: the chooser
    assert landing(seeded, "centre_admin") == dashboard  # the regional dashboard
    assert landing(seeded, "ars_viewer") == reverse("findings:ars_dashboard")
    page = seeded.client("director").get(dashboard).content.decode()
    assert seeded.a.name in page and "/ 100" in page and A_SECRET in page
    assert B_SECRET not in page  # another structure's findings never show
    chooser = seeded.client("org_director").get(dashboard).content.decode()
    assert seeded.a.name in chooser and seeded.a2.name in chooser and seeded.b.name not in chooser
    regional = seeded.client("centre_admin").get(dashboard).content.decode()
    assert "Tableau de bord régional" in regional


def test_nobody_without_a_role_gets_the_explanation(seeded):
    response = seeded.client("nobody").get(reverse("web:home"))
    assert response.status_code == 200
    assert "rattaché à aucune structure" in response.content.decode()


def test_the_director_sees_what_to_sign_for_their_structure_only(seeded):
    from carbet.findings.models import Finding, RiskAcceptance
    from carbet.findings.models.acceptance import RiskAcceptanceStatus

    for structure in (seeded.a, seeded.b):
        finding = Finding.objects.filter(structure=structure).first()
        acceptance = RiskAcceptance.objects.create(
            structure=structure,
            justification="test",
            compensating_measures="aucune",
            status=RiskAcceptanceStatus.REQUESTED,
            expires_on=dt.date.today() + dt.timedelta(days=90),
        )
        acceptance.findings.add(finding)
    page = seeded.client("director").get(reverse("findings:dashboard")).content.decode()
    assert "attend votre signature" in page
    other = seeded.client("director").get(
        reverse("findings:structure_dashboard", args=[seeded.b.pk])
    )
    assert other.status_code == 404  # cross-tenant: another structure's dashboard is hidden
    referent = seeded.client("referent").get(reverse("findings:dashboard")).content.decode()
    assert "attend votre signature" not in referent  # only the director signs


def test_structure_page_starts_with_score_and_three_priorities_then_risk_first(seeded):
    Contact.objects.filter(structure=seeded.a).delete()  # contacts are missing, too
    response = seeded.client("director").get(reverse("core:structure", args=[seeded.a.pk]))
    html = response.content.decode()
    posture = html.index('id="posture"')
    steps = html.index('id="next-title"')
    assert posture < steps
    section = html[posture:steps]
    assert "/ 100" in section and section.count("<li>") == 3
    # Critical findings come before completing the contacts.
    critical = html.index("Corriger 2 vulnérabilités critiques")
    assert critical < html.index("Compléter les contacts")
    assert html.index("ont dépassé leur date limite") < html.index("Compléter les contacts")


def test_structure_page_without_findings_rights_has_no_posture(seeded):
    from carbet.accounts.roles import MATRIX, Perm

    assert "ars_viewer" not in MATRIX[Perm.STRUCTURE_VIEW]
    html = seeded.client("centre_analyst").get(reverse("core:structure", args=[seeded.b.pk]))
    assert 'id="posture"' in html.content.decode()  # centre staff see every structure's


def test_menus_fit_each_role(seeded):
    def menu(role: str) -> str:
        html = seeded.client(role).get(reverse("core:my_structures")).content.decode()
        return html[html.index("Navigation principale") : html.index("</nav>")]

    director = menu("director")
    assert reverse("jobs:list") not in director and reverse("audit:list") not in director
    referent = menu("referent")
    assert reverse("jobs:list") in referent
    html = seeded.client("centre_admin").get(reverse("core:region")).content.decode()
    admin_menu = html[html.index("Navigation principale") : html.index("</nav>")]
    assert reverse("audit:list") in admin_menu and admin_menu.count("Indicateurs régionaux") == 1


def test_the_indicator_pages_are_linked_by_tabs(seeded):
    page = seeded.client("ars_viewer").get(reverse("web:aggregates")).content.decode()
    assert "Les indicateurs régionaux" in page
    assert reverse("findings:ars_dashboard") in page


def test_region_table_has_a_risk_column(seeded):
    html = seeded.client("centre_admin").get(reverse("core:region")).content.decode()
    assert "Risque" in html and "2 critiques" in html


def test_the_audit_log_shows_words_to_a_director(seeded):
    reports.structure_report_pdf(seeded.users["director"], seeded.a, part="summary")
    html = seeded.client("director").get(reverse("audit:list")).content.decode()
    assert "Rapport téléchargé" in html
    html = re.sub(r'(value|title)="[^"]*"', "", html)  # what is read, not the form's values
    for code in ("report.download", "True", "False", "document_sha256", "<code>"):
        assert code not in html, code


def test_labels_of_codes():
    assert action_label("report.download") == "Rapport téléchargé"
    assert action_label("mandate.revoke") == "Mandat — révocation"
    assert action_label("awareness.campaign.launch") == "Sensibilisation — campagne : lancement"
    assert "." not in action_label("something.unknown")
    lines = describe_changes({"document_sha256": "ab" * 4, "all_assets": True, "x": None})
    assert lines[0].field == "Empreinte du document (SHA-256)"
    assert lines[1].after == "oui" and lines[2].after == "—"
    assert "trop rapide" in bot_reasons(["too_fast"])
    assert ad_rule("no_such_rule") == "no such rule"
    rule = next(r for r in registry.all_rules().values() if r.title_en)
    with translation.override("en"):
        assert ad_title({"rule": rule.id, "title": rule.title_fr}) == rule.title_en
    with translation.override("fr"):
        assert ad_title({"rule": rule.id, "title": rule.title_fr}) == rule.title_fr
        assert ad_rule(rule.id) == rule.title_fr


@pytest.mark.parametrize(
    ("language", "big", "decimal"),
    [("fr", {"12\u202f345", "12\xa0345"}, "1,5"), ("en", {"12,345"}, "1.5")],
)
def test_numbers_follow_the_language(language, big, decimal):
    with translation.override(language):
        assert amount(12345) in big
        assert amount(1.5) == decimal
        assert amount(None) == "—"


def test_carbet_help_starts_with_carbets_own_commands(db):
    text = carbet_help()
    first = text.splitlines()[0]
    assert first.startswith("Carbet ")
    assert text.index("Mise en route") < text.index("Services") < text.index("Exploitation")
    assert "  demo " in text and "  serve " in text and "carbet help --all" in text
    assert "runserver" not in text  # Django's list only behind help --all


def test_director_summary_keeps_to_two_pages_with_long_content(seeded):
    long = "Une faiblesse au titre très long qui décrit en détail " * 4
    ingest(
        seeded.a,
        "manual",
        [
            FindingInput(
                title=f"{long} n° {n}",
                fingerprint=f"long-{n}",
                severity="critical",
                remediation="Appliquer le correctif. " * 40,
            )
            for n in range(12)
        ],
        complete=False,
    )
    summary = reports.structure_report_pdf(seeded.users["director"], seeded.a, part="summary")
    assert len(PdfReader(io.BytesIO(summary)).pages) == reports.SUMMARY_PAGES
    full = reports.structure_report_pdf(seeded.users["director"], seeded.a, part="full")
    pages = PdfReader(io.BytesIO(full)).pages
    assert "Annexe" in (pages[reports.SUMMARY_PAGES].extract_text() or "")


def test_carbet_help_runs_as_a_command(tmp_path):
    """The real command, in its own process (the module loads before Django's settings)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["CARBET_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "--help"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Carbet ") and "Mise en route" in done.stdout
