"""The open pixel's fast path: the hottest public endpoint skips the staff stack.

A simulation's open pixel is fetched once per delivered message, in bursts, by mail clients and
scanners. It needs no session, authentication, second factor, CSRF, locale or message
middleware: just one UPDATE and 43 bytes. Answering it here, before those middlewares, keeps
the rest of ``/s/`` (landing, debrief, reports) on the ordinary path with its CSP.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound

# Tokens are URL-safe base64 (secrets.token_urlsafe); anything else goes the ordinary way.
OPEN_PIXEL_PATH = re.compile(r"^/s/(?P<token>[A-Za-z0-9_-]{16,128})/o\.gif$")


class TrackingPixelMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = OPEN_PIXEL_PATH.match(request.path_info)
        if match is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        from carbet.awareness import tracking
        from carbet.awareness.public_views import PIXEL

        if not tracking.record_open(match["token"]):
            response: HttpResponse = HttpResponseNotFound()
        else:
            response = HttpResponse(PIXEL, content_type="image/gif")
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
