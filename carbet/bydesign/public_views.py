"""The public space /q/: the vendor questionnaire, reached by a signed link without account.

A token that opens nothing (random, expired, revoked) gets a plain 404. The form post is
authorised by the unguessable token itself, hence ``csrf_exempt``: no session exists for a
forged request to ride on. Responses are not cached, indexed or sent as referrers.
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from carbet.audit.services import client_ip
from carbet.bydesign import services_vendor, vendor_questions
from carbet.bydesign.services_vendor import MAX_FILES


def _private(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _questions(data: dict | None = None) -> list[dict]:
    data = data or {}
    return [
        {
            "code": code,
            "question": question,
            "kind": kind,
            "choice": data.get(f"{code}_choice", ""),
            "text": data.get(f"{code}_text", ""),
        }
        for code, (question, kind) in vendor_questions.QUESTIONS.items()
    ]


@_private
@csrf_exempt
@require_http_methods(["GET", "POST"])
def form(request: HttpRequest, token: str) -> HttpResponse:
    vendor_request = services_vendor.open_request(token)
    if vendor_request is None:
        raise Http404
    context = {
        "service": vendor_request.service,
        "structure": vendor_request.service.structure,
        "choices": vendor_questions.YES_NO,
        "max_files": MAX_FILES,
        "errors": {},
        "done": vendor_request.answered_at is not None,
    }
    if request.method == "POST" and not context["done"]:
        result = services_vendor.submit(
            token, request.POST.dict(), request.FILES.getlist("files"), ip=client_ip(request)
        )
        if not result.errors:
            context["done"] = True
        else:
            context.update(errors=result.errors, questions=_questions(request.POST.dict()))
            return render(request, "bydesign/public/questionnaire.html", context, status=422)
    context.setdefault("questions", _questions())
    return render(request, "bydesign/public/questionnaire.html", context)
