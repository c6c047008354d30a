"""The case: overview (phases, cell), the director's one page, the main courante and its
exports (print view, CSV, PDF), the case report.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.core.tenancy import can
from carbet.crisis import selectors_pages as sel
from carbet.crisis.choices import Cell, CellRole
from carbet.crisis.forms import CorrectionForm, EntryForm, LogFilterForm, PhaseForm
from carbet.crisis.models import CrisisCase, LogEntry
from carbet.crisis.service import CrisisPerm
from carbet.crisis.views_common import attempt, case_for, case_page, form_errors, row_of

LOG_PAGE = 100  # entries per screen; the print view and the exports take everything


def _filters(request: Any) -> tuple[LogFilterForm, sel.LogFilters]:
    form = LogFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, sel.LogFilters(
            kind=data["kind"],
            author=data["author"],
            verified=data["verified"],
            since=data["since"],
            until=data["until"],
        )
    return form, sel.LogFilters()


CHAIN_CHECK_SECONDS = 300


def _chain(case: CrisisCase, *, fresh: bool = False) -> tuple[Any, Any]:
    """The chain check shown on the log page. Checking 20,000 seals takes a while and a cell
    appends all day, so the screen shows the last full check of the case (at most five minutes
    old, with its time and what was added since); the print view and the PDF always check
    afresh."""
    from django.core.cache import cache

    from carbet.crisis import services_log

    key = f"crisis-chain:{case.pk}"
    found = None if fresh else cache.get(key)
    if found is None:
        found = (services_log.verify_log(case), timezone.now())
        cache.set(key, found, CHAIN_CHECK_SECONDS)
    return found


@login_required
def case_detail(request, pk: int):
    case = case_for(request, pk)
    return case_page(
        request,
        case,
        "overview",
        "crisis/case.html",
        {
            "spans": sel.phase_spans(case),
            "phase_form": PhaseForm(phases=sel.next_phases(case)),
            "members": case.members.filter(active=True),
            "roles": CellRole.choices,
            "cells": Cell.choices,
            "board": sel.board_summary(case),
            "clock": sel.clock_rows(case),
        },
    )


@login_required
@require_POST
def phase_change(request, pk: int):
    case = case_for(request, pk, CrisisPerm.MANAGE)
    form = PhaseForm(request.POST, phases=sel.next_phases(case))
    if not form.is_valid():
        form_errors(request, form)
        return redirect("crisis:case", pk=case.pk)
    from carbet.crisis import services

    attempt(
        request,
        lambda: services.change_phase(
            request.user, case, form.cleaned_data["to_phase"], reason=form.cleaned_data["reason"]
        ),
        _("Phase changée ; le changement est noté dans la main courante."),
    )
    return redirect("crisis:case", pk=case.pk)


@login_required
@require_POST
def member_add(request, pk: int):
    """The centre adds someone to the cell; an account is linked only if it already covers the
    structure (a cell member never gains access to another structure through this)."""
    case = case_for(request, pk, CrisisPerm.MANAGE)
    name = request.POST.get("name", "").strip()[:200]
    role = request.POST.get("role", "")
    cell = request.POST.get("cell", Cell.STRATEGIC)
    email = request.POST.get("email", "").strip()[:254]
    if not name or role not in CellRole.values or cell not in Cell.values:
        from django.contrib import messages

        messages.error(request, _("Indiquez le nom, le rôle et la cellule du nouveau membre."))
        return redirect("crisis:case", pk=case.pk)
    account = None
    if email:
        candidate = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if candidate is not None and can(candidate, CrisisPerm.VIEW, case.structure):
            account = candidate
    from carbet.crisis import services

    attempt(
        request,
        lambda: services.add_cell_member(
            request.user,
            case,
            name=name,
            role=role,
            cell=cell,
            user=account,
            email=email,
            phone=request.POST.get("phone", "").strip()[:30],
        ),
        _("Membre ajouté à la cellule."),
    )
    return redirect("crisis:case", pk=case.pk)


@login_required
def director(request, pk: int):
    """The director's one page: phone and print."""
    case = case_for(request, pk)
    spans = sel.phase_spans(case)
    return case_page(
        request,
        case,
        "director",
        "crisis/director.html",
        {
            "current_span": spans[-1] if spans else None,
            "board": sel.board_summary(case),
            "clock": [row for row in sel.clock_rows(case) if row.state != "not_applicable"],
            "declared": sel.declared(case),
            "decisions": sel.open_decisions(case),
            "top_tasks": sel.top_tasks(case),
            "sitrep": sel.last_sitrep(case, sent_only=True) or sel.last_sitrep(case),
            "hotline": sel.hotline(),
            "now": timezone.now(),
        },
    )


