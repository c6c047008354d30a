"""Personal API tokens: the only way in; refused when missing, wrong, revoked or expired."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from carbet.accounts.models import ApiToken
from tests.api.conftest import API, ApiClient, assert_error, token_client
from tests.conftest import login


def test_a_valid_token_authenticates_its_owner(region):
    response = token_client(region.users["director"]).get("/me")
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "dir@alpha.test"


def test_missing_token_is_refused_in_the_error_format(region):
    error = assert_error(ApiClient(None).get("/structures"), 401, "unauthenticated")
    assert "Bearer" in error["message"]


def test_refusal_announces_the_bearer_scheme(region):
    response = ApiClient(None).get("/me")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_and_malformed_tokens_are_refused(region):
    for raw in ("cbt_not-a-real-token", "not-even-prefixed", "cbt_" + "x" * 5000, " "):
        assert_error(ApiClient(raw).get("/me"), 401, "unauthenticated")


def test_other_schemes_are_refused(region):
    _token, raw = ApiToken.issue(region.users["director"], "t")
    client = Client()
    for header in (f"Basic {raw}", f"Token {raw}", raw):
        response = client.get(f"{API}/me", headers={"Authorization": header})
        assert_error(response, 401)


def test_revoked_token_is_refused(region):
    token, raw = ApiToken.issue(region.users["director"], "t")
    client = ApiClient(raw)
    assert client.get("/me").status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    error = assert_error(client.get("/me"), 401, "token_revoked")
    assert "révoqué" in error["message"] and "profil" in error["message"]


def test_expired_token_is_refused_with_its_date_and_what_to_do(region):
    past = timezone.now() - dt.timedelta(seconds=1)
    _token, raw = ApiToken.issue(region.users["director"], "t", expires_at=past)
    error = assert_error(ApiClient(raw).get("/me"), 401, "token_expired")
    assert timezone.localtime(past).strftime("%d/%m/%Y") in error["message"]
    assert "a expiré" in error["message"] and "nouveau" in error["message"]
    future = timezone.now() + dt.timedelta(days=1)
    _token, raw = ApiToken.issue(region.users["director"], "t2", expires_at=future)
    assert ApiClient(raw).get("/me").status_code == 200


def test_every_token_has_an_end_date_by_default(region, settings):
    settings.CARBET_API_TOKEN_DAYS = 90
    token, _raw = ApiToken.issue(region.users["director"], "t")
    lifetime = token.expires_at - timezone.now()
    assert dt.timedelta(days=89) < lifetime <= dt.timedelta(days=90)


def test_a_password_change_turns_the_token_away_with_the_reason(region):
    user = region.users["director"]
    client = token_client(user)
    assert client.get("/me").status_code == 200
    user.set_password("another long passphrase 7")
    user.save()
    error = assert_error(client.get("/me"), 401, "token_revoked")
    assert "mot de passe" in error["message"]


def test_inactive_user_is_refused(region):
    user = region.users["director"]
    client = token_client(user)
    user.is_active = False
    user.save()
    assert_error(client.get("/me"), 401, "unauthenticated")


def test_a_browser_session_does_not_open_the_api(region):
    """No session auth: a logged-in tab cannot be used against the API (and there is no CSRF)."""
    client = login(Client(), region.users["centre_admin"])
    assert_error(client.get(f"{API}/structures"), 401)
    response = client.post(
        f"{API}/structures/{region.a.pk}/assets",
        data={"kind": "domain", "value": "x.test"},
        content_type="application/json",
    )
    assert_error(response, 401)


def test_the_token_decides_whose_rights_apply_not_the_session(region):
    client = login(Client(), region.users["centre_admin"])
    _token, raw = ApiToken.issue(region.users["director_b"], "b")
    response = client.get(f"{API}/structures", headers={"Authorization": f"Bearer {raw}"})
    assert [s["id"] for s in response.json()["results"]] == [region.b.pk]


def test_use_is_recorded_on_the_token(region):
    token, raw = ApiToken.issue(region.users["director"], "t")
    assert token.last_used_at is None
    ApiClient(raw).get("/me")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_me_lists_role_memberships_and_permissions(region, api):
    body = api("org_director").get("/me").json()
    assert body["centre_role"] is None
    assert body["memberships"] == [
        {
            "role": {"code": "director", "label": body["memberships"][0]["role"]["label"]},
            "scope_type": "organisation",
            "scope_id": region.org_a.pk,
            "scope_name": region.org_a.name,
        }
    ]
    assert "mandate.edit" in body["permissions"]
    assert "structure.edit" not in body["permissions"]
    staff = api("centre_analyst").get("/me").json()
    assert staff["centre_role"]["code"] == "centre_analyst"
    assert "structure.edit" in staff["permissions"]
