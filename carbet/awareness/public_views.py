"""The public space /s/: what a simulation's recipient reaches, without account or session.

Each response is minimal and marked not to be cached, indexed or sent as a referrer. A token
that matches nothing (random, foreign, purged) gets a plain 404, whatever the route. Form
posts here are authorised by the unguessable token itself, hence ``csrf_exempt``: there is no
session for a forged request to ride on.
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carbet.audit.services import client_ip
from carbet.awareness import tracking, training
from carbet.awareness.choices import ReportSource
from carbet.awareness.models import TrainingAssignment
from carbet.core.tenancy import SYSTEM
from carbet.engines.awareness import landing

PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
    b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _private(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")


@_private
@require_GET
def open_pixel(request, token: str):
    if not tracking.record_open(token):
        raise Http404
    return HttpResponse(PIXEL, content_type="image/gif")


@_private
@require_GET
def click(request, token: str):
    if tracking.record_click(token, client_ip(request), _agent(request)) is None:
        raise Http404
    return redirect("awareness_public:page", token=token)


@_private
@require_GET
def page(request, token: str):
    recipient = tracking.record_page(token, client_ip(request), _agent(request))
    if recipient is None:
        raise Http404
    landing = recipient.campaign.template.landing_page
    if landing is None:
        return redirect("awareness_public:debrief", token=token)
    return render(
        request,
        "awareness/public/landing.html",
        {"landing": landing, "token": token, "html": _landing_html(landing.html, token)},
    )


def _landing_html(html: str, token: str) -> str:
    """The stored page, sanitised again on the way out with this recipient's event endpoint
    as every form's action: a page stored before a change of the sanitiser (or written to the
    table by other means) still cannot name a field or post elsewhere."""
    from django.urls import reverse
    from django.utils.safestring import mark_safe

    action = reverse("awareness_public:submit", args=[token])
    return mark_safe(landing.sanitize(html, action).html)  # noqa: S308 — rebuilt, escaped


@csrf_exempt
@_private
@require_POST
def beacon(request, token: str):
    if not tracking.record_beacon(token):
        raise Http404
    return HttpResponse(status=204)


@csrf_exempt
@_private
@require_POST
def submit(request, token: str):
    """A landing page's form was submitted: an event, never a payload.

    The sanitised pages send an empty body (no control has a name). Whatever body arrives
    anyway — a hand-made request, an old cached page — is never read: not ``request.POST``,
    not ``request.body``, not the stream. The server (or Django's test client) discards it
    with the connection; nothing of it reaches a log, the database or the audit trail.
    """
    if not tracking.record_submit(token):
        raise Http404
    return redirect("awareness_public:debrief", token=token)


@_private
@require_GET
def debrief(request, token: str):
    recipient = tracking.find(token)
    if recipient is None:
        raise Http404
    campaign = recipient.campaign
    assignment = None
    if recipient.target_id and campaign.training_id:
        assignment = (
            TrainingAssignment.objects.visible_to(SYSTEM)
            .filter(
                target_id=recipient.target_id, campaign=campaign, module_id=campaign.training_id
            )
            .first()
        )
    return render(
        request,
        "awareness/public/debrief.html",
        {
            "template": campaign.template,
            "submitted": recipient.submitted_at is not None,
            "training_url": training.link_path(assignment) if assignment else "",
        },
    )


@csrf_exempt
@_private
@require_http_methods(["GET", "POST"])
def report(request, token: str):
    """GET shows a button (mail scanners follow links: a GET must not count as a report)."""
    recipient = tracking.find(token)
    if recipient is None:
        raise Http404
    done = False
    if request.method == "POST":
        tracking.mark_reported(recipient, ReportSource.LINK)
        done = True
    return render(request, "awareness/public/report.html", {"done": done, "token": token})


@csrf_exempt
@_private
@require_http_methods(["GET", "POST"])
def training_module(request, signed: str):
    assignment = training.load(signed)
    if assignment is None:
        raise Http404
    training.opened(assignment)
    module = assignment.module
    outcome = None
    if request.method == "POST":
        score, marks = training.grade(module, request.POST)
        passed = training.record_attempt(assignment, score)
        outcome = {"score": score, "passed": passed, "marks": marks}
    questions = [
        {"index": i, **q, "mark": (outcome["marks"][i] if outcome else None)}
        for i, q in enumerate(module.quiz)
    ]
    return render(
        request,
        "awareness/public/training.html",
        {
            "assignment": assignment,
            "module": module,
            "questions": questions,
            "outcome": outcome,
            "signed": signed,
        },
    )


@_private
@require_GET
def certificate(request, signed: str):
    assignment = training.load(signed)
    if assignment is None or assignment.completed_at is None:
        raise Http404
    response = HttpResponse(training.certificate_pdf(assignment), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="attestation-formation.pdf"'
    return response
