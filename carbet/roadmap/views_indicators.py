"""Indicator pages: a structure's indicators with their trend, and the regional aggregates the
ARS reads (aggregates only: no structure's own figure)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.core import access
from carbet.core.choices import Category
from carbet.core.tenancy import can
from carbet.engines import charts, disclosure
from carbet.engines.roadmap import indicators as engine
from carbet.roadmap import indicators
from carbet.roadmap.forms import ManualIndicatorForm
from carbet.roadmap.models import IndicatorValue, RegionalIndicator
from carbet.roadmap.service import RoadmapPerm
from carbet.roadmap.views import TEMPLATES

TREND_COLOUR = "#1f5f8b"


def _display(definition, value: float | None) -> str:
    if value is None:
        return "—"
    if definition.unit == "bool":
        return _("oui") if value >= 1 else _("non")
    # Numbers in the interface's language ("1,5" in French, "1.5" in English), never a decimal
    # point beside French commas.
    if definition.unit == "percent":
        return f"{number_format(value, 0, force_grouping=True)} %"
    if definition.unit == "score":
        return f"{number_format(value, 1)} / 3"
    return number_format(value, 0 if float(value).is_integer() else 1, force_grouping=True)


def _reached(definition, value: float | None) -> bool | None:
    if value is None or definition.target is None:
        return None
    return value >= definition.target


@login_required
def structure_indicators(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    can_answer = can(request.user, RoadmapPerm.ANSWER, target)
    manual = [(d.code, d.title) for d in indicators.definitions() if d.manual]
    form = ManualIndicatorForm(choices=manual) if can_answer and manual else None
    if request.method == "POST":
        if not can_answer:
            raise PermissionDenied
        form = ManualIndicatorForm(request.POST, choices=manual)
        if form.is_valid():
            try:
                indicators.record_manual(
                    request.user,
                    target,
                    form.cleaned_data["code"],
                    form.cleaned_data["value"],
                    note=form.cleaned_data.get("note", ""),
                )
            except ValidationError as exc:
                form.add_error("value", " ".join(exc.messages))
            else:
                messages.success(request, _("Valeur enregistrée."))
                return redirect("roadmap:indicators", target.pk)
    values = IndicatorValue.objects.visible_to(request.user, RoadmapPerm.VIEW).filter(
        structure=target
    )
    rows = []
    for definition in indicators.definitions():
        series = list(
            values.filter(code=definition.code, value__isnull=False)
            .order_by("-day")
            .values_list("day", "value")[:365]
        )[::-1]
        latest = series[-1][1] if series else None
        chart = ""
        if len(series) >= 2:
            chart = charts.line_chart(
                definition.title,
                _("Évolution de l'indicateur sur l'année."),
                [d.strftime("%d/%m") for d, _v in series],
                [charts.Series(definition.title, [v for _d, v in series], TREND_COLOUR)],
            )
        rows.append(
            {
                "definition": definition,
                "value": _display(definition, latest),
                "reached": _reached(definition, latest),
                "target": _display(definition, definition.target),
                "chart": mark_safe(chart),  # noqa: S308 - charts escapes every text itself
            }
        )
    return render(
        request,
        TEMPLATES + "indicators.html",
        {"structure": target, "rows": rows, "form": form},
    )


def _regional_rows() -> list[dict[str, Any]]:
    """Each indicator's latest regional aggregate, as published (``engine.publish``)."""
    labels = dict(Category.choices)
    rows = []
    for definition in indicators.definitions():
        latest = indicators.latest_regional(definition.code)
        data = engine.publish(definition, latest.data) if latest else {}
        row: dict[str, Any] = {"definition": definition, "day": latest.day if latest else None}
        if definition.aggregate == "share" and data.get("denominator"):
            if data.get("share") is not None:
                row["headline"] = f"{data['share'] * 100:.0f} %"
                row["detail"] = _("%(yes)d structure(s) sur %(n)d") % {
                    "yes": data["numerator"],
                    "n": data["denominator"],
                }
            else:
                row["secret"] = _(
                    "Non publié : moins de 5 structures d'un côté ou de l'autre, la part "
                    "désignerait des structures."
                )
        elif definition.aggregate == "distribution" and data.get("counts"):
            counts = data["counts"]
            if data.get("withheld"):
                row["secret"] = _(
                    "Répartition non publiée : groupe trop petit pour une comparaison anonyme "
                    "(moins de 5 structures), ou toutes au même niveau."
                )
            else:
                row["levels"] = [
                    {"label": _("niveau %(n)s") % {"n": k}, "count": v} for k, v in counts.items()
                ]
                row["levels"].append({"label": _("sans audit"), "count": data.get("unknown")})
        elif definition.aggregate == "mean_by_category" and data.get("overall", {}).get("n"):
            row["headline"] = data["overall"]["label"] or "—"
            if data["overall"]["label"] is None:
                row["secret"] = _("Non publié : moins de 5 structures.")
            row["categories"] = [
                {**cell, "name": labels.get(code, code)}
                for code, cell in data.get("by_category", {}).items()
            ]
        elif data.get("n"):
            # The mean is over the structures that have the figure (e.g. ran a campaign this
            # year), never over the whole region: say how many, and out of how many.
            total = (latest.data or {}).get("structures") if latest else None
            counted = {"n": data["n"], "total": total or data["n"]}
            if data.get("label"):
                row["headline"] = data["label"] + (" %" if definition.unit == "percent" else "")
                row["detail"] = (
                    _(
                        "moyenne des %(n)d structures qui ont ce chiffre (sur %(total)d dans la "
                        "région ; les autres n'en ont pas encore), donnée par tranche"
                    )
                    % counted
                )
            elif data["n"] < disclosure.MIN_GROUP:
                row["secret"] = (
                    _(
                        "Non publié : seules %(n)d structures sur %(total)d ont ce chiffre, il en "
                        "faut au moins 5 pour qu'aucune ne soit reconnaissable."
                    )
                    % counted
                )
            else:
                row["secret"] = _(
                    "Non publié : la moyenne permettrait de reconnaître une structure."
                )
        rows.append(row)
    return rows


