"""The every-route cross-tenant walk (``tests/test_cross_tenant_walk.py``), narrowed to the
pages of mutual aid and shared solutions so that it runs in a minute: with the walk's own
region and seeds, B's people get 403/404/405 on every route of both parts for every id of A's,
and the pages without ids show nothing of A."""

from __future__ import annotations

from tests.test_cross_tenant_walk import (  # noqa: F401 - walk_region is a fixture
    A_MARKERS,
    ALLOWED,
    WALK_ROLES,
    _candidate_ids,
    _client,
    _fill,
    _param_names,
    all_routes,
    walk_region,
)

PARTS = ("community:aid", "community:solutions")


def _routes():
    return [r for r in all_routes() if r[1].startswith(PARTS)]


def test_every_route_of_both_parts_refuses_another_structures_objects(walk_region):  # noqa: F811
    routes = [r for r in _routes() if _param_names(r[2], r[0])]
    assert len(routes) >= 14
    clients = {name: _client(walk_region["users"][name]) for name in WALK_ROLES}
    failures, walked = [], 0
    for route, name, pattern in routes:
        params = _param_names(pattern, route)
        for role, client in clients.items():
            for candidate in _candidate_ids(next(iter(params.values())), walk_region):
                path = _fill(route, dict.fromkeys(params, candidate))
                for method in ("get", "post"):
                    response = getattr(client, method)(path)
                    walked += 1
                    if response.status_code not in ALLOWED:
                        failures.append(f"{role} {method} {path} ({name}) → {response.status_code}")
    assert walked > 0
    assert not failures, "\n".join(failures[:50])


def test_pages_without_ids_show_nothing_of_a(walk_region):  # noqa: F811
    routes = [r for r in _routes() if not _param_names(r[2], r[0])]
    assert len(routes) >= 8
    failures = []
    clients = {name: _client(user) for name, user in walk_region["users"].items()}
    for route, name, _pattern in routes:
        for role, client in clients.items():
            response = client.get(_fill(route, {}))
            if response.status_code >= 500:
                failures.append(f"{role} {route} → {response.status_code}")
                continue
            text = response.content.decode("utf-8", "replace")
            failures += [f"{role} {route} ({name}) shows {m!r}" for m in A_MARKERS if m in text]
    assert not failures, "\n".join(failures)
