"""The public space /agenda-ical/: each person's private calendar feed, fetched by calendar
programs without an account or a session.

The address carries a random token (256 bits); only its SHA-256 is stored. Anything that opens
nothing — malformed, unknown, replaced, an account closed or without the right — is the same
plain 404, so the address reveals nothing beyond it. One indexed lookup, one query for the
events: calendar programs poll often, so the view stays cheap. Nothing here reads the session
or the user of the request.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from carbet.community import services_events


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    calendar = services_events.open_feed(token)
    if calendar is None:
        raise Http404
    response = HttpResponse(
        services_events.feed_calendar(calendar), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="carbet-agenda.ics"'
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
