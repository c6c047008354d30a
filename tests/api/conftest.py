"""API test helpers: a client that sends a personal token, and the error-format assertion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from carbet.accounts.models import ApiToken, User

API = "/api/v1"
# Client errors the API may answer with (anything else, 5xx above all, is a bug).
ERROR_STATUSES = {400, 401, 403, 404, 405, 409, 413, 422, 429}


class ApiClient:
    """A Django test client that talks to the API with one user's personal token."""

    def __init__(self, raw_token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_token}"} if raw_token else {}

    def _url(self, path: str) -> str:
        return path if path.startswith(API) else API + path

    def get(self, path: str, **params: Any):
        return self.client.get(self._url(path), params, headers=self.headers)

    def _send(self, method: str, path: str, body: Any):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return getattr(self.client, method)(
            self._url(path), data=data, content_type="application/json", headers=self.headers
        )

    def post(self, path: str, body: Any = None):
        if body is None:
            return self.client.post(self._url(path), headers=self.headers)
        return self._send("post", path, body)

    def patch(self, path: str, body: Any):
        return self._send("patch", path, body)

    def delete(self, path: str):
        return self.client.delete(self._url(path), headers=self.headers)

    def multipart(self, path: str, data: dict[str, Any]):
        return self.client.post(self._url(path), data=data, headers=self.headers)

    def request(self, method: str, path: str, **kwargs: Any):
        return getattr(self.client, method.lower())(self._url(path), headers=self.headers, **kwargs)


def token_client(user: User) -> ApiClient:
    _token, raw = ApiToken.issue(user, "tests")
    return ApiClient(raw)


@pytest.fixture
def api(region):
    """``api("director")`` gives an API client holding that region user's token."""
    clients: dict[str, ApiClient] = {}

    def for_role(role: str) -> ApiClient:
        if role not in clients:
            clients[role] = token_client(region.users[role])
        return clients[role]

    return for_role


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is an error of ``status`` in the one API error format; returns its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    for field, messages in error["details"].items():
        assert isinstance(field, str)
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    if code is not None:
        assert error["code"] == code, error
    return error
