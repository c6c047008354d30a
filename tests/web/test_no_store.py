"""``Cache-Control: no-store`` on every response Carbet builds, static assets excepted.

The route inventory is the cross-tenant walk's (tests/test_cross_tenant_walk.py) and the API
walk's (tests/api/walk.py): a route added later is checked without anyone listing it here.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from carbet.accounts.models import ApiToken
from carbet.core.models import Mandate
from tests import test_cross_tenant_walk as tenant_walk
from tests.api import walk as api_walk
from tests.conftest import login
from tests.test_cross_tenant_walk import (
    API_PREFIX,
    SKIP_PATTERN_PREFIXES,
    _candidate_ids,
    _fill,
    _param_names,
    all_routes,
)

# The cross-tenant walk's region: structure A's objects, every kind of row the routes take.
walk_region = tenant_walk.walk_region

API = "/api/v1"


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "").lower()


def _describe(method: str, path: str, response) -> str:
    header = response.get("Cache-Control")
    return f"{method} {path} → {response.status_code} Cache-Control={header!r}"


def test_every_page_fragment_and_download_says_no_store(walk_region):
    """As an administrator of the centre (who can open A's objects, so detail pages, downloads
    and exports answer 200), every route, with and without htmx, GET and POST."""
    from carbet.accounts.models import User
    from carbet.accounts.roles import CentreRole

    admin = User.objects.create_user(
        username="walker@centre.test", email="walker@centre.test", centre_role=CentreRole.ADMIN
    )
    client = login(Client(), admin)
    failures: list[str] = []
    walked = ok_pages = 0
    for route, _name, pattern in all_routes():
        if route.startswith((*SKIP_PATTERN_PREFIXES, API_PREFIX)):
            continue
        params = _param_names(pattern, route)
        candidates = (
            _candidate_ids(next(iter(params.values())), walk_region) if params else [""]
        )
        for candidate in candidates:
            path = _fill(route, dict.fromkeys(params, candidate))
            # Empty POSTs may reset the walker's own second factor or end its session (its id
            # is one of the candidates): sign in afresh for each path.
            login(client, admin)
            responses = [
                ("GET", client.get(path)),
                ("GET htmx", client.get(path, headers={"HX-Request": "true"})),
            ]
            responses.append(("POST", client.post(path)))
            for method, response in responses:
                walked += 1
                if not no_store(response):
                    failures.append(_describe(method, path, response))
            status = responses[0][1].status_code
            ok_pages += status == 200
            if status != 404:
                break  # an object that exists for this route (or a POST-only route): enough
    assert walked > 100 and ok_pages > 30, (walked, ok_pages)
    assert not failures, "responses without no-store:\n" + "\n".join(failures[:50])


def test_every_api_route_says_no_store_with_a_token(walk_region):
    from carbet.accounts.models import User
    from carbet.accounts.roles import CentreRole

    admin = User.objects.create_user(
        username="api-walker@centre.test",
        email="api-walker@centre.test",
        centre_role=CentreRole.ADMIN,
    )
    _token, raw = ApiToken.issue(admin, "walk")
    client = Client()
    headers = {"Authorization": f"Bearer {raw}"}
    a_ids = [str(i) for i in _candidate_ids("int", walk_region)[:5]]
    schema = api_walk.openapi()
    failures: list[str] = []
    walked = answered = 0
    for template, operations in schema["paths"].items():
        params = api_walk.path_parameters(template)
        values = dict.fromkeys(params, a_ids[0])
        if any(name == "id" and segment == "jobs" for segment, name in params):
            values[("jobs", "id")] = str(walk_region["job"].pk)
        path = api_walk.fill(template, values)
        for method in operations:
            if method.upper() not in {"GET", "POST", "PATCH", "PUT", "DELETE"}:
                continue
            response = getattr(client, method.lower())(path, headers=headers)
            walked += 1
            answered += response.status_code == 200
            if not no_store(response):
                failures.append(_describe(method.upper(), path, response))
    assert walked > 10 and answered > 5, (walked, answered)
    assert not failures, "API responses without no-store:\n" + "\n".join(failures[:50])


def test_static_assets_stay_cacheable(db):
    response = Client().get("/static/carbet/carbet.css")
    assert response.status_code == 200
    assert not no_store(response)


def test_export_mandate_document_and_api_json_explicitly(region):
    client = region.client("centre_admin")
    for fmt in ("csv", "xlsx"):
        export = client.get(reverse("core:export_structures"), {"format": fmt})
        assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
        assert export["Cache-Control"] == "no-store"
    mandate = Mandate.objects.filter(structure=region.a).first()
    document = client.get(reverse("core:mandate_document", args=[mandate.pk]))
    assert document.status_code == 200 and document.streaming
    assert document["Cache-Control"] == "no-store"
    _token, raw = ApiToken.issue(region.users["director"], "script")
    api = Client().get(f"{API}/structures", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200 and api["Content-Type"].startswith("application/json")
    assert api["Cache-Control"] == "no-store"
    refused = Client().get(f"{API}/structures", headers={"Authorization": "Bearer cbt_nope"})
    assert refused.status_code == 401 and refused["Cache-Control"] == "no-store"


def test_public_pages_that_carry_tokens_are_not_cached(db):
    login_page = Client().get(reverse("accounts:login"))
    assert login_page.status_code == 200 and no_store(login_page)
    link = Client().get("/compte/mot-de-passe/MQ/not-a-token/")
    assert no_store(link)
    for path in ("/s/not-a-token/p", "/s/not-a-token/c", "/s/formation/not-signed/"):
        assert no_store(Client().get(path)), path
