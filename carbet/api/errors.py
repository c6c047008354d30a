"""One error format for every error of the API.

Whatever goes wrong — a body that is not JSON, a missing token, a field of the wrong type, an
object of another structure, a rule of the registry — the client gets the same shape::

    {"error": {"code": "not_found", "message": "<phrase en français>", "details": {...}}}

``details`` maps a field name (dotted for nested values, ``__all__`` for the whole object) to a
list of French messages. Ninja's own errors (authentication, validation, unparsable bodies) and
the exceptions raised by the domain services (``Http404``, ``PermissionDenied``,
``ValidationError``) are all translated here, so routes never build error responses by hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

log = logging.getLogger("carbet.api")

ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "throttled",
    500: "server_error",
}

# Codes of Django validation errors that mean "this already exists" rather than "this is wrong".
_CONFLICT_CODES = {"unique", "unique_together"}
# Names the routes give their body/form parameter: they are not part of a field's path.
_PARAMETER_NAMES = {"payload", "data"}
_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


def default_message(status: int) -> str:
    """The French sentence shown when a more precise one is not available."""
    messages = {
        400: _("La requête est mal formée."),
        401: _(
            "Authentification requise : envoyez un jeton d'API valide dans l'en-tête "
            "« Authorization: Bearer cbt_… » (à créer dans votre profil)."
        ),
        403: _("Vous n'avez pas le droit de faire cette action."),
        404: _("Cette ressource n'existe pas ou ne vous est pas accessible."),
        405: _("Cette méthode HTTP n'est pas acceptée à cette adresse."),
        409: _("Cette opération entre en conflit avec une donnée existante."),
        413: _("La requête est trop volumineuse."),
        422: _("Les données envoyées ne sont pas valides : voyez le détail par champ."),
        429: _("Trop de requêtes : patientez avant de réessayer."),
        500: _("Erreur interne : l'équipe du centre a été prévenue par le journal du serveur."),
    }
    return str(messages.get(status, messages[400] if status < 500 else messages[500]))


class ApiError(Exception):
    """An error a route raises on purpose; rendered in the common format."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        details: dict[str, list[str]] | None = None,
        *,
        code: str | None = None,
    ) -> None:
        self.status = status
        self.message = message or default_message(status)
        self.details = details or {}
        self.code = code or ERROR_CODES.get(status, "error")
        super().__init__(self.message)


