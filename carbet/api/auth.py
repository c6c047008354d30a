"""Authentication of the API: personal tokens only (``Authorization: Bearer cbt_…``).

A token carries exactly its owner's rights: routes read ``request.auth_user`` and pass it to
``visible_to``/``can`` and to the domain services like any other actor. Sessions are ignored on
purpose, so the API has no cookie, hence no CSRF exposure, and a browser tab logged into Carbet
cannot be turned against it.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from carbet.accounts.models import ApiToken, User

# Real tokens are ~47 characters; anything much longer is not worth hashing.
_MAX_TOKEN_LENGTH = 200


class ApiTokenAuth(HttpBearer):
    """Bearer authentication against ``ApiToken`` (revoked, expired and inactive refused)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        user = ApiToken.authenticate(token)
        if user is None or not user.is_active:
            return None
        request.auth_user = user  # type: ignore[attr-defined]
        return user


def actor(request: HttpRequest) -> User:
    """The user the request's token belongs to (set by ``ApiTokenAuth``)."""
    return request.auth_user  # type: ignore[attr-defined,no-any-return]
