"""Mutual aid through the API: the audience rule, conversations without addresses, the
skills directory, and every route refused across structures."""

from __future__ import annotations

import json

import pytest

from carbet.community import services_aid
from tests.api.conftest import assert_error, token_client

BASE = "/community/aid"


@pytest.fixture
def api(region):
    clients = {}

    def for_role(role):
        if role not in clients:
            clients[role] = token_client(region.users[role])
        return clients[role]

    return for_role


def test_posts_threads_and_profiles(region, api, smtp_inbox):
    created = api("director").post(
        f"{BASE}/posts",
        {
            "structure": region.a.pk,
            "kind": "offer",
            "topic": "staff",
            "title": "DPO partagé",
            "body": "Deux jours par mois.",
            "audience": "ght",
        },
    )
    assert created.status_code == 201, created.content
    post = created.json()
    assert post["own"] is True and post["audience"] == "ght"
    # a2 is in the GHT: sees it and answers; B has no GHT: 404 everywhere.
    a2_director = _a2_director(region)
    client_a2 = token_client(a2_director)
    assert client_a2.get(f"{BASE}/posts/{post['id']}").status_code == 200
    answered = client_a2.post(
        f"{BASE}/posts/{post['id']}/threads", {"structure": region.a2.pk, "body": "Intéressés"}
    )
    assert answered.status_code == 201, answered.content
    thread = answered.json()
    assert thread["messages"][0]["author"] == "dir2"
    assert "@" not in answered.content.decode()
    assert_error(api("director_b").get(f"{BASE}/posts/{post['id']}"), 404)
    assert_error(api("director_b").get(f"{BASE}/threads/{thread['id']}"), 404)
    assert_error(
        api("director_b").post(
            f"{BASE}/posts/{post['id']}/threads", {"structure": region.b.pk, "body": "x"}
        ),
        404,
    )
    assert api("director_b").get(f"{BASE}/posts").json()["count"] == 0
    # A's director reads and answers; a2's director is told by e-mail.
    smtp_inbox.messages.clear()
    reply = api("director").post(f"{BASE}/threads/{thread['id']}/messages", {"body": "Merci"})
    assert reply.status_code == 201 and len(reply.json()["messages"]) == 2
    assert set(smtp_inbox.by_recipient()) == {"dir2@ehpad-alpha.test"}
    # Status and moderation.
    assert (
        api("director")
        .post(f"{BASE}/posts/{post['id']}/status", {"status": "fulfilled"})
        .json()["status"]
        == "fulfilled"
    )
    assert_error(api("director").post(f"{BASE}/posts/{post['id']}/hide", {"reason": "x"}), 403)
    hidden = api("centre_analyst").post(f"{BASE}/posts/{post['id']}/hide", {"reason": "Doublon"})
    assert hidden.json()["status"] == "closed"


def _a2_director(region):
    from tests.conftest import make_user

    return make_user("dir2@ehpad-alpha.test", director=[region.a2])


def test_skills_directory(region, api, smtp_inbox):
    assert api("director").get(f"{BASE}/skills/me").status_code == 204
    saved = api("director").request(
        "put",
        f"{BASE}/skills/me",
        data=json.dumps({"structure": region.a.pk, "skills": ["sauvegardes"], "visible": True}),
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content
    profile = saved.json()
    listing = api("director_b").get(f"{BASE}/skills").json()
    assert [p["id"] for p in listing["results"]] == [profile["id"]]
    assert "@" not in str(listing)
    contacted = api("director_b").post(
        f"{BASE}/skills/{profile['id']}/threads", {"structure": region.b.pk, "body": "Aide ?"}
    )
    assert contacted.status_code == 201
    assert set(smtp_inbox.by_recipient()) == {"dir@alpha.test"}
    services_aid.save_profile(region.users["director"], region.a, {"skills": ["x"]})
    assert api("director_b").get(f"{BASE}/skills").json()["count"] == 0
    assert_error(
        api("director_b").post(
            f"{BASE}/skills/{profile['id']}/threads", {"structure": region.b.pk, "body": "x"}
        ),
        404,
    )


def test_the_ars_gets_nothing(region, api):
    for path in ("/posts", "/threads", "/skills", "/skills/me"):
        assert_error(api("ars_viewer").get(BASE + path), 403)


def _my_routes(region):
    from carbet.api.urls import api_route_inventory
    from tests.api.walk import fill, path_parameters
    from tests.community import walk_seed_aid, walk_seed_solutions

    makers = {**walk_seed_aid.API_OBJECT_PARAMETERS, **walk_seed_solutions.API_OBJECT_PARAMETERS}
    objects = {key: str(make(region).pk) for key, make in makers.items()}
    routes = []
    for method, template in api_route_inventory():
        if template.startswith(("/api/v1/community/aid", "/api/v1/community/solutions")):
            path = fill(template, {p: objects[p] for p in path_parameters(template)})
            routes.append((method, template, path))
    assert len(routes) >= 25
    return sorted(routes, key=lambda r: r[0] == "DELETE")


def test_every_aid_and_solutions_route_is_refused_to_the_ars(region):
    """The ARS reads regional aggregates only: each route of both parts is a 403 or a 404."""
    from tests.api.walk import call, openapi

    client, schema = token_client(region.users["ars_viewer"]), openapi()
    for method, template, path in _my_routes(region):
        response = call(client, method, template, path, schema)
        assert response.status_code in (403, 404), (method, path, response.status_code)


def test_the_walk_objects_are_real(region):
    """Positive control of the walks: the centre reaches every object of both parts (a 403
    where it may not write for a structure, never a 404 nor an error)."""
    from tests.api.walk import call, openapi

    client, schema = token_client(region.users["centre_admin"]), openapi()
    for method, template, path in _my_routes(region):
        response = call(client, method, template, path, schema)
        assert response.status_code != 404 and response.status_code < 500, (
            method,
            path,
            response.status_code,
            response.content[:300],
        )
