"""The PRIS provider's page: read the case's main courante, add entries and indicators.

What the link opens is narrow on purpose: one case, its log and indicators, nothing of the
structure's other data nor of the other cases; it stops working at its expiry, when revoked or
when the case closes (``tokens.access_for`` answers ``None``: a plain 404, as for a random
token). Posts are authorised by the unguessable token itself, hence ``csrf_exempt``: there is
no session for a forged request to ride on.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from carbet.crisis import selectors_pages as sel
from carbet.crisis import tokens
from carbet.crisis.choices import EntryKind
from carbet.crisis.forms import IndicatorForm, ProviderEntryForm
from carbet.crisis.models import Indicator

SHOWN = 200


def _private(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _add(request, access) -> bool:
    """One post: an entry or an indicator. True when saved."""
    try:
        if request.POST.get("what") == "indicator":
            form = IndicatorForm(request.POST)
            if not form.is_valid():
                return False
            tokens.provider_add_indicator(access, **form.cleaned_data)
            messages.success(request, _("Indicateur ajouté."))
            return True
        form = ProviderEntryForm(request.POST)
        if not form.is_valid():
            return False
        data = form.cleaned_data
        tokens.provider_append(
            access,
            text=data["text"],
            kind=data["kind"],
            event_at=data["event_at"],
            source=data["source"],
        )
        messages.success(request, _("Entrée ajoutée à la main courante."))
        return True
    except PermissionError:
        raise Http404 from None
    except (ValueError, ValidationError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
        return False


@_private
@csrf_exempt
@require_http_methods(["GET", "POST"])
def provider(request, token: str):
    access = tokens.access_for(token)
    if access is None:
        raise Http404
    entry_form, indicator_form = (
        ProviderEntryForm(initial={"kind": EntryKind.ACTION}),
        IndicatorForm(),
    )
    if request.method == "POST":
        if _add(request, access):
            return redirect("crisis_public:provider", token=token)
        if request.POST.get("what") == "indicator":
            indicator_form = IndicatorForm(request.POST)
        else:
            entry_form = ProviderEntryForm(request.POST)
    case = access.case
    entries = sel.log_entries(case).order_by("-sequence")[:SHOWN]
    return render(
        request,
        "crisis/public/provider.html",
        {
            "access": access,
            "case": case,
            "entries": list(sel.with_corrections(case, entries)),
            "indicators": Indicator.objects.filter(case=case).order_by("type", "value")[:1000],
            "entry_form": entry_form,
            "indicator_form": indicator_form,
            "print": True,
        },
    )