@login_required
def log(request, pk: int):
    case = case_for(request, pk)
    entry_form = EntryForm()
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        entry_form = EntryForm(request.POST)
        if entry_form.is_valid():
            from carbet.crisis import services_log

            data = entry_form.cleaned_data
            done = attempt(
                request,
                lambda: services_log.append_entry(
                    request.user,
                    case,
                    text=data["text"],
                    kind=data["kind"],
                    event_at=data["event_at"],
                    source=data["source"],
                    verified=data["verified"],
                ),
                _("Entrée ajoutée à la main courante."),
            )
            if done:
                return redirect("crisis:log", pk=case.pk)
    filter_form, filters = _filters(request)
    chain, chain_at = _chain(case)
    entries = sel.log_entries(case, filters)
    total = entries.count()
    before = request.GET.get("avant", "")
    page = entries.filter(sequence__lt=int(before)) if before.isdigit() else entries
    shown = list(sel.with_corrections(case, page.order_by("-sequence")[:LOG_PAGE]))
    older = (
        shown[-1].sequence
        if shown and page.filter(sequence__lt=shown[-1].sequence).exists()
        else None
    )
    query = request.GET.copy()
    query.pop("avant", None)
    return case_page(
        request,
        case,
        "log",
        "crisis/log.html",
        {
            "entries": shown,
            "total": total,
            "truncated": total > len(shown),
            "older": older,
            "since_check": max(0, case.log.count() - chain.checked),
            "filter_form": filter_form,
            "filters": filters,
            "entry_form": entry_form,
            "chain": chain,
            "chain_at": chain_at,
            "query": query.urlencode(),
        },
    )


@login_required
def correct(request, pk: int, entry: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    original = row_of(request, case, LogEntry, entry, CrisisPerm.CONTRIBUTE)
    form = CorrectionForm(
        request.POST or None,
        initial={"text": original.text, "source": original.source, "verified": original.verified},
    )
    if request.method == "POST" and form.is_valid():
        from carbet.crisis import services_log

        data = form.cleaned_data
        done = attempt(
            request,
            lambda: services_log.correct_entry(
                request.user,
                original,
                text=data["text"],
                verified=data["verified"],
                source=data["source"],
            ),
            _("Correction ajoutée : l'entrée d'origine reste lisible, barrée."),
        )
        if done:
            return redirect("crisis:log", pk=case.pk)
    return case_page(
        request, case, "log", "crisis/correct.html", {"original": original, "form": form}
    )


@login_required
def log_print(request, pk: int):
    case = case_for(request, pk)
    _form, filters = _filters(request)
    return case_page(
        request,
        case,
        "log",
        "crisis/log_print.html",
        {
            "entries": sel.with_corrections(
                case, sel.log_entries(case, filters).iterator(chunk_size=2000)
            ),
            "print": True,
            "chain": _chain(case, fresh=True)[0],
            "now": timezone.now(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(case: CrisisCase, filters: sel.LogFilters) -> Any:
    superseded = sel.superseded_ids(case)
    yield [
        _("n°"),
        _("heure de l'événement"),
        _("heure d'enregistrement"),
        _("auteur"),
        _("source"),
        _("nature"),
        _("texte"),
        _("vérifié"),
        _("corrige l'entrée n°"),
        _("corrigée par l'entrée n°"),
        _("sceau"),
    ]
    kinds = dict(LogEntry._meta.get_field("kind").choices or [])
    sequences = dict(case.log.values_list("pk", "sequence"))
    for e in sel.log_entries(case, filters).iterator(chunk_size=2000):
        yield [
            e.sequence,
            timezone.localtime(e.event_at).isoformat(timespec="minutes"),
            timezone.localtime(e.recorded_at).isoformat(timespec="seconds"),
            _safe_cell(e.author_label),
            _safe_cell(e.source),
            str(kinds.get(e.kind, e.kind)),
            _safe_cell(e.text),
            _("oui") if e.verified else _("non"),
            sequences.get(e.supersedes_id, "") if e.supersedes_id else "",
            superseded.get(e.pk, ""),
            e.entry_hash,
        ]


def _safe_cell(text: str) -> str:
    """No spreadsheet formula from a log text (CSV injection): a leading = + - @ is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def log_csv(request, pk: int):
    case = case_for(request, pk)
    _form, filters = _filters(request)
    writer = csv.writer(_Echo(), delimiter=";")
    rows = (writer.writerow(row) for row in _csv_rows(case, filters))
    response = StreamingHttpResponse(_with_bom(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="main-courante-{case.reference}.csv"'
    return response


def _with_bom(rows: Any) -> Any:
    yield "\ufeff"  # spreadsheets open UTF-8 accents right
    yield from rows


@login_required
def log_pdf(request, pk: int):
    from carbet.crisis import pdf

    case = case_for(request, pk)
    _form, filters = _filters(request)
    response = HttpResponse(pdf.log_pdf(case, filters), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="main-courante-{case.reference}.pdf"'
    return response


@login_required
def report_pdf(request, pk: int):
    from carbet.crisis import pdf

    case = case_for(request, pk)
    response = HttpResponse(pdf.case_report_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dossier-{case.reference}.pdf"'
    return response
