"""One structure's dashboard: what to do first, in plain French, with counts, trend and peers.

Shared by the structure dashboard page and the structure's PDF report, so both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carbet.accounts.roles import Perm
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, can, grants
from carbet.engines.posture import SCORE_RULES, PostureCounts
from carbet.findings.choices import Severity
from carbet.findings.models import ActionItem, ActionStatus, Finding, RiskAcceptance
from carbet.findings.models.acceptance import RiskAcceptanceStatus
from carbet.findings.posture import peers, selectors

OPEN_ACTION_STATUSES = (ActionStatus.TODO, ActionStatus.IN_PROGRESS, ActionStatus.DONE)
DEADLINE_HORIZON_DAYS = 30
MAX_HOW = 320


def optional_url(name: str, *args: Any, query: str = "") -> str | None:
    """The URL of ``name`` if that page exists in this installation, else ``None``."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class PriorityItem:
    """One of "what to do first": a finding, why it comes first and how to fix it."""

    finding: Finding
    severity_label: str
    why: str
    how: str
    overdue_days: int
    url: str | None


def _why(finding: Finding, today: date) -> tuple[str, int]:
    parts = []
    if finding.severity >= Severity.CRITICAL:
        parts.append(_("Faille critique : un attaquant peut s'en servir facilement."))
    elif finding.severity >= Severity.HIGH:
        parts.append(_("Faille élevée : elle facilite une attaque."))
    if finding.kev:
        parts.append(_("Des attaquants l'exploitent déjà ailleurs."))
    if finding.internet_exposed:
        parts.append(_("Elle est visible depuis internet."))
    overdue_days = 0
    if finding.sla_due:
        if finding.sla_due < today:
            overdue_days = (today - finding.sla_due).days
            parts.append(
                ngettext(
                    "En retard de %(n)d jour (échéance du %(day)s).",
                    "En retard de %(n)d jours (échéance du %(day)s).",
                    overdue_days,
                )
                % {"n": overdue_days, "day": date_format(finding.sla_due, "SHORT_DATE_FORMAT")}
            )
        else:
            parts.append(
                _("À corriger avant le %(day)s.")
                % {"day": date_format(finding.sla_due, "SHORT_DATE_FORMAT")}
            )
    return " ".join(parts), overdue_days


def _severity_floor(counts: PostureCounts | None, limit: int) -> int:
    """The lowest severity the first ``limit`` priorities can have, from the open counts: a
    structure with 50,000 open findings then sorts its few critical ones, not all of them."""
    if counts is None:
        return Severity.INFO
    running = 0
    for severity, n in (
        (Severity.CRITICAL, counts.open_critical),
        (Severity.HIGH, counts.open_high),
        (Severity.MEDIUM, counts.open_medium),
        (Severity.LOW, counts.open_low),
    ):
        running += n
        if running >= limit:
            return severity
    return Severity.INFO


def priorities(
    actor: Actor,
    structure: Structure,
    *,
    today: date,
    limit: int = 5,
    counts: PostureCounts | None = None,
):
    """The open findings to fix first: worst first, then exploited, then earliest deadline.

    ``counts`` (the structure's open counts, when known) narrows the sort to the severities
    that can make the list."""
    rows = (
        selectors.counted_once(Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL))
        .filter(
            structure=structure,
            status__in=selectors.OPEN,
            severity__gte=_severity_floor(counts, limit),
        )
        .only(
            "id",
            "title",
            "remediation",
            "severity",
            "kev",
            "internet_exposed",
            "sla_due",
            "structure_id",
            "cve",
        )
        .order_by("-severity", "-kev", F("sla_due").asc(nulls_last=True), "id")[:limit]
    )
    items = []
    for finding in rows:
        why, overdue_days = _why(finding, today)
        how = _short(finding.remediation, MAX_HOW) or _(
            "Voyez le détail avec votre référent cyber ou votre prestataire informatique."
        )
        items.append(
            PriorityItem(
                finding,
                str(selectors.SEVERITY_WORDS.get(finding.severity, "")),
                why,
                how,
                overdue_days,
                optional_url("findings:detail", finding.pk),
            )
        )
    return items


@dataclass(frozen=True)
class Deadline:
    day: date
    text: str
    overdue: bool


