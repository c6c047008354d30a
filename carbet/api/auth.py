"""Authentication of the API: personal tokens only (``Authorization: Bearer cbt_…``).

A token carries exactly its owner's rights: routes read ``request.auth_user`` and pass it to
``visible_to``/``can`` and to the domain services like any other actor. Sessions are ignored on
purpose, so the API has no cookie, hence no CSRF exposure, and a browser tab logged into Carbet
cannot be turned against it.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from carbet.accounts.models import ApiToken, TokenState, User
from carbet.api.errors import ApiError

# Real tokens are ~47 characters; anything much longer is not worth hashing.
_MAX_TOKEN_LENGTH = 200


def _refusal(state: TokenState, token: ApiToken | None) -> ApiError | None:
    """A precise 401 for a real token that no longer works (unknown ones get the generic one).

    Only the holder of the token learns this, and it tells a script's owner what to do instead
    of leaving them to guess.
    """
    if state == TokenState.EXPIRED and token is not None:
        return ApiError(
            401,
            _(
                "Ce jeton d'API a expiré le %(day)s. Créez-en un nouveau dans votre profil "
                "(Mon compte › Mes jetons d'API) et remplacez-le dans vos scripts."
            )
            % {"day": timezone.localtime(token.expires_at).strftime("%d/%m/%Y")},
            code="token_expired",
        )
    if state == TokenState.REVOKED and token is not None:
        if token.revoked_reason == "password_changed":
            message = _(
                "Ce jeton d'API a été révoqué automatiquement quand le mot de passe du compte a "
                "changé. Créez-en un nouveau dans votre profil."
            )
        else:
            message = _("Ce jeton d'API a été révoqué. Créez-en un nouveau dans votre profil.")
        return ApiError(401, message, code="token_revoked")
    return None


class ApiTokenAuth(HttpBearer):
    """Bearer authentication against ``ApiToken`` (revoked, expired and inactive refused)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        state, found = ApiToken.lookup(token)
        if state != TokenState.ACTIVE or found is None:
            refusal = _refusal(state, found)
            if refusal is not None:
                raise refusal
            return None
        user = found.user
        request.auth_user = user  # type: ignore[attr-defined]
        return user


def actor(request: HttpRequest) -> User:
    """The user the request's token belongs to (set by ``ApiTokenAuth``)."""
    return request.auth_user  # type: ignore[attr-defined,no-any-return]
