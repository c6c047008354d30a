"""The after-action report of an exercise (PDF): summary first, then the detail.

Page 1 and 2 are the director's summary (like the platform's other reports): what was
exercised, the verdict per objective, the strengths, the improvements to make and where they
went (the action plan). Then the timeline, the expectations and the observations. Tagged
PDF (PDF/UA-1) through ``carbet.core.pdf``; the evaluation page is its accessible version.

The hot RETEX answers appear only as averages and anonymous free text; the report names no
player (participants are counted by role).
"""

from __future__ import annotations

from collections import Counter

from django.template.loader import render_to_string
from django.utils import timezone

from carbet.core.pdf import css_text, html_to_pdf
from carbet.exercises import selectors_pages as sel
from carbet.exercises.models import Exercise, Expectation


def report_html(exercise: Exercise) -> str:
    items = list(exercise.items.all())
    roles = Counter(exercise.participants.values_list("role", flat=True))
    expectations = list(
        Expectation.objects.filter(exercise=exercise)
        .select_related("inject", "result")
        .order_by("inject__offset_seconds", "id")
    )
    return render_to_string(
        "exercises/report_pdf.html",
        {
            "exercise": exercise,
            "footer": css_text(exercise.structure.name),
            "objectives": sel.objectives_of(exercise),
            "strengths": [i for i in items if i.kind == "strength"],
            "improvements": [i for i in items if i.kind == "improvement"],
            "timeline": exercise.log.order_by("at", "id")[:400],
            "expectations": expectations,
            "observations": exercise.observations.order_by("at", "id"),
            "retex": sel.retex_summary(exercise),
            "roles": sorted(roles.items()),
            "generated": timezone.now(),
        },
    )


def exercise_report_pdf(exercise: Exercise) -> bytes:
    return html_to_pdf(report_html(exercise))
