"""The cross-tenant walk over every API route.

For each route of ``api_route_inventory()`` that names an object in its path, users of
structure B call it with the ids of structure A's objects, with a body the route accepts: every
call must be refused with 403 or 404 in the error format, and A's data must be unchanged.
A parameter the table below does not know fails the test, so a new route cannot escape the
walk: add a line to ``OBJECT_PARAMETERS`` that finds or makes A's object for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from carbet.accounts.roles import StructureRole
from carbet.api.urls import api_route_inventory
from carbet.core.models import Asset, Contact, Mandate
from carbet.core.tenancy import SYSTEM
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import ActionEvidence, ActionItem, Campaign, Finding, RiskAcceptance
from carbet.jobs import services as jobs
from carbet.jobs.models import Job
from tests.api.conftest import assert_error, token_client
from tests.api.walk import call, fill, openapi, path_parameters
from tests.conftest import make_user
from tests.walk_seeds import api_object_parameters


def _job(region) -> Job:
    return jobs.submit("platform.selftest", structure=region.a, actor=SYSTEM, title="A job")


def _action(region) -> ActionItem:
    return ActionItem.objects.get_or_create(structure=region.a, title="Action of A")[0]


def _finding(region) -> Finding:
    ingest(
        region.a,
        "exposure",
        [FindingInput(title="Finding of A", fingerprint="walk-a")],
        complete=False,
    )
    return Finding.objects.get(structure=region.a, fingerprint="walk-a")


def _acceptance(region) -> RiskAcceptance:
    acceptance, created = RiskAcceptance.objects.get_or_create(
        structure=region.a,
        defaults={
            "justification": "Acceptance of A",
            "compensating_measures": "Measures",
            "expires_on": dt.date.today() + dt.timedelta(days=30),
        },
    )
    if created:
        acceptance.findings.add(_finding(region))
    return acceptance


# (path segment before the parameter, parameter name) → one of A's objects (found or made).
# A new route whose parameter is not here fails the walk: add a line for its object.
OBJECT_PARAMETERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("ghts", "id"): lambda region: region.ght,
    ("organisations", "id"): lambda region: region.org_a,
    ("structures", "id"): lambda region: region.a,
    ("contacts", "id"): lambda region: Contact.objects.get(structure=region.a),
    ("assets", "id"): lambda region: Asset.objects.get(structure=region.a),
    ("mandates", "id"): lambda region: Mandate.objects.get(structure=region.a),
    ("jobs", "id"): _job,
    ("actions", "id"): _action,
    ("evidence", "id"): lambda region: ActionEvidence.objects.get_or_create(
        action=_action(region), note="Evidence of A"
    )[0],
    ("findings", "id"): lambda region: _finding(region),
    ("acceptances", "id"): lambda region: _acceptance(region),
    # Regional campaigns belong to the centre: structure users get 403 on them.
    ("campaigns", "id"): lambda region: Campaign.objects.get_or_create(
        title="Campaign", notice="Notice"
    )[0],
}
# Services add theirs in tests/<app>/walk_seed.py (API_OBJECT_PARAMETERS).
OBJECT_PARAMETERS.update(api_object_parameters())


def a_objects(region) -> dict[tuple[str, str], str]:
    """The id of A's object for each known parameter (A is in org A and the GHT; no B user
    belongs to either)."""
    return {key: str(make(region).pk) for key, make in OBJECT_PARAMETERS.items()}


def routes_with_objects() -> list[tuple[str, str, list[tuple[str, str]]]]:
    routes = []
    unknown = []
    for method, template in api_route_inventory():
        params = path_parameters(template)
        if not params:
            continue
        unknown += [f"{method} {template}: {p}" for p in params if p not in OBJECT_PARAMETERS]
        routes.append((method, template, params))
    assert not unknown, (
        "API routes with a path parameter the cross-tenant walk cannot fill; add them to "
        "OBJECT_PARAMETERS in tests/api/test_cross_tenant_api.py:\n" + "\n".join(unknown)
    )
    return routes


def test_every_api_route_refuses_another_structures_objects(region):
    b = region.b
    b_users = {
        "director_b": region.users["director_b"],
        "referent_b": make_user("ref@beta.test", **{StructureRole.REFERENT: [b]}),
        "it_b": make_user("it@beta.test", **{StructureRole.IT_PROVIDER: [b]}),
        "org_director_b": make_user("dg@beta.test", **{StructureRole.DIRECTOR: [region.org_b]}),
    }
    objects = a_objects(region)
    schema = openapi()
    routes = routes_with_objects()
    assert len(routes) >= 18, routes
    secrets = (region.a.name, region.a.finess_et, "alpha.test", region.org_a.name)
    failures, walked = [], 0
    for role, user in b_users.items():
        client = token_client(user)
        for method, template, params in routes:
            path = fill(template, {p: objects[p] for p in params})
            response = call(client, method, template, path, schema)
            walked += 1
            if response.status_code not in (403, 404):
                failures.append(f"{role} {method} {path} → {response.status_code}")
                continue
            assert_error(response, response.status_code)
            text = response.content.decode()
            failures += [f"{role} {method} {path} shows {s!r}" for s in secrets if s in text]
    assert walked >= 4 * 18
    assert not failures, "cross-tenant access through the API:\n" + "\n".join(failures)
    # Nothing of A's changed.
    assert Asset.objects.filter(pk=objects[("assets", "id")], validated=True).exists()
    assert Contact.objects.filter(pk=objects[("contacts", "id")]).exists()
    assert Mandate.objects.get(pk=objects[("mandates", "id")]).status == "active"
    assert Mandate.objects.filter(structure=region.a).count() == 1


def test_the_walks_calls_reach_real_objects(region):
    """Positive control: the same calls by centre staff are not 404s, so the walk's ids and
    bodies are right (a walk that only ever hit missing objects would prove nothing)."""
    objects = a_objects(region)
    schema = openapi()
    client = token_client(region.users["centre_admin"])
    routes = sorted(routes_with_objects(), key=lambda r: r[0] == "DELETE")
    for method, template, params in routes:
        path = fill(template, {p: objects[p] for p in params})
        response = call(client, method, template, path, schema)
        assert response.status_code != 404 and response.status_code < 500, (
            method,
            path,
            response.status_code,
            response.content[:300],
        )


def test_every_route_of_the_inventory_is_served(region):
    """The inventory is what Django routes: each template resolves to the API."""
    from django.urls import resolve

    for _method, template in api_route_inventory():
        path = template.replace("{id}", "1")
        if "/jobs/" in template:
            path = template.replace("{id}", "6f1c1a4e-8a53-4a2e-9a51-0d4b8cf2a111")
        match = resolve(path)
        assert match.url_name != "api-not-found", template
