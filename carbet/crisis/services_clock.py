"""The regulatory clock's side in the database: pre-filled declarations, what was sent when,
and the reminders (``carbet crisis reminders``, every 15 minutes).

The due times come from ``carbet.engines.crisis.clock`` (décret 2022-715 for the ARS / CERT
Santé, 72 hours for the CNIL, the complaint and the insurer's contract delay). Each reminder
stage is sent once, to the cell members who receive notifications, and recorded on the
obligation; the clock (``now``) is a parameter so tests can move time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.tenancy import SYSTEM, Actor
from carbet.crisis.choices import ActivityMode, AssetState, EntryKind, ObligationKind, Phase
from carbet.crisis.models import CrisisCase, Obligation
from carbet.crisis.notifications import cell_recipients, send
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import actor_label, require_case
from carbet.engines.crisis import clock


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _impact(case: CrisisCase) -> str:
    down = [
        f"{a.name} ({a.get_mode_display().lower()})"
        for a in case.activities.exclude(mode=ActivityMode.NORMAL)
    ]
    return ", ".join(down) or _("aucune activité de soins arrêtée ou dégradée à ce jour")


def _systems(case: CrisisCase) -> str:
    touched = case.assets.exclude(state=AssetState.VERIFIED).count()
    return _("%(n)d système(s) touché(s) non encore remis en service vérifié") % {"n": touched}


def _common(case: CrisisCase) -> list[tuple[str, str]]:
    structure = case.structure
    report = case.report
    return [
        (_("Structure"), structure.name),
        (_("FINESS géographique"), getattr(structure, "finess_et", "") or "—"),
        (
            _("Adresse"),
            " ".join(p for p in (structure.address, structure.postal_code, structure.city) if p)
            or "—",
        ),
        (_("Référence du dossier"), case.reference),
        (_("Date de prise de connaissance"), _when(case.aware_at)),
        (_("Début de l'incident"), _when(report.since if report else None)),
        (_("Description"), report.what if report else case.title),
        (_("Ce qui est touché"), (report.affected if report else "") or _systems(case)),
    ]


def prefill(case: CrisisCase, kind: str) -> dict[str, Any]:
    """The declaration's content, pre-filled from the case (stored on the obligation)."""
    measures = [t.title for t in case.tasks.filter(status="done").order_by("done_at")[:10]] or [
        _("mesures d'endiguement en cours")
    ]
    lines = _common(case)
    if kind == clock.ARS:
        lines += [
            (_("Type d'événement"), _("Incident de sécurité des systèmes d'information")),
            (_("Conséquences sur la prise en charge des patients"), _impact(case)),
            (_("Données personnelles concernées"), _("oui") if case.personal_data else _("non")),
            (_("Mesures prises"), "; ".join(measures)),
        ]
    elif kind == clock.CNIL:
        lines += [
            (_("Nature de la violation"), case.template_title),
            (
                _("Catégories de personnes et de données"),
                _("patients et/ou résidents, personnels : à préciser"),
            ),
            (_("Nombre approximatif de personnes"), _("à préciser")),
            (_("Conséquences probables"), _impact(case)),
            (_("Mesures prises ou envisagées"), "; ".join(measures)),
            (_("Contact (DPO)"), _dpo(case)),
        ]
    elif kind == clock.POLICE:
        lines += [
            (_("Faits"), case.title),
            (_("Préjudice"), _impact(case)),
            (
                _("Preuves disponibles"),
                _("%(n)d pièce(s) au dossier") % {"n": case.evidence.count()},
            ),
        ]
    elif kind == clock.INSURER:
        lines += [
            (_("Numéro de contrat"), _("à compléter")),
            (_("Plainte déposée le"), _sent(case, ObligationKind.POLICE)),
            (_("Mesures prises"), "; ".join(measures)),
        ]
    return {"fields": [[label, str(value)] for label, value in lines]}


def _dpo(case: CrisisCase) -> str:
    dpo = case.structure.contacts.filter(role="dpo").first()
    return f"{dpo.name} {dpo.email}".strip() if dpo else _("à compléter")


def _sent(case: CrisisCase, kind: str) -> str:
    obligation = case.obligations.filter(kind=kind).first()
    return _when(obligation.sent_at) if obligation and obligation.sent_at else _("pas encore")


def declaration_form(obligation: Obligation) -> list[tuple[str, str]]:
    """The pre-filled lines of the declaration, refreshed from the case until it is sent."""
    if obligation.sent_at is None:
        obligation.content = prefill(obligation.case, obligation.kind)
    return [(str(label), str(value)) for label, value in obligation.content.get("fields", [])]


