"""The every-route cross-tenant walk.

Enumerates every URL pattern of the project (pages, fragments, downloads and the JSON API) and,
for each role of structure B (and for the ARS and account-less users), asks for structure A's
objects by id: everything must be refused (403/404/405). Pages without ids must not show any
of A's identifying data. New services' routes are walked automatically: a route whose
parameter the walk cannot fill fails the test until the walk learns about it.

Ids are made disjoint on purpose: B's rows get ids far above A's, so any small id the walk
tries can only be one of A's objects (or nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from carbet.accounts.models import ApiToken, User
from carbet.accounts.roles import CentreRole, StructureRole
from carbet.audit import services as audit
from carbet.core.models import Asset, Contact, Organisation, Structure
from carbet.core.tenancy import SYSTEM
from carbet.jobs import services as jobs
from tests.conftest import login, make_mandate, make_user
from tests.walk_seeds import seed_services

A_MARKERS = ("970200010", "secret-alpha-asset.test", "CH Alpha-Secret", "Mme Alpha Secrète")
B_ID_OFFSET = 100_000
# 401: the JSON API ignores sessions (tokens only), so these session clients are refused
# there before any lookup; the same walk with tokens is tests/api/test_cross_tenant_api.py.
ALLOWED = {401, 403, 404, 405}
# Routes that are public by design (no tenant data): login, language switch, health...
PUBLIC_ROUTE_NAMES = {
    "set_language",
    "web:health",
    "accounts:login",
    "accounts:set_password",
}
# Query-string-free pages where showing nothing of A is enough (lists, forms, dashboards).
SKIP_PATTERN_PREFIXES = ("static/",)
# The API refuses session clients before any lookup (401); tests/api walks every API route with
# personal tokens instead, built from the same route inventory.
API_PREFIX = "api/"
# Roles of B the id walk acts as: each reaches B through a different kind of grant.
WALK_ROLES = ("director_b", "it_b", "org_director_b", "ars")


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield prefix + str(entry.pattern), name, entry


def all_routes() -> list[tuple[str, str, URLPattern]]:
    return list(_walk(get_resolver()))


def _param_names(pattern: URLPattern, route: str) -> dict[str, str]:
    """Parameter name → converter kind ('int', 'uuid', 'str', 'path', ...) of a full route."""
    import re

    found = {}
    for match in re.finditer(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", route):
        found[match.group("name")] = match.group("conv") or "str"
    for match in re.finditer(r"\(\?P<(?P<name>\w+)>", route):
        found[match.group("name")] = "str"
    return found


def _fill(route: str, values: dict[str, str]) -> str:
    import re

    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], path)
    return "/" + path.lstrip("^").rstrip("$").replace("\\", "")


@pytest.fixture
def walk_region(db):
    """Structure A holds distinctive data; every row of B has an id above B_ID_OFFSET."""
    org_a = Organisation.objects.create(
        finess_ej="750712184", name="CH Alpha-Secret", legal_status="public"
    )
    a = Structure.objects.create(
        finess_et="970200010",
        name="CH Alpha-Secret site",
        organisation=org_a,
        category="ch",
        departement="972",
    )
    org_b = Organisation.objects.create(
        pk=B_ID_OFFSET, finess_ej="750100125", name="Beta", legal_status="private"
    )
    b = Structure.objects.create(
        pk=B_ID_OFFSET,
        finess_et="970200036",
        name="EHPAD Beta",
        organisation=org_b,
        category="ehpad",
        departement="971",
    )
    Asset.objects.create(
        structure=a, kind="domain", value="secret-alpha-asset.test", validated=True
    )
    Asset.objects.create(pk=B_ID_OFFSET, structure=b, kind="domain", value="beta.test")
    Contact.objects.create(structure=a, role="director", name="Mme Alpha Secrète")
    Contact.objects.create(pk=B_ID_OFFSET, structure=b, role="director", name="M. Beta")
    make_mandate(a)
    make_mandate(b, pk=B_ID_OFFSET)
    audit.record(SYSTEM, "walk.seed", a)
    _seed_findings(a)
    seed_services(a)  # each service's tests/<app>/walk_seed.py
    job = jobs.submit("platform.selftest", structure=a, actor=SYSTEM, title="Alpha job")
    owner_a = make_user("owner@alpha.test", **{StructureRole.DIRECTOR: [a]})
    token, _raw = ApiToken.issue(owner_a, "alpha token")
    users = {
        "director_b": make_user("dir@beta.test", **{StructureRole.DIRECTOR: [b]}),
        "referent_b": make_user("ref@beta.test", **{StructureRole.REFERENT: [b]}),
        "it_b": make_user("it@beta.test", **{StructureRole.IT_PROVIDER: [b]}),
        "org_director_b": make_user("dg@beta.test", **{StructureRole.DIRECTOR: [org_b]}),
        "ars": make_user("ars@ars.test", CentreRole.ARS),
        "nobody": make_user("nobody@nowhere.test"),
    }
    return {"a": a, "b": b, "job": job, "users": users, "owner_a": owner_a, "token": token}


def _seed_findings(structure: Structure) -> None:
    """A finding, an action with evidence, an acceptance request and a campaign for A."""
    import datetime as dt

    from django.core.files.base import ContentFile

    from carbet.findings.ingest import FindingInput, ingest
    from carbet.findings.models import (
        ActionEvidence,
        ActionItem,
        Campaign,
        Finding,
        PostureSnapshot,
        RiskAcceptance,
    )

    ingest(
        structure,
        "manual",
        [FindingInput(title="CH Alpha-Secret finding", fingerprint="alpha-secret", severity=4)],
        complete=False,
    )
    finding = Finding.objects.get(fingerprint="alpha-secret")
    action = ActionItem.objects.create(structure=structure, title="CH Alpha-Secret action")
    action.findings.add(finding)
    evidence = ActionEvidence(action=action, note="CH Alpha-Secret proof")
    evidence.document.save("proof.txt", ContentFile(b"proof"), save=False)
    evidence.save()
    acceptance = RiskAcceptance.objects.create(
        structure=structure,
        justification="CH Alpha-Secret",
        compensating_measures="none",
        expires_on=dt.date.today() + dt.timedelta(days=30),
    )
    acceptance.findings.add(finding)
    Campaign.objects.create(title="CH Alpha-Secret campaign", notice="notice", match_cve="CVE-1")
    PostureSnapshot.objects.create(structure=structure, day=dt.date.today())


def _candidate_ids(kind: str, data) -> list[str]:
    """One id of A's rows per model of the project (its first row), for the given converter.

    One per model is enough: a route's parameter names one model, and with B's rows above
    B_ID_OFFSET the first row of each model below it is one of A's (or shared reference data).
    More rows of the same model would only repeat the same tenancy check (and used to make the
    walk ~30 times longer: every route × role × method × every id of every model).
    """
    ints: set[int] = set()
    uuids: set[str] = {str(data["job"].pk), str(uuid.uuid4())}
    for model in apps.get_models():
        if not model.__module__.startswith("carbet."):
            continue
        pk_field = model._meta.pk
        first = (
            model._default_manager.filter(pk__lt=B_ID_OFFSET)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if first is None:
            continue
        if isinstance(pk_field, models.UUIDField):
            uuids.add(str(first))
        elif isinstance(pk_field, models.AutoField | models.BigAutoField | models.IntegerField):
            if isinstance(first, int):
                ints.add(first)
        elif model is User:
            ints.add(first)
    ints.add(data["owner_a"].pk)
    if kind in ("uuid", "uuidstr"):  # uuidstr: django-ninja's converter for {uuid:...}
        return sorted(uuids)
    if kind in ("int", "str", "slug", "path"):
        return [str(i) for i in sorted(ints)] + (sorted(uuids) if kind != "int" else [])
    raise AssertionError(f"the walk does not know how to fill a <{kind}:...> parameter")


def _client(user: User) -> Client:
    return login(Client(), user)


def test_every_route_refuses_another_structures_objects(walk_region):
    routes = all_routes()
    assert len(routes) > 10, "the URL map looks empty"
    failures: list[str] = []
    walked = 0
    users = walk_region["users"]
    clients = {name: _client(users[name]) for name in WALK_ROLES}
    # The candidates do not change during the walk: computed once per converter, not per route.
    candidates: dict[str, list[str]] = {}
    for route, name, _pattern in routes:
        if route.startswith((*SKIP_PATTERN_PREFIXES, API_PREFIX)) or name in PUBLIC_ROUTE_NAMES:
            continue
        params = _param_names(_pattern, route)
        if not params:
            continue
        kinds = set(params.values())
        assert len(kinds) <= 2, route
        for role, client in clients.items():
            # Fill every parameter with the same candidate: with disjoint ids it can only be A's.
            kind = next(iter(params.values()))
            if kind not in candidates:
                candidates[kind] = _candidate_ids(kind, walk_region)
            for candidate in candidates[kind]:
                path = _fill(route, dict.fromkeys(params, candidate))
                for method in ("get", "post"):
                    response = getattr(client, method)(path)
                    walked += 1
                    if response.status_code not in ALLOWED:
                        failures.append(
                            f"{role} {method.upper()} {path} ({name}) → {response.status_code}"
                        )
    assert walked > 0
    assert not failures, "cross-tenant access:\n" + "\n".join(failures[:50])


def test_pages_without_ids_show_nothing_of_another_structure(walk_region):
    failures = []
    clients = {name: _client(user) for name, user in walk_region["users"].items()}
    for route, name, pattern in all_routes():
        if route.startswith(SKIP_PATTERN_PREFIXES) or _param_names(pattern, route):
            continue
        path = _fill(route, {})
        for role, client in clients.items():
            response = client.get(path)
            if response.status_code >= 500:
                failures.append(f"{role} GET {path} → {response.status_code}")
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            for marker in A_MARKERS:
                if marker in text:
                    failures.append(f"{role} GET {path} ({name}) shows {marker!r}")
    assert not failures, "\n".join(failures)


def test_api_token_of_a_structure_cannot_reach_another(walk_region):
    """The same walk through the API with B's director's token is in tests/api; here: A's
    owner token must not reach B's structure either (symmetry)."""
    _token, raw = ApiToken.issue(walk_region["users"]["director_b"], "b token")
    client = Client()
    a = walk_region["a"]
    for path in (f"/api/v1/structures/{a.pk}", f"/api/v1/structures/{a.pk}/assets"):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code in ALLOWED, path
