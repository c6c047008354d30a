"""The navigation bar: built from what the user may do, and grows as services land."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from carbet.accounts.middleware import needs_second_factor
from carbet.accounts.roles import Perm
from carbet.core.tenancy import can
from carbet.web import statement


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: Perm | None


# Services add their entries here when they land; an entry only shows to those who may use it.
NAV_ITEMS: list[NavItem] = [
    NavItem(_("Région"), "core:region", Perm.REGION_VIEW),
    NavItem(_("Mes structures"), "core:my_structures", Perm.STRUCTURE_VIEW),
    NavItem(_("Tableau de bord"), "findings:dashboard", Perm.FINDINGS_DETAIL),
    NavItem(_("Vulnérabilités"), "findings:list", Perm.FINDINGS_DETAIL),
    NavItem(_("Plans d'action"), "findings:actions", Perm.ACTION_VIEW),
    NavItem(_("Exposition"), "exposure:overview", Perm.EXPOSURE_VIEW),
    NavItem(_("Annuaire"), "directory:index", Perm.DIRECTORY_VIEW),
    NavItem(_("Indicateurs régionaux"), "web:aggregates", Perm.REGION_AGGREGATES),
    NavItem(_("Sécurité régionale"), "findings:ars_dashboard", Perm.REGION_AGGREGATES),
    NavItem(_("Sensibilisation"), "awareness:index", Perm.AWARENESS_VIEW),
    NavItem(_("Feuille de route"), "roadmap:home", Perm.ROADMAP_VIEW),
    NavItem(_("Indicateurs cyber"), "roadmap:regional", Perm.REGION_AGGREGATES),
    NavItem(_("Tâches"), "jobs:list", Perm.JOB_VIEW),
    NavItem(_("Journal d'audit"), "audit:list", Perm.AUDIT_VIEW_STRUCTURE),
    NavItem(_("Comptes"), "accounts:users", Perm.USER_MANAGE),
    NavItem(_("Délais"), "findings:sla_settings", Perm.SETTINGS_MANAGE),
]


def current_item(path: str, urls: list[str]) -> int | None:
    """The index of the one menu entry the page belongs to: the longest URL that is ``path``
    or one of its parent folders. One entry at most, so that a single link says "you are here"
    (several links of /vulnerabilites/... used to claim it at once)."""
    best, best_length = None, 0
    for index, url in enumerate(urls):
        inside = path == url or (url.endswith("/") and path.startswith(url))
        if inside and len(url) > best_length:
            best, best_length = index, len(url)
    return best


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    items = []
    # Until the second factor is checked, the menu would only lead back to the code page.
    if user is not None and user.is_authenticated and not needs_second_factor(user):
        for item in NAV_ITEMS:
            if item.perm is not None and not can(user, item.perm):
                continue
            if item.url_name == "core:my_structures" and can(user, Perm.REGION_VIEW):
                continue  # centre staff have the whole region instead
            if item.url_name == "findings:ars_dashboard" and can(user, Perm.FINDINGS_DETAIL):
                continue  # those who see findings reach it from their dashboard
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue  # that service's pages have not landed in this installation
            items.append({"label": item.label, "url": url, "current": ""})
    path = getattr(request, "path", "")
    chosen = current_item(path, [item["url"] for item in items])
    if chosen is not None:
        # "page" on the entry's own page; "true" on a page inside its section.
        items[chosen]["current"] = "page" if items[chosen]["url"] == path else "true"
    return {
        "nav_items": items,
        "region_name": settings.CARBET_REGION_NAME,
        "accessibility_footer": statement.footer_label(),
    }
