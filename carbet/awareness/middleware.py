"""The open pixel's fast path: the hottest public endpoint skips the staff stack.

A simulation's open pixel is fetched once per delivered message, in bursts, by mail clients and
scanners. It needs no session, authentication, second factor, CSRF, locale or message
middleware: just one UPDATE and 43 bytes. Answering it here, before those middlewares, keeps
the rest of ``/s/`` (landing, debrief, reports) on the ordinary path with its CSP.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound

# Tokens are URL-safe base64 (secrets.token_urlsafe); anything else goes the ordinary way.
OPEN_PIXEL_PATTERN = r"^/s/(?P<token>[A-Za-z0-9_-]{16,128})/o\.gif$"


def answer_open_pixel(request: HttpRequest, match: re.Match[str]) -> HttpResponse:
    """Declared in the service's spec as a fast path (``carbet.core.contract.FastPath``)."""
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