def error_response(
    status: int,
    message: str | None = None,
    details: dict[str, list[str]] | None = None,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """Build the one error response of the API."""
    body = {
        "error": {
            "code": code or ERROR_CODES.get(status, "error"),
            "message": str(message or default_message(status)),
            "details": details or {},
        }
    }
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- Pydantic (ninja) validation errors, in French ------------------------------------------


def _pydantic_message(error: dict[str, Any]) -> str:
    """A French sentence for one pydantic error (by its type; pydantic's English otherwise)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": _("Ce champ est obligatoire."),
        "extra_forbidden": _("Champ inconnu : retirez-le (voyez le schéma OpenAPI)."),
        "string_type": _("Une chaîne de caractères est attendue."),
        "int_type": _("Un nombre entier est attendu."),
        "int_parsing": _("Un nombre entier est attendu."),
        "int_from_float": _("Un nombre entier est attendu (sans décimales)."),
        "float_type": _("Un nombre est attendu."),
        "float_parsing": _("Un nombre est attendu."),
        "decimal_type": _("Un nombre décimal est attendu."),
        "decimal_parsing": _("Un nombre décimal est attendu."),
        "finite_number": _("Un nombre fini est attendu."),
        "bool_type": _("Un booléen est attendu (true ou false)."),
        "bool_parsing": _("Un booléen est attendu (true ou false)."),
        "list_type": _("Une liste est attendue."),
        "dict_type": _("Un objet JSON est attendu."),
        "model_type": _("Un objet JSON est attendu."),
        "model_attributes_type": _("Un objet JSON est attendu."),
        "date_type": _("Une date est attendue (AAAA-MM-JJ)."),
        "date_parsing": _("Une date est attendue (AAAA-MM-JJ)."),
        "date_from_datetime_parsing": _("Une date est attendue (AAAA-MM-JJ)."),
        "date_from_datetime_inexact": _("Une date sans heure est attendue (AAAA-MM-JJ)."),
        "uuid_type": _("Un identifiant UUID est attendu."),
        "uuid_parsing": _("Un identifiant UUID est attendu."),
        "string_unicode": _("Le texte n'est pas de l'Unicode valide."),
        "int_parsing_size": _("Ce nombre est trop grand."),
    }
    if kind in simple:
        return str(simple[kind])
    if kind in ("enum", "literal_error"):
        return _("Valeur non autorisée ; valeurs possibles : %(expected)s.") % {
            "expected": ctx.get("expected", "")
        }
    if kind == "string_too_long":
        return _("Texte trop long : %(max)s caractères au plus.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Texte trop court : %(min)s caractère(s) au moins.") % {
            "min": ctx.get("min_length")
        }
    if kind == "too_short":
        return _("Au moins %(min)s élément(s) attendu(s).") % {"min": ctx.get("min_length")}
    if kind == "too_long":
        return _("Au plus %(max)s élément(s) accepté(s).") % {"max": ctx.get("max_length")}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        phrases = {
            "greater_than_equal": _("La valeur doit être supérieure ou égale à %(bound)s."),
            "greater_than": _("La valeur doit être strictement supérieure à %(bound)s."),
            "less_than_equal": _("La valeur doit être inférieure ou égale à %(bound)s."),
            "less_than": _("La valeur doit être strictement inférieure à %(bound)s."),
        }
        return phrases[kind] % {"bound": bound}
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error.get("msg", "")))
    return str(error.get("msg", _("Valeur invalide.")))


def _field_path(loc: Iterable[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in _PARAMETER_NAMES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or NON_FIELD_ERRORS


def details_from_pydantic(errors: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    for error in errors:
        details.setdefault(_field_path(error.get("loc", ())), []).append(_pydantic_message(error))
    return details


def details_from_django(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def _django_codes(exc: DjangoValidationError) -> set[str | None]:
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


# --- Handlers ------------------------------------------------------------------------------


def _on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.message, exc.details, code=exc.code)


def _on_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error_response(422, details=details_from_pydantic(exc.errors))


def _on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="carbet"'})


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return _on_authentication(request, exc)
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait else {}
        return error_response(429, headers=headers)
    if isinstance(exc, AuthorizationError):
        return error_response(403)
    cause = exc.__cause__
    if isinstance(cause, RequestDataTooBig):
        return error_response(413)
    if exc.status_code == 400 and isinstance(cause, ValueError | TypeError):
        # Ninja raises "cannot parse request body" for bodies that are not JSON.
        return error_response(
            400,
            _("Le corps de la requête n'est pas du JSON valide."),
            {"body": [str(cause)[:200]]} if isinstance(cause, json.JSONDecodeError) else {},
            code="invalid_json",
        )
    return error_response(exc.status_code)


def _on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404)


def _on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = str(exc) if exc.args and exc.args[0] else None
    return error_response(403, message)


def _on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    details = details_from_django(exc)
    codes = _django_codes(exc)
    if codes and codes <= _CONFLICT_CODES:
        return error_response(409, details=details)
    return error_response(422, details=details)


def _on_integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A concurrent write slipped past the validation: the row exists now.
    log.info("integrity error on API write", extra={"path": request.path})
    return error_response(409)


def _on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return error_response(413)
    if isinstance(exc, TooManyFieldsSent):
        return error_response(413, _("La requête contient trop de champs."))
    return error_response(400)


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("unexpected API error", extra={"path": request.path}, exc_info=exc)
    return error_response(500)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers with ours (the most specific class wins)."""
    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (ApiError, _on_api_error),
        (NinjaValidationError, _on_ninja_validation),
        (AuthenticationError, _on_authentication),
        (HttpError, _on_http_error),
        (Http404, _on_not_found),
        (PermissionDenied, _on_permission_denied),
        (DjangoValidationError, _on_django_validation),
        (IntegrityError, _on_integrity),
        (SuspiciousOperation, _on_suspicious),
        (Exception, _on_unexpected),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


def json_errors_for_plain_views(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a URL callback so that what ninja answers outside its handlers keeps our format.

    Ninja answers a wrong method with Django's bare 405 and its root URL with a bare 404; both
    reach the client without passing through the exception handlers above.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response(404)
        if isinstance(response, HttpResponseNotAllowed):
            return error_response(405, headers={"Allow": response["Allow"]})
        return response

    return wrapper


def refuse_bodies_larger_than(limit: Callable[[], int]) -> Callable[..., Any]:
    """A ninja ``decorate_view`` decorator: refuse a request whose announced size exceeds
    ``limit()`` bytes with a 413 before its body (an upload) is read and spooled to disk."""

    def decorator(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(run)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                announced = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(400)
            if announced > limit():
                return error_response(413)
            return run(request, *args, **kwargs)

        return wrapper

    return decorator


def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any address under /api/v1/ that no route matches."""
    return error_response(404)


not_found_view.csrf_exempt = True  # type: ignore[attr-defined]
