"""The service contract: what the kernel learns from the services' specs, and that it learns it
in any fresh process (the directory score once went missing from the nightly snapshots because
it registered itself only when a module happened to be imported)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from carbet import conf
from carbet.accounts.roles import MATRIX
from carbet.core import contract
from carbet.core.choices import mandate_kinds
from carbet.core.contract import Choice, ContractError, NavEntry, Permission, ServiceSpec

ROOT = Path(settings.BASE_DIR).parent
SERVICES = [
    "exposure", "directory", "awareness", "bydesign", "crisis", "exercises", "roadmap",
    "community",
]  # fmt: skip
SERVICE_PERMISSIONS = {
    "exposure.view", "exposure.run", "exposure.manage", "feeds.manage",
    "directory.view", "directory.run", "directory.upload", "directory.connection",
    "directory.exception",
    "awareness.view", "awareness.manage", "awareness.nominative", "training.manage",
    "roadmap.view", "roadmap.edit", "roadmap.answer", "backup.edit", "framework.manage",
    "bydesign.view", "bydesign.edit", "bydesign.decide", "bydesign.vendor", "bydesign.region",
    "crisis.report", "crisis.view", "crisis.contribute", "crisis.manage", "crisis.aggregates",
    "exercises.view", "exercises.manage", "exercises.run", "exercises.regional",
    "community.view", "community.inventory", "community.acknowledge", "community.aid",
    "community.interest", "community.publish", "community.region", "community.exchange",
}  # fmt: skip
SCORES = {"exposure", "directory", "awareness", "roadmap"}


def test_the_services_are_found_and_registered():
    assert [spec.name for spec in contract.services()] == SERVICES
    assert {f"carbet.{name}" for name in SERVICES} <= set(settings.INSTALLED_APPS)


def test_permissions_navigation_and_kinds_after_setup():
    assert {str(p) for p in contract.permissions()} == SERVICE_PERMISSIONS
    assert SERVICE_PERMISSIONS <= set(MATRIX)
    assert {e.url_name for e in contract.nav_entries()} == {
        "exposure:overview",
        "directory:index",
        "awareness:index",
        "roadmap:home",
        "bydesign:home",
        "community:home",
        "crisis:index",
        "crisis:ars",
        "exercises:ars",
        "exercises:index",
    }  # fmt: skip  (roadmap:regional is a tab of the regional indicators, not a menu entry)
    for entry in contract.nav_entries():
        reverse(entry.url_name)
    assert [code for code, _label in mandate_kinds()] == [
        "exposure_scan", "directory_audit", "phishing", "exercise",
    ]  # fmt: skip
    assert {k.code for k in contract.evidence_kinds()} == {
        "exposure_scan", "directory_audit", "phishing_campaign", "restore_test",
        "security_decision", "crisis_lessons", "exercise",
    }  # fmt: skip
    assert {s.code for s in contract.findings_sources()} == {
        "exposure", "directory", "awareness", "roadmap", "bydesign", "crisis", "exercise",
        "community",
    }  # fmt: skip


def test_inventory_providers_are_declared_by_the_services_that_see_products():
    """The software inventory reads what exposure scans and directory audits saw through the
    contract (``ServiceSpec.inventory``), never by importing those services."""
    declaring = {spec.name for spec in contract.services() if spec.inventory}
    assert declaring == {"exposure", "directory"}
    assert contract.detected_products([]) == []


def test_score_providers_in_a_fresh_process():
    """The bug of the nightly job: a fresh process must know every service's score."""
    code = (
        "import django, json; django.setup();"
        "from carbet.findings.posture import snapshots;"
        "print(json.dumps(sorted(snapshots._SCORE_PROVIDERS)))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
        check=True, timeout=120,
    )  # fmt: skip
    assert set(json.loads(out.stdout.strip().splitlines()[-1])) == SCORES


def test_every_declared_doc_walk_seed_and_periodic_job_exists():
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for spec in contract.services():
        assert (ROOT / spec.docs).is_file(), spec.docs
        assert Path(spec.docs).name in index, f"{spec.docs} is missing from docs/index.md"
        assert (ROOT / spec.walk_seed).is_file(), spec.walk_seed
        for job in spec.periodic_jobs:
            assert f"carbet {job.command}" in operations, job.command


def test_services_are_discovered_from_their_folder(tmp_path):
    (tmp_path / "newservice").mkdir()
    (tmp_path / "newservice" / "service.py").write_text("SERVICE = None\n")
    (tmp_path / "newservice" / "apps.py").write_text("")
    (tmp_path / "helpers").mkdir()  # no service.py: not a service
    (tmp_path / "helpers" / "apps.py").write_text("")
    assert conf.service_apps(tmp_path) == ["carbet.newservice"]


@pytest.fixture
def scratch_service():
    perm = Permission("scratch.view", "Voir", {"centre_admin"})
    spec = ServiceSpec(
        name="scratch",
        label="Service d'essai",
        nav=(NavEntry("Essai", "core:region", perm, order=350),),
        permissions=(perm,),
        mandate_kinds=(Choice("scratch_kind", "Essai"),),
        evidence_kinds=(Choice("scratch_fact", "Essai"),),
    )
    contract.register(spec)
    yield spec
    contract._SERVICES.pop("scratch")
    MATRIX.pop(perm)


def test_a_new_service_plugs_in_without_kernel_edits(scratch_service):
    """Registering a spec is all it takes: matrix, menu, mandate kinds, evidence kinds."""
    assert MATRIX["scratch.view"] == frozenset({"centre_admin"})
    assert "scratch_kind" in dict(mandate_kinds())
    assert any(e.url_name == "core:region" and e.order == 350 for e in contract.nav_entries())
    from carbet.accounts import permdoc

    assert "scratch.view" in permdoc.render_markdown()
    with pytest.raises(ContractError):
        contract.register(ServiceSpec(name="scratch", label="Encore"))
    with pytest.raises(ContractError):  # a kind is one service's
        contract.register(
            ServiceSpec(name="scratch2", label="x", mandate_kinds=(Choice("scratch_kind"),))
        )


def test_unknown_evidence_kind_is_refused():
    with pytest.raises(ContractError):
        contract.record_evidence(None, "no_such_fact")


KERNEL_FILES = [
    "carbet/settings.py",
    "carbet/urls.py",
    "carbet/web/context.py",
    "carbet/accounts/roles.py",
    "carbet/core/choices.py",
    "carbet/core/selectors.py",
    "carbet/core/contract.py",
    "carbet/core/imap.py",
    "carbet/core/pageforms.py",
    "carbet/core/validators.py",
]


def _code_names(path: Path) -> set[str]:
    """Identifiers and string constants of a module, docstrings and comments left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    for node in ast.walk(tree):  # docstrings are prose, not references
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                names.discard(value.value)
    return names


@pytest.mark.parametrize("relative", KERNEL_FILES)
def test_kernel_files_name_no_service(relative):
    names = _code_names(ROOT / relative)
    offending = sorted(
        name for name in names for service in SERVICES if f"carbet.{service}" in name
        or name.startswith(f"{service}:") or name.upper().startswith(f"{service.upper()}_")
    )  # fmt: skip
    assert not offending, f"{relative} names a service: {offending}"
