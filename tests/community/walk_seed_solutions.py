"""Cross-tenant walk hooks of the community service: shared solutions (joined by walk_seed.py).

An offer made for structure A only (``structures=[A]``): B's people get a 404 for it; A's
answer to it and a need of A are never B's to see."""

from __future__ import annotations

from typing import Any

from carbet.community import services_solutions
from carbet.community.models import Need, Offer, OfferInterest
from carbet.core.tenancy import SYSTEM

SECRET = "CH Alpha-Secret"
TITLE = f"{SECRET} : sauvegarde externalisée financée par CaRE"

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/offres/"),
    ("director", "/communaute/offres/besoins/"),
    ("analyst", "/communaute/offres/"),
    ("analyst", "/communaute/offres/nouvelle/"),
    ("analyst", "/communaute/offres/region/"),
]


def _offer(structure_a: Any) -> Offer:
    for found in Offer.objects.filter(title=TITLE):
        if found.structures == [structure_a.pk]:
            return found
    return services_solutions.save_offer(
        SYSTEM,
        {
            "title": TITLE,
            "kind": "care_funded",
            "category": "backup",
            "description": f"{SECRET} : une sauvegarde hors ligne.",
            "provider": SECRET,
            "status": "open",
            "structures": [structure_a.pk],
        },
    )


def _interest(structure_a: Any) -> OfferInterest:
    offer = _offer(structure_a)
    found = OfferInterest.objects.filter(offer=offer, structure=structure_a).first()
    if found is not None:
        return found
    return services_solutions.set_interest(
        SYSTEM, offer, structure_a, {"kind": "need", "quantity": 40, "comment": SECRET}
    )


def _need(structure_a: Any) -> Need:
    found = Need.objects.filter(structure=structure_a, description__startswith=SECRET).first()
    if found is not None:
        return found
    return services_solutions.declare_need(
        SYSTEM, structure_a, {"category": "soc", "description": f"{SECRET} : surveillance"}
    )


def seed(structure_a: Any) -> None:
    _interest(structure_a)
    _need(structure_a)


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {
    ("offers", "id"): lambda region: _offer(region.a),
    ("interests", "id"): lambda region: _interest(region.a),
    ("needs", "id"): lambda region: _need(region.a),
}
