"""What the track pages show: one structure's path, and the region's progress per step (exact
for the centre, through the disclosure rules for the ARS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse

from carbet.bydesign import track_texts
from carbet.bydesign.choices import MeasureStatus
from carbet.bydesign.models import Decision, DigitalService, TrackMark, TrackPush, TrackStatus
from carbet.bydesign.services_track import MEASURED, medico_social
from carbet.core.models import Structure
from carbet.engines import disclosure
from carbet.engines.bydesign import track


@dataclass
class EssentialRow:
    code: str
    title: str
    why: str
    how: str
    help: list[str]
    status: str
    measured: bool
    note: str
    link: str

    @property
    def status_label(self) -> str:
        return str(MeasureStatus(self.status).label)


def structure_track(structure: Structure, state: TrackStatus) -> dict[str, Any]:
    marks = {m.code: m for m in TrackMark.objects.filter(structure=structure)}
    rows = []
    for code in track.ESSENTIALS:
        text = track_texts.ESSENTIALS[code]
        link_name = track_texts.LINKS.get(code)
        rows.append(
            EssentialRow(
                code=code,
                title=str(text["title"]),
                why=str(text["why"]),
                how=str(text["how"]),
                help=[str(h) for h in text["help"]],
                status=state.essentials.get(code, MeasureStatus.NOT_DONE),
                measured=code in MEASURED or code == "care_record_decision",
                note=marks[code].note if code in marks else "",
                link=reverse(link_name, args=[structure.pk]) if link_name else "",
            )
        )
    step_text = track_texts.STEPS[state.step]
    next_text = (
        track_texts.ESSENTIALS.get(state.next_step) or track_texts.STEPS.get(state.next_step) or {}
    )
    pushes = list(TrackPush.objects.filter(structure=structure)[:5])
    return {
        "state": state,
        "steps": [
            (code, str(track_texts.STEPS[code]["title"]), code == state.step)
            for code in track.STEPS[:3]
        ],
        "step_text": step_text,
        "next_title": str(next_text.get("title", "")),
        "next_how": str(next_text.get("how", "")),
        "next_help": [str(h) for h in next_text.get("help", ())],
        "rows": rows,
        "pushes": pushes,
    }


def regional_progress(detail: bool, today: date) -> dict[str, Any]:
    """Counts of medico-social structures per step and per essential; services with a valid
    decision. ``detail`` False (the ARS): small cells hidden by ``carbet.engines.disclosure``."""
    structures = medico_social()
    total = structures.count()
    computed = TrackStatus.objects.filter(structure__in=structures)
    steps = dict(computed.values_list("step").annotate(n=Count("pk")).values_list("step", "n"))
    not_started = total - sum(steps.values())
    step_cells = [
        (
            str(track_texts.STEPS[code]["title"]),
            steps.get(code, 0) + (not_started if code == "diagnostic" else 0),
        )
        for code in track.STEPS
    ]
    # One aggregate query (JSON key lookups), not thousands of JSON documents read in Python.
    done_counts = computed.aggregate(
        **{
            code: Count("pk", filter=Q(**{f"essentials__{code}": MeasureStatus.DONE}))
            for code in track.ESSENTIALS
        }
    )
    in_force = Decision.objects.filter(
        superseded_at__isnull=True, valid_from__lte=today, valid_until__gte=today
    ).exclude(outcome="refuse")
    services_total = DigitalService.objects.count()
    services_valid = in_force.values("service").distinct().count()
    essentials = [
        (str(track_texts.ESSENTIALS[code]["title"]), done_counts[code], total)
        for code in track.ESSENTIALS
    ]
    if detail:
        return {
            "total": total,
            "steps": step_cells,
            "essentials": [(t, n, _share(n, total)) for t, n, total in essentials],
            "services_total": services_total,
            "services_valid": services_valid,
            "protected": False,
        }
    table = disclosure.protect_counts(step_cells)
    return {
        "total": total,
        "steps": table.rows() if table.published else [],
        "essentials": [
            (t, None, _pct(disclosure.protect_share(n, total))) for t, n, total in essentials
        ],
        "services_total": disclosure.rounded_total(services_total),
        "services_valid": _pct(disclosure.protect_share(services_valid, services_total)),
        "protected": True,
    }


def _share(n: int, total: int) -> int | None:
    return round(100 * n / total) if total else None


def _pct(share: float | None) -> int | None:
    return None if share is None else round(100 * share)


def structure_rows(structures: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The centre's table: each medico-social structure's step and progress (worst first)."""
    rows = (
        TrackStatus.objects.filter(structure__in=structures)
        .select_related("structure")
        .order_by("progress", "structure__name")[:limit]
    )
    return [
        {
            "structure": row.structure,
            "step": str(track_texts.STEPS[row.step]["title"]),
            "progress": row.progress,
            "next": str(
                (
                    track_texts.ESSENTIALS.get(row.next_step)
                    or track_texts.STEPS.get(row.next_step)
                    or {}
                ).get("title", "")
            ),
        }
        for row in rows
    ]
