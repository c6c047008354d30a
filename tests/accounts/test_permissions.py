"""The role matrix as enforced by ``can()``, and its generated documentation."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from carbet.accounts.permdoc import render_markdown
from carbet.accounts.roles import MATRIX, CentreRole, Perm, StructureRole
from carbet.core.tenancy import can
from tests.conftest import make_user

DOC = Path(settings.BASE_DIR).parent / "docs" / "permissions.md"


def test_permissions_doc_is_generated_from_the_matrix():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/permissions.md is out of date: run `carbet permissions-doc --write`"
    )


def test_permissions_doc_mentions_every_permission_and_the_scopes():
    text = render_markdown()
    for perm in Perm:
        assert f"(`{perm.value}`)" in text
    for word in ("structure", "organisation", "GHT", "agrégés", "obligatoire"):
        assert word in text


def test_permissions_doc_command_prints_and_writes(tmp_path):
    out = StringIO()
    call_command("permissions-doc", stdout=out)
    assert out.getvalue() == render_markdown()
    target = tmp_path / "perm.md"
    call_command("permissions-doc", "--write", "--output", str(target), stdout=StringIO())
    assert target.read_text(encoding="utf-8") == render_markdown()


@pytest.mark.parametrize("role", [r.value for r in CentreRole if r.value])
def test_centre_roles_follow_the_matrix_everywhere(region, role):
    user = make_user(f"{role}@matrix.test", role)
    for perm in Perm:
        expected = role in MATRIX[perm]
        assert can(user, perm, region.a) is expected, (role, perm)
        assert can(user, perm, region.b) is expected, (role, perm)
        assert can(user, perm) is expected, (role, perm)


@pytest.mark.parametrize("role", [r.value for r in StructureRole])
@pytest.mark.parametrize("scope", ["structure", "organisation", "ght"])
def test_structure_roles_follow_the_matrix_on_their_scope_only(region, role, scope):
    own = {"structure": region.a, "organisation": region.org_a, "ght": region.ght}[scope]
    user = make_user(f"{role}.{scope}@matrix.test", **{role: [own]})
    for perm in Perm:
        expected = role in MATRIX[perm]
        assert can(user, perm, region.a) is expected, (role, scope, perm, "own structure")
        assert can(user, perm, region.b) is False, (role, scope, perm, "other structure")
        assert can(user, perm) is expected, (role, scope, perm, "no structure")
    # An organisation or GHT membership also covers the sibling structure a2.
    for perm in Perm:
        sibling = role in MATRIX[perm] and scope != "structure"
        assert can(user, perm, region.a2) is sibling, (role, scope, perm, "sibling")


def test_account_without_role_can_do_nothing(region):
    user = make_user("plain@matrix.test")
    for perm in Perm:
        assert not can(user, perm, region.a)
        assert not can(user, perm)


def test_inactive_account_can_do_nothing(region):
    admin = region.users["centre_admin"]
    admin.is_active = False
    for perm in Perm:
        assert not can(admin, perm, region.a)


def test_permissions_page_lists_the_matrix(region):
    body = region.client("it_provider").get(reverse("accounts:permissions")).content.decode()
    for perm in Perm:
        assert str(perm.label).replace("'", "&#x27;") in body
    assert Client().get(reverse("accounts:permissions")).status_code == 302