def deadlines(actor: Actor, structure: Structure, *, today: date, limit: int = 8) -> list[Deadline]:
    """Coming dates (30 days): findings due (counted per day), actions due, acceptances ending."""
    horizon = today + timedelta(days=DEADLINE_HORIZON_DAYS)
    found: list[Deadline] = []
    due = (
        selectors.counted_once(Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL))
        .filter(
            structure=structure,
            status__in=selectors.OPEN,
            sla_due__gte=today,
            sla_due__lte=horizon,
        )
        .values("sla_due")
        .annotate(n=Count("id"))
        .order_by("sla_due")
    )
    for row in due:
        found.append(
            Deadline(
                row["sla_due"],
                ngettext(
                    "%(n)d vulnérabilité à corriger",
                    "%(n)d vulnérabilités à corriger",
                    row["n"],
                )
                % {"n": row["n"]},
                False,
            )
        )
    if can(actor, Perm.ACTION_VIEW, structure):
        actions = (
            ActionItem.objects.visible_to(actor, Perm.ACTION_VIEW)
            .filter(structure=structure, status__in=OPEN_ACTION_STATUSES, due_date__lte=horizon)
            .exclude(status=ActionStatus.DONE)
            .order_by("due_date")
            .values_list("due_date", "title")[:limit]
        )
        found.extend(
            Deadline(day, _("Action : %(title)s") % {"title": _short(title, 90)}, day < today)
            for day, title in actions
            if day is not None
        )
    ending = (
        RiskAcceptance.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
        .filter(
            structure=structure,
            status=RiskAcceptanceStatus.APPROVED,
            expires_on__gte=today,
            expires_on__lte=horizon,
        )
        .values_list("expires_on", "pk")
    )
    found.extend(
        Deadline(day, _("Fin de l'acceptation de risque n° %(n)s") % {"n": pk}, False)
        for day, pk in ending
    )
    found.sort(key=lambda d: (not d.overdue, d.day))
    return found[:limit]


def open_actions(actor: Actor, structure: Structure, *, limit: int | None = 10) -> list[ActionItem]:
    """The structure's action plan items still to do, most urgent first."""
    if not can(actor, Perm.ACTION_VIEW, structure):
        return []
    rows = (
        ActionItem.objects.visible_to(actor, Perm.ACTION_VIEW)
        .filter(structure=structure, status__in=OPEN_ACTION_STATUSES)
        .select_related("campaign")
        .order_by("priority", F("due_date").asc(nulls_last=True), "id")
    )
    return list(rows[:limit] if limit else rows)


@dataclass
class StructureDashboard:
    structure: Structure
    today: date
    counts: PostureCounts
    score_before: int | None
    priorities: list[PriorityItem]
    deadlines: list[Deadline]
    actions: list[ActionItem]
    trend_days: list[date]
    trend_scores: list[int | None]
    peers: peers.PeerComparison | None
    by_source: dict[str, selectors.SourceCell]

    @property
    def score(self) -> int:
        return self.counts.score

    @property
    def trend(self) -> str | None:
        return selectors.trend(self.counts.score, self.score_before)

    @property
    def overdue_actions(self) -> int:
        return sum(1 for a in self.actions if a.due_date and a.due_date < self.today)


def _covered(actor: Actor) -> list[int]:
    """Every structure whose figures ``actor`` may see: left out of the peer comparison, since
    what one knows cannot be subtracted from what is shown. Centre staff may see every figure
    anyway: they get the comparison the structure's own people get (the PDF they hand over)."""
    if grants(actor, Perm.FINDINGS_DETAIL).everything:
        return []
    return list(
        Structure.objects.visible_to(actor, Perm.FINDINGS_DETAIL).values_list("pk", flat=True)
    )


