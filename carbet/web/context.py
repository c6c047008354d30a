"""The navigation bar: built from what the user may do, and grows as services land."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from carbet.accounts.middleware import needs_second_factor
from carbet.accounts.roles import Perm
from carbet.core import contract
from carbet.core.contract import NavEntry
from carbet.core.tenancy import can
from carbet.web import statement

# The kernel's own entries; each service adds its own through its spec (carbet.core.contract).
# ``order`` sorts the whole menu: kernel entries 100–199 and 900–999, services in between.
KERNEL_NAV: list[NavEntry] = [
    NavEntry(_("Région"), "core:region", Perm.REGION_VIEW, order=100),
    NavEntry(
        _("Mes structures"), "core:my_structures", Perm.STRUCTURE_VIEW, order=110,
        hidden_for=Perm.REGION_VIEW,  # centre staff have the whole region instead
    ),
    NavEntry(_("Tableau de bord"), "findings:dashboard", Perm.FINDINGS_DETAIL, order=120),
    NavEntry(_("Vulnérabilités"), "findings:list", Perm.FINDINGS_DETAIL, order=130),
    NavEntry(_("Plans d'action"), "findings:actions", Perm.ACTION_VIEW, order=140),
    # One "regional indicators" entry per role; the three indicator pages (security, cyber
    # maturity, registry) are linked to each other by tabs (web/_indicator_tabs.html).
    NavEntry(_("Indicateurs régionaux"), "web:aggregates", Perm.REGION_VIEW, order=150),
    NavEntry(
        _("Indicateurs régionaux"), "findings:ars_dashboard", Perm.REGION_AGGREGATES, order=160,
        hidden_for=Perm.FINDINGS_DETAIL,  # the ARS; centre staff have the entry above
    ),
    # Directors sign and decide: the background jobs and the raw trail are for those who run
    # the platform (a director reaches the history of their structure from its page).
    NavEntry(_("Tâches"), "jobs:list", Perm.JOB_VIEW, order=900, hidden_for=Perm.ACCEPTANCE_SIGN),
    NavEntry(_("Journal d'audit"), "audit:list", Perm.AUDIT_VIEW_ALL, order=910),
    NavEntry(_("Comptes"), "accounts:users", Perm.USER_MANAGE, order=920),
    NavEntry(_("Délais"), "findings:sla_settings", Perm.SETTINGS_MANAGE, order=930),
]  # fmt: skip


def nav_entries() -> list[NavEntry]:
    """The whole menu, kernel and services, in display order."""
    return sorted([*KERNEL_NAV, *contract.nav_entries()], key=lambda entry: entry.order)


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
        for item in nav_entries():
            if item.perm is not None and not can(user, item.perm):
                continue
            if item.hidden_for is not None and can(user, item.hidden_for):
                continue
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
