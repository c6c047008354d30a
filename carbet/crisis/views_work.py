"""The cell's work on a case: decisions, tasks, situation points, the regulatory clock and the
stakeholders (with the PRIS provider's narrow access)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.crisis import selectors_pages as sel
from carbet.crisis.choices import SitrepStatus, StakeholderKind
from carbet.crisis.forms import (
    CallForm,
    DecisionForm,
    ObligationSentForm,
    ProviderAccessForm,
    SitrepForm,
    StakeholderForm,
    TaskForm,
    TaskUpdateForm,
)
from carbet.crisis.models import (
    Obligation,
    ProviderAccess,
    Sitrep,
    Stakeholder,
    Task,
)
from carbet.crisis.service import CrisisPerm
from carbet.crisis.views_common import attempt, case_for, case_page, form_errors, row_of


@login_required
def decisions(request, pk: int):
    case = case_for(request, pk)
    form = DecisionForm()
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        form = DecisionForm(request.POST)
        if form.is_valid():
            from carbet.crisis import services_work

            data = form.cleaned_data
            if attempt(
                request,
                lambda: services_work.record_decision(
                    request.user,
                    case,
                    title=data["title"],
                    options=data["options"],
                    chosen=data["chosen"],
                    rationale=data["rationale"],
                    decided_by=data["decided_by"],
                    decided_at=data["decided_at"],
                ),
                _("Décision enregistrée (et notée dans la main courante)."),
            ):
                return redirect("crisis:decisions", pk=case.pk)
    return case_page(
        request,
        case,
        "decisions",
        "crisis/decisions.html",
        {"decisions": case.decisions.order_by("-decided_at"), "form": form},
    )


@login_required
def tasks(request, pk: int):
    case = case_for(request, pk)
    form = TaskForm()
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        form = TaskForm(request.POST)
        if form.is_valid():
            from carbet.crisis import services_work

            data = form.cleaned_data
            if attempt(
                request,
                lambda: services_work.add_task(
                    request.user,
                    case,
                    workstream=data["workstream"],
                    title=data["title"],
                    owner=data["owner"],
                    priority=data["priority"],
                    due_at=data["due_at"],
                ),
                _("Tâche ajoutée."),
            ):
                return redirect("crisis:tasks", pk=case.pk)
    only_open = request.GET.get("toutes") != "1"
    return case_page(
        request,
        case,
        "tasks",
        "crisis/tasks.html",
        {
            "groups": sel.tasks_by_workstream(case, open_only=only_open),
            "only_open": only_open,
            "form": form,
            "update_form": TaskUpdateForm(),
        },
    )


@login_required
@require_POST
def task_update(request, pk: int, task: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, Task, task, CrisisPerm.CONTRIBUTE)
    form = TaskUpdateForm(request.POST)
    if form.is_valid():
        from carbet.crisis import services_work

        attempt(
            request,
            lambda: services_work.update_task(
                request.user,
                row,
                status=form.cleaned_data["status"],
                owner=form.cleaned_data["owner"] or None,
            ),
            _("Tâche mise à jour."),
        )
    else:
        form_errors(request, form)
    return redirect("crisis:tasks", pk=case.pk)


@login_required
def sitreps(request, pk: int):
    case = case_for(request, pk)
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        from carbet.crisis import services_work

        sitrep = attempt(request, lambda: services_work.draft_sitrep(request.user, case))
        if isinstance(sitrep, Sitrep):
            messages.success(
                request,
                _(
                    "Brouillon préparé à partir de la main courante, des tâches et du tableau : "
                    "relisez-le avant l'envoi."
                ),
            )
            return redirect("crisis:sitrep", pk=case.pk, sitrep=sitrep.pk)
        return redirect("crisis:sitreps", pk=case.pk)
    return case_page(
        request,
        case,
        "sitreps",
        "crisis/sitreps.html",
        {"sitreps": case.sitreps.order_by("-number")},
    )


@login_required
def sitrep(request, pk: int, sitrep: int):
    case = case_for(request, pk)
    row = row_of(request, case, Sitrep, sitrep, CrisisPerm.VIEW)
    form = SitrepForm(initial={"body": row.body})
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        form = SitrepForm(request.POST)
        if row.status == SitrepStatus.SENT:
            messages.error(request, _("Ce point a déjà été envoyé : il ne change plus."))
        elif form.is_valid():
            from carbet.crisis import services_work

            edited = attempt(
                request,
                lambda: services_work.edit_sitrep(
                    request.user, row, body=form.cleaned_data["body"]
                ),
            )
            if edited and request.POST.get("send") == "1":
                sent = attempt(request, lambda: services_work.send_sitrep(request.user, row))
                if sent is not None:
                    count = len(sent) if isinstance(sent, list) else 0
                    messages.success(
                        request,
                        _("Point de situation envoyé à %(n)d membre(s) de la cellule.")
                        % {"n": count},
                    )
                    return redirect("crisis:sitreps", pk=case.pk)
            elif edited:
                messages.success(request, _("Brouillon enregistré."))
                return redirect("crisis:sitrep", pk=case.pk, sitrep=row.pk)
    return case_page(request, case, "sitreps", "crisis/sitrep.html", {"sitrep": row, "form": form})


@login_required
def clock(request, pk: int):
    case = case_for(request, pk)
    return case_page(
        request,
        case,
        "clock",
        "crisis/clock.html",
        {
            "rows": sel.clock_rows(case),
            "declared": sel.declared(case),
            "sent_form": ObligationSentForm(),
        },
    )


@login_required
def declaration(request, pk: int, obligation: int):
    """The pre-filled content of one declaration, to copy into the portal or print."""
    case = case_for(request, pk)
    row = row_of(request, case, Obligation, obligation, CrisisPerm.VIEW)
    from carbet.crisis import services_clock

    return case_page(
        request,
        case,
        "clock",
        "crisis/declaration.html",
        {
            "obligation": row,
            "lines": services_clock.declaration_form(row),
            "sent_form": ObligationSentForm(),
        },
    )


@login_required
@require_POST
def obligation_sent(request, pk: int, obligation: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, Obligation, obligation, CrisisPerm.CONTRIBUTE)
    form = ObligationSentForm(request.POST)
    if form.is_valid():
        from carbet.crisis import services_clock

        data = form.cleaned_data
        attempt(
            request,
            lambda: services_clock.mark_obligation_sent(
                request.user,
                row,
                sent_at=data["sent_at"],
                reference=data["reference"],
                note=data["note"],
            ),
            _(
                "Envoi noté : la date et la référence figurent dans "
                "« ce qui a été déclaré, et quand »."
            ),
        )
    else:
        form_errors(request, form)
    return redirect("crisis:clock", pk=case.pk)


@login_required
@require_POST
def obligation_applicable(request, pk: int, obligation: int):
    case = case_for(request, pk, CrisisPerm.MANAGE)
    row = row_of(request, case, Obligation, obligation, CrisisPerm.MANAGE)
    from carbet.crisis import services_clock

    applicable = request.POST.get("applicable") == "1"
    attempt(
        request,
        lambda: services_clock.set_applicable(
            request.user, row, applicable=applicable, note=request.POST.get("note", "")[:2000]
        ),
        _("Obligation mise à jour."),
    )
    return redirect("crisis:clock", pk=case.pk)


@login_required
def stakeholders(request, pk: int):
    case = case_for(request, pk)
    form = StakeholderForm()
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        form = StakeholderForm(request.POST)
        if form.is_valid():
            from carbet.crisis import services_board

            if attempt(
                request,
                lambda: services_board.add_stakeholder(request.user, case, **form.cleaned_data),
                _("Partie prenante ajoutée."),
            ):
                return redirect("crisis:stakeholders", pk=case.pk)
    calls: dict[int, list] = {}

    for entry in case.log.filter(stakeholder__isnull=False).order_by("-event_at")[:500]:
        calls.setdefault(entry.stakeholder_id, []).append(entry)
    people = list(case.stakeholders.all())
    for person in people:
        person.calls = calls.get(person.pk, [])[:5]
    return case_page(
        request,
        case,
        "stakeholders",
        "crisis/stakeholders.html",
        {
            "stakeholders": people,
            "form": form,
            "call_form": CallForm(),
            "access_form": ProviderAccessForm(),
            "accesses": case.accesses.select_related("stakeholder"),
            "pris": StakeholderKind.PRIS,
            "new_link": request.session.pop(f"crisis-link-{case.pk}", None),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def call(request, pk: int, stakeholder: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, Stakeholder, stakeholder, CrisisPerm.CONTRIBUTE)
    form = CallForm(request.POST)
    if form.is_valid():
        from carbet.crisis import services_board

        attempt(
            request,
            lambda: services_board.record_call(
                request.user,
                row,
                text=form.cleaned_data["text"],
                event_at=form.cleaned_data["event_at"],
            ),
            _("Appel noté dans la main courante."),
        )
    else:
        form_errors(request, form)
    return redirect("crisis:stakeholders", pk=case.pk)


@login_required
@require_POST
def access_grant(request, pk: int, stakeholder: int):
    case = case_for(request, pk, CrisisPerm.MANAGE)
    row = row_of(request, case, Stakeholder, stakeholder, CrisisPerm.MANAGE)
    form = ProviderAccessForm(request.POST)
    if not form.is_valid() or row.kind != StakeholderKind.PRIS:
        messages.error(
            request, _("Un accès ne se donne qu'au prestataire PRIS, pour une durée proposée.")
        )
        return redirect("crisis:stakeholders", pk=case.pk)
    from django.urls import reverse

    from carbet.crisis import tokens

    granted = attempt(
        request,
        lambda: tokens.grant_provider_access(request.user, row, days=form.cleaned_data["days"]),
    )
    if granted and isinstance(granted, tuple):
        _access, token = granted
        # Shown once, on the next page only (kept in the session until then, never stored).
        request.session[f"crisis-link-{case.pk}"] = request.build_absolute_uri(
            reverse("crisis_public:provider", args=[token])
        )
    return redirect("crisis:stakeholders", pk=case.pk)


@login_required
@require_POST
def access_revoke(request, pk: int, access: int):
    case = case_for(request, pk, CrisisPerm.MANAGE)
    row = row_of(request, case, ProviderAccess, access, CrisisPerm.MANAGE)
    from carbet.crisis import tokens

    attempt(request, lambda: tokens.revoke(request.user, row), _("Accès révoqué."))
    return redirect("crisis:stakeholders", pk=case.pk)
