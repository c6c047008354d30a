"""The findings app in three parts (store, plans/, posture/) keeps its public face: every URL name
of the ``findings`` namespace reaches the same address as before the split, each part's API
module is mounted, and the platform helpers other services use live in the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import reverse

import carbet
from carbet.api.urls import api_route_inventory

# name → (args, path under /vulnerabilites/), as they were before the split (issue 12).
ROUTES = {
    "list": ((), ""),
    "detail": ((1,), "1/"),
    "status": ((1,), "1/etat/"),
    "bulk_status": ((), "etat/"),
    "overdue": ((), "en-retard/"),
    "sla_settings": ((), "delais/"),
    "manual_create": ((), "nouvelle/"),
    "manual_assets": ((), "nouvelle/actifs/"),
    "import": ((), "importer/"),
    "export": ((), "exporter/"),
    "acceptance_list": ((), "acceptations/"),
    "acceptance_request": ((), "acceptations/demander/"),
    "acceptance_detail": ((1,), "acceptations/1/"),
    "acceptance_decide": ((1,), "acceptations/1/decision/"),
    "actions": ((), "plans/"),
    "action_create": ((), "plans/nouvelle/"),
    "actions_from_findings": ((), "plans/depuis-vulnerabilites/"),
    "action_detail": ((1,), "plans/1/"),
    "action_edit": ((1,), "plans/1/modifier/"),
    "action_progress": ((1,), "plans/1/avancement/"),
    "action_cancel": ((1,), "plans/1/abandonner/"),
    "evidence_upload": ((1,), "plans/1/preuve/"),
    "evidence_download": ((1,), "plans/preuves/1/telecharger/"),
    "evidence_approve": ((1,), "plans/preuves/1/valider/"),
    "structure_plan": ((1,), "plans/structure/1/"),
    "campaigns": ((), "plans/campagnes/"),
    "campaign_create": ((), "plans/campagnes/nouvelle/"),
    "campaign_detail": ((1,), "plans/campagnes/1/"),
    "campaign_launch": ((1,), "plans/campagnes/1/lancer/"),
    "dashboard": ((), "tableau-de-bord/"),
    "centre_dashboard": ((), "tableau-de-bord/region/"),
    "structure_dashboard": ((1,), "tableau-de-bord/structure/1/"),
    "ars_dashboard": ((), "tableau-de-bord/regional/"),
    "posture_export": ((), "tableau-de-bord/export/"),
    "structure_report": ((1,), "rapports/structure/1/"),
    "regional_report": ((), "rapports/regional/"),
}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_findings_url_name_keeps_its_address(name):
    args, path = ROUTES[name]
    assert reverse(f"findings:{name}", args=args) == f"/vulnerabilites/{path}"


def test_the_plans_api_of_the_sub_package_is_mounted():
    routes = set(api_route_inventory())
    assert ("GET", "/api/v1/actions") in routes  # carbet/findings/plans/api.py
    assert ("GET", "/api/v1/findings") in routes  # carbet/findings/api.py


def test_other_services_take_platform_helpers_from_the_core():
    """Only the findings store's public API (ingest, models, choices, a few services) and the
    posture's score registry are imported from ``carbet.findings`` by other apps: PDF, links
    and recipients come from ``carbet.core``."""
    root = Path(carbet.__file__).parent
    offending = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "findings"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "carbet.findings"
            ):
                names = {alias.name for alias in node.names}
                if names & {"html_to_pdf", "PDF_VARIANT", "recipients", "Recipient", "_base_url"}:
                    offending.append(f"{path.relative_to(root)}: {node.module}")
    assert not offending
