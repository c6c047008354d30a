"""The community's home page: what needs attention first, then what is new, from each part's
own selectors (one truth: the home shows the same rows as the part's pages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from carbet.community import (
    selectors_aid,
    selectors_alerts,
    selectors_bulletins,
    selectors_events,
    selectors_knowledge,
    selectors_solutions,
)
from carbet.community.choices import Acknowledgement, AlertStatus, PostStatus
from carbet.community.service import CommunityPerm
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, can

SHOWN = 5


@dataclass
class Home:
    rights: dict[str, bool]
    structures: list[Structure] = field(default_factory=list)
    alerts: list[Any] = field(default_factory=list)
    alerts_waiting: int = 0
    bulletins: list[Any] = field(default_factory=list)
    bulletins_unread: int = 0
    events: list[Any] = field(default_factory=list)
    posts: list[Any] = field(default_factory=list)
    messages_unread: int = 0
    offers: list[Any] = field(default_factory=list)
    sheets: list[Any] = field(default_factory=list)
    exposures: list[Any] = field(default_factory=list)
    last_run: Any = None

    @property
    def nothing_to_do(self) -> bool:
        return not (self.alerts_waiting or self.bulletins_unread or self.messages_unread)


def _rights(actor: Actor) -> dict[str, bool]:
    return {
        "inventory": can(actor, CommunityPerm.INVENTORY),
        "aid": can(actor, CommunityPerm.AID),
        "publish": can(actor, CommunityPerm.PUBLISH),
        "region": can(actor, CommunityPerm.REGION),
        "exchange": can(actor, CommunityPerm.EXCHANGE),
    }


def home(actor: Actor) -> Home:
    page = Home(rights=_rights(actor))
    if page.rights["inventory"] and not page.rights["region"]:
        page.structures = list(
            Structure.objects.visible_to(actor, CommunityPerm.INVENTORY).order_by("name")[:20]
        )
        waiting = selectors_alerts.alerts_for(actor).filter(status=AlertStatus.NEW)
        page.alerts_waiting = waiting.count()
        page.alerts = list(waiting.order_by("-vulnerability__kev", "-matched_at")[:SHOWN])
    unread = selectors_bulletins.deliveries_for(actor).filter(status=Acknowledgement.UNREAD)
    page.bulletins_unread = unread.count()
    page.bulletins = list(selectors_bulletins.deliveries_for(actor)[:SHOWN])
    page.events = list(selectors_events.visible_events(actor)[:3])
    if page.rights["aid"]:
        page.posts = list(
            selectors_aid.board(actor).filter(status=PostStatus.OPEN).select_related("structure")[
                :SHOWN
            ]
        )
        page.messages_unread = selectors_aid.unread_count(actor)
    page.offers = list(selectors_solutions.offers_shown_to(actor)[:3])
    page.sheets = selectors_knowledge.reflex_sheets()[:6]
    if page.rights["region"]:
        page.exposures = selectors_alerts.region_exposure(actor, only_open=True, limit=SHOWN)
        page.last_run = selectors_alerts.last_run()
    return page