def mark_obligation_sent(
    actor: Actor,
    obligation: Obligation,
    *,
    sent_at: dt.datetime | None = None,
    reference: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Obligation:
    """Record that the declaration went (when, and the reference received); logged."""
    from carbet.crisis.services_log import append_entry

    case = obligation.case
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    now = now or timezone.now()
    sent_at = sent_at or now
    with transaction.atomic():
        if obligation.sent_at is None:
            obligation.content = prefill(case, obligation.kind)
        obligation.sent_at = sent_at
        obligation.sent_by = actor_label(actor)[:255]
        obligation.reference = reference.strip()[:200] or obligation.reference
        obligation.note = note or obligation.note
        obligation.applicable = True
        obligation.save()
        append_entry(
            actor,
            case,
            kind=EntryKind.COMMUNICATION,
            text=_("%(what)s envoyée le %(when)s%(ref)s.")
            % {
                "what": obligation.get_kind_display(),
                "when": _when(sent_at),
                "ref": (_(" (référence : %(r)s)") % {"r": obligation.reference})
                if obligation.reference
                else "",
            },
            event_at=sent_at,
            now=now,
        )
        audit.record(
            actor,
            "crisis.declared",
            case,
            changes={"kind": obligation.kind, "reference": obligation.reference},
        )
    return obligation


def set_reference(actor: Actor, obligation: Obligation, *, reference: str) -> Obligation:
    """The reference received after sending (an acknowledgement often comes later)."""
    require_case(actor, obligation.case, CrisisPerm.CONTRIBUTE)
    obligation.reference = reference.strip()[:200]
    obligation.save(update_fields=["reference"])
    audit.record(actor, "crisis.reference", obligation.case, changes={"kind": obligation.kind})
    return obligation


def set_applicable(
    actor: Actor, obligation: Obligation, *, applicable: bool, note: str = ""
) -> Obligation:
    """Say an obligation does not apply (no insurance contract...), with why."""
    require_case(actor, obligation.case, CrisisPerm.MANAGE)
    obligation.applicable = applicable
    obligation.note = note
    obligation.save(update_fields=["applicable", "note"])
    audit.record(
        actor,
        "crisis.applicable",
        obligation.case,
        changes={"kind": obligation.kind, "applicable": applicable},
    )
    return obligation


def obligation_status(obligation: Obligation, *, now: dt.datetime | None = None) -> str:
    return clock.status(
        obligation.due_at,
        applicable=obligation.applicable,
        sent=obligation.sent_at is not None,
        now=now or timezone.now(),
    )


def _subject(stage: str) -> str:
    return {
        "soon": _("[Carbet] %(case)s : %(what)s à faire avant le %(due)s"),
        "due": _("[Carbet] %(case)s : %(what)s à faire maintenant"),
        "late": _("[Carbet] %(case)s : %(what)s en retard"),
    }[stage]


def _reminder_body(obligation: Obligation, stage: str) -> str:
    lines = [
        _("Dossier %(ref)s — %(title)s")
        % {"ref": obligation.case.reference, "title": obligation.case.title},
        "",
        _("Déclaration : %(what)s") % {"what": obligation.get_kind_display()},
        _("Échéance : %(due)s") % {"due": _when(obligation.due_at)},
        _("Pourquoi : %(basis)s") % {"basis": obligation.basis},
        "",
        _(
            "Le contenu est pré-rempli dans Carbet : ouvrez le dossier, rubrique Déclarations, "
            "puis indiquez la date d'envoi et la référence reçue."
        ),
    ]
    if stage == "late":
        lines.insert(0, _("L'échéance est dépassée."))
    return "\n".join(lines)


def _lock(obligation_id: int) -> Obligation | None:
    queryset = Obligation.objects.select_related("case")
    if connection.vendor == "postgresql":
        queryset = queryset.select_for_update()
    return queryset.filter(pk=obligation_id).first()


def send_reminders(*, now: dt.datetime | None = None, actor: Actor = SYSTEM) -> int:
    """Send the reminder stages reached and not yet sent; returns how many were sent."""
    now = now or timezone.now()
    candidates = (
        Obligation.objects.visible_to(SYSTEM)
        .filter(applicable=True, sent_at__isnull=True, due_at__isnull=False)
        .exclude(case__phase=Phase.CLOSED)
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in list(candidates):
        with transaction.atomic():
            obligation = _lock(pk)
            if obligation is None:
                continue
            stage = clock.reminder_stage(
                obligation.kind,
                obligation.due_at,
                applicable=obligation.applicable,
                sent=obligation.sent_at is not None,
                already=obligation.reminders_sent,
                now=now,
            )
            if stage is None:
                continue
            recipients = cell_recipients(obligation.case)
            subject = _subject(stage) % {
                "case": obligation.case.reference,
                "what": obligation.get_kind_display(),
                "due": _when(obligation.due_at),
            }
            delivered = send(subject, _reminder_body(obligation, stage), recipients)
            if recipients and not delivered:
                continue  # nobody reached: try again at the next run
            obligation.reminders_sent = [*obligation.reminders_sent, stage]
            obligation.save(update_fields=["reminders_sent"])
            sent += 1
    if sent:
        audit.record(actor, "crisis.reminders", changes={"sent": sent})
    return sent
