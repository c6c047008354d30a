"""Request logging: one structured line per request with its duration and a request id."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

log = logging.getLogger("carbet.request")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["X-Request-Id"] = request.request_id
        user = getattr(request, "user", None)
        log.info(
            "request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed_ms, 2),
                "user_id": getattr(user, "pk", None) if user is not None else None,
            },
        )
        return response


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response Django produces.

    Pages, htmx fragments, exports, mandate documents and API JSON all carry a structure's data
    or a token (signed links, the login form's CSRF token): neither the browser's disk cache nor
    a shared proxy may keep a copy that outlives the session. Doing it here rather than per view
    means a new view cannot forget. Static assets stay cacheable because WhiteNoise answers them
    before this middleware is reached (it sits right after WhiteNoise in ``MIDDLEWARE``).

    A response that already says ``no-store`` (``never_cache`` adds more directives) is kept as
    is; any other caching directive a view may have set is replaced, since nothing dynamic in
    Carbet is safe to cache.
    """

    HEADER = "no-store"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        current = response.get("Cache-Control", "")
        if "no-store" not in current.lower():
            response["Cache-Control"] = self.HEADER
        return response


class ServiceFastPathMiddleware:
    """Public endpoints that services declare as fast paths (``carbet.core.contract``), answered
    before the session, authentication and second-factor middlewares: a simulation's open
    pixel is fetched in bursts and needs none of them."""

    def __init__(self, get_response: Any) -> None:
        import re

        from carbet.core import contract

        self.get_response = get_response
        self.routes = [
            (re.compile(path.pattern), path.methods, handler)
            for path, handler in contract.fast_paths()
        ]

    def __call__(self, request: Any) -> Any:
        for pattern, methods, handler in self.routes:
            if request.method in methods:
                match = pattern.match(request.path_info)
                if match is not None:
                    return handler(request, match)
        return self.get_response(request)


class ChartLanguageMiddleware:
    """Charts write their decimals the way the reader's language does (1,5 in French, 1.5 in
    English): the pure chart engine reads a context variable, set here once the language of the
    request is known (after Django's LocaleMiddleware)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.utils.translation import get_language

        from carbet.engines import charts

        separator = "." if (get_language() or "fr").startswith("en") else ","
        token = charts.DECIMAL_SEPARATOR.set(separator)
        try:
            return self.get_response(request)
        finally:
            charts.DECIMAL_SEPARATOR.reset(token)