def card_and_chart(
    actor: Actor, structure: Structure, live: PostureCounts, *, today: date
) -> tuple[list[date], list[int | None], int | None]:
    """The score chart's days and scores and the card's "30 days ago" figure, from one read of
    the structure's snapshots, so the card and the chart can never tell two stories.

    The chart ends with today's live score (the card's figure) in place of today's snapshot,
    which was taken at night and may be older than the last scan; the comparison is the
    latest snapshot of the same series at least ``COMPARE_DAYS`` old (and at most twice that).
    """
    days, scores = selectors.structure_score_trend(
        actor, structure, today=today, days=max(selectors.TREND_DAYS, 2 * selectors.COMPARE_DAYS)
    )
    series = dict(zip(days, scores, strict=True))
    series[today] = live.score
    oldest_kept = today - timedelta(days=selectors.COMPARE_DAYS * 2)
    comparable = [
        d for d in series if oldest_kept <= d <= today - timedelta(days=selectors.COMPARE_DAYS)
    ]
    before = series[max(comparable)] if comparable else None
    shown = sorted(d for d in series if d > today - timedelta(days=selectors.TREND_DAYS))
    if len(shown) < 2:  # today alone is the card, not a trend
        return [], [], before
    return shown, [series[d] for d in shown], before


def structure_dashboard(actor: Actor, structure: Structure, *, today: date) -> StructureDashboard:
    """Everything the structure page and the director's summary show (a dozen queries)."""
    counts, cells = selectors.live_counts(actor, today=today, structure_ids=[structure.pk])
    own = counts.get(structure.pk, PostureCounts())
    days, scores, before = card_and_chart(actor, structure, own, today=today)
    return StructureDashboard(
        structure=structure,
        today=today,
        counts=own,
        score_before=before,
        priorities=priorities(actor, structure, today=today, counts=own),
        deadlines=deadlines(actor, structure, today=today),
        actions=open_actions(actor, structure),
        trend_days=days,
        trend_scores=scores,
        peers=peers.peer_comparison(
            structure, today=today, own_counts=own, viewer_structures=_covered(actor)
        ),
        by_source=cells.get(structure.pk, {}),
    )


def score_verdict(score: int) -> tuple[str, str]:
    """A word for the score and the badge class the pages use for it."""
    if score >= 80:
        return _("bonne"), "ok"
    if score >= 50:
        return _("à améliorer"), "warn"
    return _("préoccupante"), "danger"


def score_explanation() -> list[str]:
    """The posture score's rules as plain-French sentences (from ``SCORE_RULES``)."""
    words = {
        "open_critical": _("chaque vulnérabilité critique ouverte"),
        "open_high": _("chaque vulnérabilité élevée ouverte"),
        "open_medium": _("chaque vulnérabilité moyenne ouverte"),
        "overdue": _("chaque vulnérabilité qui a dépassé sa date limite"),
    }
    lines = [_("Le score part de 100 points.")]
    for rule in SCORE_RULES:
        points = f"{rule.points:g}".replace(".", ",")
        template = (
            _("%(what)s retire %(points)s point, %(cap)s points au plus.")
            if rule.points < 2
            else _("%(what)s retire %(points)s points, %(cap)s points au plus.")
        )
        lines.append(
            template % {"what": words[rule.key].capitalize(), "points": points, "cap": rule.cap}
        )
    lines.append(
        _(
            "Le score ne descend jamais sous 0. Au-dessus de 80, la situation est bonne ; "
            "entre 50 et 80, elle est à améliorer ; sous 50, elle est préoccupante."
        )
    )
    return lines


def summary_sentence(data: StructureDashboard) -> str:
    """The director's one-sentence answer to "where do we stand?"."""
    c = data.counts
    if c.open_total == 0:
        return _("Aucune vulnérabilité n'est ouverte aujourd'hui : continuez ainsi.")
    # Zero is said in words ("aucune"), never "0 vulnérabilités".
    if c.open_critical:
        text = ngettext(
            "Votre structure a %(crit)d vulnérabilité critique",
            "Votre structure a %(crit)d vulnérabilités critiques",
            c.open_critical,
        ) % {"crit": c.open_critical}
    else:
        text = _("Votre structure n'a aucune vulnérabilité critique")
    if c.open_high:
        text += ngettext(
            " et %(high)d élevée à corriger.", " et %(high)d élevées à corriger.", c.open_high
        ) % {"high": c.open_high}
    else:
        text += _(" et aucune élevée.")
    if c.overdue:
        text += " " + ngettext(
            "%(n)d a dépassé sa date limite.", "%(n)d ont dépassé leur date limite.", c.overdue
        ) % {"n": c.overdue}
    else:
        text += " " + _("Aucune n'a dépassé sa date limite.")
    return text
