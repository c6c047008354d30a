"""carbet.core.access: the one 404-then-403 rule of pages and API, and a guard that keeps the
old copies ("get the structure if this person may see it", private ``_require*``) from coming
back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from carbet.accounts.roles import Perm
from carbet.core import access
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import can

CARBET = Path(__file__).resolve().parents[2] / "carbet"


def _lacking(user, structure: Structure) -> Perm:
    """A permission ``user`` does not hold on a structure it sees (for the 403 branch)."""
    return next(p for p in Perm if not can(user, p, structure))


@pytest.mark.django_db
def test_invisible_is_404_visible_without_the_right_is_403(region):
    referent = region.users["referent"]
    assert access.structure_for(referent, region.a.pk) == region.a
    with pytest.raises(Http404):
        access.structure_for(referent, region.b.pk)
    with pytest.raises(Http404):
        access.structure_for(referent, 10**9)
    with pytest.raises(PermissionDenied) as caught:
        access.structure_for(referent, region.a.pk, _lacking(referent, region.a))
    assert "droit" in str(caught.value)
    # never a 403 for another structure's id, whatever the right asked: ids reveal nothing
    with pytest.raises(Http404):
        access.structure_for(referent, region.b.pk, _lacking(referent, region.b))


@pytest.mark.django_db
def test_owned_rows_follow_the_same_rule(region):
    referent = region.users["referent"]
    mine = Asset.objects.create(structure=region.a, kind="domain", value="a.access.example")
    theirs = Asset.objects.create(structure=region.b, kind="domain", value="b.access.example")
    assert access.owned_for(referent, Asset, mine.pk, Perm.ASSET_VIEW) == mine
    with pytest.raises(Http404):
        access.owned_for(referent, Asset, theirs.pk, Perm.ASSET_VIEW)
    with pytest.raises(Http404):  # a narrowed queryset does not widen anything
        access.owned_for(
            referent, Asset.objects.select_related("structure"), theirs.pk, Perm.ASSET_VIEW
        )
    with pytest.raises(PermissionDenied):
        access.owned_for(referent, Asset, mine.pk, _lacking(referent, region.a))
    assert access.structure_of(mine) == region.a


@pytest.mark.django_db
def test_require_and_require_centre(region):
    with pytest.raises(PermissionDenied):
        access.require(region.users["nobody"], Perm.STRUCTURE_VIEW)
    access.require(region.users["centre_analyst"], Perm.STRUCTURE_VIEW)
    director = region.users["director"]
    held = next(p for p in Perm if can(director, p))
    with pytest.raises(PermissionDenied):  # a structure role never edits region-wide settings
        access.require_centre(director, held)


# --- Guard: the family cannot come back --------------------------------------------------------

_ROUTE_MODULE = re.compile(r"(^|/)(views[^/]*|api[^/]*|public_views)\.py$|(^|/)(views|api)/")
_PRIVATE_REQUIRE = re.compile(r"^_require(_|$)")


def _modules() -> list[Path]:
    return sorted(p for p in CARBET.rglob("*.py") if "migrations" not in p.parts)


def _first_argument_names(call: ast.Call) -> set[str]:
    if not call.args:
        return set()
    return {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}


def test_no_route_module_looks_a_structure_up_by_itself():
    offenders = []
    for path in _modules():
        relative = path.relative_to(CARBET).as_posix()
        if not _ROUTE_MODULE.search(relative):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "get_object_or_404"
                and "Structure" in _first_argument_names(node)
            ):
                offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f"use carbet.core.access.structure_for instead: {offenders}"


def test_no_module_defines_its_own_require_helper():
    offenders = []
    for path in _modules():
        relative = path.relative_to(CARBET).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if _PRIVATE_REQUIRE.match(node.name) or (
                    node.name == "require"
                    and relative != "core/access.py"
                    and not relative.startswith("engines/")
                ):
                    offenders.append(f"{relative}:{node.lineno} {node.name}")
    assert not offenders, f"use carbet.core.access.require instead: {offenders}"
