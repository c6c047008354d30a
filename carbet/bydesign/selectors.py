"""What the pages and the API show: a service's measures with their state, its cyber index
explained in plain words, the decision's state, a structure's services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.bydesign import catalogue, services
from carbet.bydesign.choices import Category, MeasureStatus
from carbet.bydesign.models import Decision, DigitalService, MeasureState
from carbet.engines.bydesign.catalogue import Applicable, Measure
from carbet.engines.bydesign.index import IndexResult

EXPIRY_WARNING_DAYS = 60

# What Carbet measured, in words (``auto_reason`` codes of ``carbet.engines.bydesign.auto``).
AUTO_REASONS = {
    "password_weak": gettext_lazy(
        "L'audit de l'annuaire montre une politique de mots de passe trop faible ou sans "
        "verrouillage."
    ),
    "password_short": gettext_lazy(
        "L'audit de l'annuaire montre des mots de passe de moins de 12 caractères."
    ),
    "password_ok": gettext_lazy(
        "L'audit de l'annuaire montre une politique de mots de passe solide."
    ),
    "exposure_critical": gettext_lazy("Le dernier scan d'exposition a trouvé une faille critique."),
    "exposure_high": gettext_lazy("Le dernier scan d'exposition a trouvé une faille grave."),
    "exposure_ok": gettext_lazy(
        "Le dernier scan d'exposition n'a trouvé ni faille critique ni grave."
    ),
    "dmarc_reject": gettext_lazy("Le dernier scan montre DMARC en « reject » sur vos domaines."),
    "dmarc_weak": gettext_lazy("Le dernier scan montre un domaine sans DMARC en « reject »."),
    "mfa_ok": gettext_lazy(
        "Le dernier scan montre une double authentification sur l'accès distant."
    ),
    "mfa_missing": gettext_lazy(
        "Le dernier scan montre un accès distant sans double authentification."
    ),
    "mfa_admins_ok": gettext_lazy(
        "Le dernier audit de l'annuaire montre que chaque administrateur doit présenter une "
        "carte à puce ou une clé de sécurité."
    ),
    "mfa_admins_missing": gettext_lazy(
        "Le dernier audit de l'annuaire montre des administrateurs qui se connectent avec un "
        "simple mot de passe."
    ),
    "reporting_good": gettext_lazy(
        "La dernière simulation d'hameçonnage : au moins 3 personnes sur 10 ont signalé "
        "le courriel."
    ),
    "reporting_low": gettext_lazy(
        "La dernière simulation d'hameçonnage : moins de 3 personnes sur 10 ont signalé "
        "le courriel."
    ),
    "restore_ok": gettext_lazy(
        "Le registre des sauvegardes montre un test de restauration réussi."
    ),
    "restore_failed": gettext_lazy("Le dernier test de restauration du registre n'a pas réussi."),
    "exercise_held": gettext_lazy(
        "Un exercice de crise a été joué et clôturé dans Carbet il y a moins d'un an."
    ),
}
SOURCES = {
    "directory": gettext_lazy("audit de l'annuaire"),
    "exposure": gettext_lazy("scan d'exposition"),
    "phishing": gettext_lazy("simulation d'hameçonnage"),
    "backups": gettext_lazy("registre des sauvegardes"),
    "exercise": gettext_lazy("exercice de crise"),
}


@dataclass
class MeasureRow:
    measure: Measure
    essential: bool
    state: MeasureState | None
    effective: str

    @property
    def code(self) -> str:
        return self.measure.code

    @property
    def status_label(self) -> str:
        return str(MeasureStatus(self.effective).label)

    @property
    def auto_text(self) -> str:
        if self.state is None or not self.state.auto_status:
            return ""
        return str(AUTO_REASONS.get(self.state.auto_reason, ""))


@dataclass
class DecisionState:
    code: str  # none, valid, expiring, expired, refused, review
    label: str
    decision: Decision | None = None


@dataclass
class ServicePage:
    service: DigitalService
    rows: list[MeasureRow]
    by_category: list[tuple[str, list[MeasureRow]]]
    index: IndexResult
    explanation: list[str] = field(default_factory=list)
    decision: DecisionState | None = None

    @property
    def categories(self) -> list[tuple[str, int | None]]:
        """(category label, percent of the measures done) for the index table."""
        labels = dict(Category.choices)
        return [
            (str(labels[code]), None if share is None else round(100 * share))
            for code, share in self.index.by_category.items()
        ]


def rows_of(service: DigitalService, items: list[Applicable] | None = None) -> list[MeasureRow]:
    items = items if items is not None else catalogue.applicable(service)
    states = {s.code: s for s in MeasureState.objects.filter(service=service)}
    return [
        MeasureRow(
            item.measure,
            item.essential,
            states.get(item.code),
            states[item.code].effective if item.code in states else MeasureStatus.NOT_DONE,
        )
        for item in items
    ]


def explain(result: IndexResult, service: DigitalService) -> list[str]:
    """The index in plain words: where it comes from, what holds it down, what to do next."""
    names = catalogue.by_code()
    lines = [
        _(
            "Indice cyber %(value)s sur 5 : il compte toutes les mesures qui s'appliquent à ce "
            "service, les essentielles deux fois, une mesure en cours pour moitié."
        )
        % {"value": f"{result.value:.1f}".replace(".", ",")},
        _("%(done)d mesure(s) essentielle(s) faite(s) sur %(total)d.")
        % {"done": result.essentials_done, "total": result.essentials_total},
    ]
    if "hds" in result.capped_by:
        lines.append(
            _(
                "Des données de santé sont confiées à un hébergeur qui n'est pas certifié HDS : "
                "l'indice ne peut pas dépasser 2 tant que ce n'est pas réglé. C'est une "
                "obligation légale."
            )
        )
    if "essentials" in result.capped_by:
        lines.append(
            _(
                "Des mesures essentielles ne sont pas faites : chacune retient l'indice d'un "
                "demi-point."
            )
        )
    if result.best_next:
        titles = ", ".join(
            f"« {catalogue.text(names[c], 'title')} »" for c in result.best_next if c in names
        )
        lines.append(_("Ce qui le ferait le plus monter : %(titles)s.") % {"titles": titles})
    return lines


def decision_state(service: DigitalService, today: date) -> DecisionState:
    decision = Decision.objects.filter(service=service).first()
    if decision is None:
        return DecisionState("none", _("Aucune décision de sécurité"))
    if decision.superseded_at is not None:
        return DecisionState(
            "review",
            _(
                "Le service a changé (hébergement, exposition ou données) : une nouvelle "
                "décision est nécessaire."
            ),
            decision,
        )
    if decision.outcome == "refuse":
        return DecisionState("refused", _("Mise en service refusée"), decision)
    if today > decision.valid_until:
        return DecisionState("expired", _("Décision expirée : à renouveler"), decision)
    if decision.valid_until - today <= timedelta(days=EXPIRY_WARNING_DAYS):
        return DecisionState("expiring", _("Décision bientôt expirée"), decision)
    return DecisionState("valid", _("Décision en cours de validité"), decision)


def service_page(service: DigitalService, today: date) -> ServicePage:
    items = catalogue.applicable(service)
    rows = rows_of(service, items)
    states = {r.code: r.state for r in rows if r.state is not None}
    result = services.evaluate(service, states, items)  # type: ignore[arg-type]
    grouped = [
        (str(label), [r for r in rows if r.measure.category == code])
        for code, label in Category.choices
    ]
    return ServicePage(
        service=service,
        rows=rows,
        by_category=[(label, group) for label, group in grouped if group],
        index=result,
        explanation=explain(result, service),
        decision=decision_state(service, today),
    )


def structure_services(structure: Any, today: date) -> list[dict[str, Any]]:
    rows = []
    for service in DigitalService.objects.filter(structure=structure).order_by("name"):
        rows.append({"service": service, "decision": decision_state(service, today)})
    return rows
