"""The JSON API at /api/v1/: one NinjaAPI, its OpenAPI schema and its documentation page.

Routers: the registry's (``carbet.api.registry``, ``assets``, ``mandates``, ``account``) and
those of the services. A service adds routes by giving its app a module ``api.py`` (or several,
``api_<topic>.py``) that defines ``router = ninja.Router(...)`` (and optionally
``API_PREFIX = "/exposure"``); it is mounted here automatically, documented in the schema, and
walked by the cross-tenant test through ``api_route_inventory()`` without anyone editing this
file.

The documentation page uses the Swagger UI files shipped inside django-ninja (served from our own
static files, no CDN) and no inline script, so it works on closed networks and under the CSP.
"""

from __future__ import annotations

import pkgutil
import re
from importlib import import_module

from django.apps import apps
from django.urls import URLPattern, URLResolver, include, path, re_path, reverse
from ninja import NinjaAPI, Router
from ninja.openapi.docs import Swagger

from carbet.api import account, assets, mandates, registry
from carbet.api.auth import ApiTokenAuth
from carbet.api.errors import install_error_handlers, json_errors_for_plain_views, not_found_view

NAMESPACE = "api"

DESCRIPTION = """API du centre régional de ressources cyber.

Authentification : jeton personnel à créer dans votre profil, envoyé dans l'en-tête
`Authorization: Bearer cbt_…`. Le jeton porte exactement vos droits.

Erreurs : toujours `{"error": {"code", "message", "details"}}`.
Listes : `?page=1&page_size=50`, réponse `{"count", "page", "page_size", "next", "previous",
"results"}`.
"""

# The registry's own routers, mounted at the root of the API.
CORE_ROUTERS: list[tuple[str, Router]] = [
    ("", account.router),
    ("", registry.router),
    ("", assets.router),
    ("", mandates.router),
]


def _api_module_names(app_name: str, app_path: str) -> list[str]:
    """The app's ``api`` module and its ``api_<topic>`` modules, then the ``api``
    module of each of its sub-packages (e.g. ``carbet.findings.plans.api``: an app split into
    parts keeps each part's routes beside its views), sorted."""
    modules = sorted(pkgutil.iter_modules([app_path]), key=lambda m: m.name)
    names = [
        f"{app_name}.{info.name}"
        for info in modules
        if info.name == "api" or info.name.startswith("api_")
    ]
    for info in modules:
        if info.ispkg and any(
            sub.name == "api" for sub in pkgutil.iter_modules([f"{app_path}/{info.name}"])
        ):
            names.append(f"{app_name}.{info.name}.api")
    return names


def service_routers() -> list[tuple[str, Router]]:
    """``(prefix, router)`` of every ``api``/``api_*`` module of the installed Carbet apps."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("carbet.") or config.name == "carbet.api":
            continue
        for module_name in _api_module_names(config.name, config.path):
            module = import_module(module_name)
            router = getattr(module, "router", None)
            if isinstance(router, Router):
                found.append((getattr(module, "API_PREFIX", ""), router))
    return found


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Carbet API",
        version="1",
        description=DESCRIPTION,
        auth=ApiTokenAuth(),
        urls_namespace=NAMESPACE,
        openapi_url="/openapi.json",
        docs_url="/docs",
        # validatorUrl=None: Swagger UI would otherwise send the schema to an outside validator.
        docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    )
    install_error_handlers(api)
    for prefix, router in CORE_ROUTERS + service_routers():
        api.add_router(prefix, router)
    return api


api = build_api()


def _with_json_errors(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = json_errors_for_plain_views(pattern.callback)
    return patterns


_api_patterns, _app_name, _namespace = api.urls
urlpatterns = [
    path("", include((_with_json_errors(_api_patterns), _app_name), namespace=_namespace)),
    # Anything else under /api/v1/ answers in the API's error format, not with an HTML page.
    re_path(r"^.*$", not_found_view, name="api-not-found"),
]

_CONVERTER = re.compile(r"\{(?:\w+:)?(\w+)\}")


def api_route_inventory() -> list[tuple[str, str]]:
    """Every ``(METHOD, path template)`` the API serves, e.g. ``("GET", "/api/v1/assets/{id}")``.

    Built from the routers bound to the NinjaAPI (the same objects Django routes to), so a
    route added by any service appears here without edits; converters are dropped from the
    template (``{int:id}`` → ``{id}``).
    """
    root = reverse(f"{NAMESPACE}:api-root").rstrip("/")
    inventory: set[tuple[str, str]] = set()
    for bound in api._get_bound_routers():
        for route, path_view in bound.path_operations.items():
            template = "/" + "/".join(p.strip("/") for p in (bound.prefix, route) if p.strip("/"))
            template = root + _CONVERTER.sub(r"{\1}", template)
            for operation in path_view.operations:
                for method in operation.methods:
                    inventory.add((method.upper(), template))
    return sorted(inventory, key=lambda item: (item[1], item[0]))
