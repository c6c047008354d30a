"""Pages of shared solutions (mounted at /communaute/offres/): the catalogue of regional
offers, one offer with the structure's answer, the needs no offer covers, and the centre's view
of the demand. Offers are reached only through ``selectors_solutions.offers_shown_to`` (the
eligibility rule): an offer a structure is not eligible for is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.community import markdown, selectors_solutions, services_solutions
from carbet.community.forms_solutions import InterestForm, NeedForm, OfferForm
from carbet.community.models import Need, Offer, OfferInterest
from carbet.community.service import CommunityPerm
from carbet.core import access, pageforms
from carbet.core.tenancy import can

T = "community/solutions/"


def _offer(request: HttpRequest, pk: int) -> Offer:
    return get_object_or_404(selectors_solutions.offers_shown_to(request.user), pk=pk)


def _csv(content: str, name: str) -> HttpResponse:
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    centre = can(request.user, CommunityPerm.PUBLISH) and selectors_solutions.sees_everything(
        request.user
    )
    if centre:
        rows = selectors_solutions.offers_overview()
    else:
        offers = selectors_solutions.offers_shown_to(request.user).order_by("title")
        answers: dict[int, list[OfferInterest]] = {}
        for interest in selectors_solutions.interests_shown_to(request.user):
            answers.setdefault(interest.offer_id, []).append(interest)
        rows = [{"offer": o, "answers": answers.get(o.pk, [])} for o in offers]
    return render(
        request,
        T + "catalogue.html",
        {
            "rows": rows,
            "centre": centre,
            "can_region": can(request.user, CommunityPerm.REGION),
            "can_need": can(request.user, CommunityPerm.INTEREST),
        },
    )


@login_required
def offer_new(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    form = OfferForm(request.POST or None, actor=request.user)
    offer = pageforms.saved(
        request,
        form,
        lambda: services_solutions.save_offer(
            request.user, form.cleaned_data, ip=client_ip(request)
        ),
        _("Offre enregistrée."),
    )
    if offer is not None:
        return redirect("community:solutions_offer", offer.pk)
    return render(request, T + "offer_form.html", {"form": form, "offer": None})


@login_required
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer(request, pk)
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    form = OfferForm(request.POST or None, actor=request.user, offer=offer)
    if pageforms.saved(
        request,
        form,
        lambda: services_solutions.save_offer(
            request.user, form.cleaned_data, offer, ip=client_ip(request)
        ),
        _("Offre enregistrée."),
    ):
        return redirect("community:solutions_offer", offer.pk)
    return render(request, T + "offer_form.html", {"form": form, "offer": offer})


@login_required
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer(request, pk)
    structures = selectors_solutions.answering_structures(request.user, offer)
    accepting = selectors_solutions.accepting(offer)
    answers = list(selectors_solutions.interests_shown_to(request.user, offer))
    form = None
    if accepting and structures.exists():
        initial = {}
        if len(answers) == 1 and structures.count() == 1:
            answer = answers[0]
            initial = {"kind": answer.kind, "quantity": answer.quantity, "comment": answer.comment}
        form = InterestForm(initial=initial, structures=structures)
    centre = selectors_solutions.sees_everything(request.user)
    return render(
        request,
        T + "offer.html",
        {
            "offer": offer,
            "description": markdown.render(offer.description, heading_offset=1),
            "form": form,
            "answers": [] if centre else answers,
            "accepting": accepting,
            "centre": centre,
            "can_edit": centre and can(request.user, CommunityPerm.PUBLISH),
            "can_region": can(request.user, CommunityPerm.REGION),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def interest(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer(request, pk)
    access.require(request.user, CommunityPerm.INTEREST)
    structures = selectors_solutions.answering_structures(request.user, offer)
    if not structures.exists():
        raise access.refusal(_("Cette offre ne s'adresse pas à vos structures."))
    form = InterestForm(request.POST, structures=structures)
    pageforms.posted(
        request,
        form,
        lambda: services_solutions.set_interest(
            request.user,
            offer,
            form.cleaned_data["structure"],
            form.cleaned_data,
            ip=client_ip(request),
        ),
        _("Réponse enregistrée : le centre la voit."),
        invalid=_("Choisissez votre réponse."),
    )
    return redirect("community:solutions_offer", offer.pk)


@login_required
@require_POST
def interest_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.owned_for(
        request.user, OfferInterest, pk, CommunityPerm.INTEREST, see=CommunityPerm.VIEW
    )
    offer_id = row.offer_id
    services_solutions.withdraw_interest(request.user, row, ip=client_ip(request))
    messages.success(request, _("Réponse retirée."))
    return redirect("community:solutions_offer", offer_id)


@login_required
def demand(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer(request, pk)
    access.require(request.user, CommunityPerm.REGION)
    return render(
        request,
        T + "demand.html",
        {
            "offer": offer,
            "demand": selectors_solutions.demand(offer),
            "answers": selectors_solutions.interests_shown_to(request.user, offer),
        },
    )


@login_required
def demand_csv(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _offer(request, pk)
    access.require(request.user, CommunityPerm.REGION)
    return _csv(selectors_solutions.demand_csv(offer), f"demande-offre-{offer.pk}.csv")


@login_required
def needs(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    structures = selectors_solutions.member_structures(request.user, CommunityPerm.INTEREST)
    form = NeedForm(request.POST or None, structures=structures) if structures.exists() else None
    if request.method == "POST":
        if form is None:
            raise access.refusal(_("Seules les structures déclarent leurs besoins."))
        if pageforms.saved(
            request,
            form,
            lambda: services_solutions.declare_need(
                request.user,
                form.cleaned_data["structure"],
                form.cleaned_data,
                ip=client_ip(request),
            ),
            _("Besoin enregistré : le centre le voit."),
        ):
            return redirect("community:solutions_needs")
    return render(
        request,
        T + "needs.html",
        {
            "form": form,
            "needs": selectors_solutions.needs_shown_to(request.user)[:300],
            "can_region": can(request.user, CommunityPerm.REGION),
            "can_delete": structures.exists(),
        },
    )


@login_required
@require_POST
def need_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.owned_for(request.user, Need, pk, CommunityPerm.INTEREST, see=CommunityPerm.VIEW)
    services_solutions.delete_need(request.user, row, ip=client_ip(request))
    messages.success(request, _("Besoin retiré."))
    return redirect("community:solutions_needs")


@login_required
def region(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.REGION)
    return render(
        request,
        T + "region.html",
        {
            "offers": selectors_solutions.offers_overview(),
            "needs": selectors_solutions.needs_summary(),
        },
    )


@login_required
def needs_csv(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.REGION)
    return _csv(selectors_solutions.needs_csv(), "besoins-region.csv")