@login_required
def regional(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Perm.REGION_AGGREGATES):
        raise PermissionDenied
    themes = indicators.latest_regional(indicators.DIAGNOSTIC_THEMES_CODE)
    theme_rows = []
    if themes is not None:
        from carbet.roadmap.models import Framework

        framework = Framework.objects.filter(code="diagnostic").first()
        for code, data in engine.publish_themes(themes.data).items():
            overall = data.get("overall", {})
            theme_rows.append(
                {
                    "title": framework.theme_title(code) if framework else code,
                    "mean": overall.get("label"),
                    "n": overall.get("n", 0),
                }
            )
    # The trend follows the published shares: a day whose share is secret is a gap.
    exercise = indicators.definition("exercise_this_year")
    trend = [
        (day, engine.publish(exercise, data) if exercise else {})
        for day, data in list(
            RegionalIndicator.objects.filter(code="exercise_this_year")
            .order_by("-day")
            .values_list("day", "data")[:365]
        )[::-1]
    ]
    chart = ""
    points = [(d, data.get("share")) for d, data in trend]
    if sum(1 for _d, s in points if s is not None) >= 2:
        chart = charts.line_chart(
            _("Structures ayant fait un exercice de crise cette année"),
            _("Part des structures de la région, jour après jour."),
            [d.strftime("%d/%m") for d, _s in points],
            [
                charts.Series(
                    _("part (%)"),
                    [None if s is None else s * 100 for _d, s in points],
                    TREND_COLOUR,
                )
            ],
            y_max=100,
        )
    return render(
        request,
        TEMPLATES + "regional.html",
        {
            "rows": _regional_rows(),
            "theme_rows": theme_rows,
            "chart": mark_safe(chart),  # noqa: S308 - charts escapes every text itself
        },
    )
