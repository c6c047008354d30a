"""Who a targeted object (bulletin, offer, event) reaches: the ``Targeted`` criteria resolved to
structures.

The criteria combine with AND; an empty list means "any". ``structures`` names structures one
by one, and then the other criteria are ignored. Sizes come from beds + places, with the same
thresholds as ``Structure.size_label``: small under 100, medium from 100 to 499, large from 500.
Products are the structures whose *active* inventory holds a line whose product or application
name contains one of the given names (case-insensitive).

This is service-level code: it resolves a region-wide audience for the centre and is never
called with a person's rights (views go through ``visible_to``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from carbet.core.models import Structure

SMALL, MEDIUM, LARGE = "small", "medium", "large"
# capacity (beds + places) bounds, inclusive; None: no upper bound
SIZE_BOUNDS: dict[str, tuple[int, int | None]] = {
    SMALL: (0, 99),
    MEDIUM: (100, 499),
    LARGE: (500, None),
}
SIZE_CHOICES = (
    (SMALL, _("Petite (moins de 100 lits et places)")),
    (MEDIUM, _("Moyenne (100 à 499 lits et places)")),
    (LARGE, _("Grande (500 lits et places ou plus)")),
)


class TargetedLike(Protocol):
    """A ``Targeted`` model instance, saved or not, or anything with the same lists."""

    categories: list[str]
    departements: list[str]
    ghts: list[int]
    sizes: list[str]
    products: list[str]
    structures: list[int]


def size_of(capacity: int) -> str:
    """The size key of a structure with ``capacity`` beds and places."""
    for key, (low, high) in SIZE_BOUNDS.items():
        if capacity >= low and (high is None or capacity <= high):
            return key
    return SMALL


def _ints(values: Iterable[Any]) -> list[int]:
    out = []
    for value in values or ():
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            continue
    return out


def _names(values: Iterable[Any]) -> list[str]:
    return [str(v).strip() for v in values or () if str(v).strip()]


def _size_q(sizes: list[str]) -> Q:
    q = Q(pk__in=[])
    for size in sizes:
        bounds = SIZE_BOUNDS.get(size)
        if bounds is None:
            continue
        low, high = bounds
        part = Q(_capacity__gte=low)
        if high is not None:
            part &= Q(_capacity__lte=high)
        q |= part
    return q


def _product_q(products: list[str]) -> Q:
    from carbet.community.models import SoftwareLine

    match = Q(pk__in=[])
    for name in products:
        match |= Q(product__icontains=name) | Q(name__icontains=name)
    lines = SoftwareLine.objects.filter(match, active=True).values("structure_id")
    return Q(pk__in=lines)


def structures_targeted(obj: TargetedLike) -> QuerySet[Structure]:
    """The structures ``obj`` is for (a fresh queryset, ordered by name)."""
    named = _ints(getattr(obj, "structures", None) or [])
    if named:
        return Structure.objects.filter(pk__in=named).order_by("name")
    qs = Structure.objects.all()
    categories = _names(getattr(obj, "categories", None) or [])
    if categories:
        qs = qs.filter(category__in=categories)
    departements = _names(getattr(obj, "departements", None) or [])
    if departements:
        qs = qs.filter(departement__in=departements)
    ghts = getattr(obj, "ghts", None) or []
    if ghts:
        qs = qs.filter(organisation__ght_id__in=_ints(ghts))
    sizes = _names(getattr(obj, "sizes", None) or [])
    if sizes:
        qs = qs.annotate(_capacity=F("beds") + F("places")).filter(_size_q(sizes))
    products = _names(getattr(obj, "products", None) or [])
    if products:
        qs = qs.filter(_product_q(products))
    return qs.order_by("name")


def is_targeted(obj: TargetedLike, structure: Structure) -> bool:
    """Whether ``structure`` is one of the structures ``obj`` is for."""
    if structure is None or structure.pk is None:
        return False
    return structures_targeted(obj).filter(pk=structure.pk).exists()


def is_empty(obj: TargetedLike) -> bool:
    """True when no criterion is set: the object is for the whole region."""
    return not any(
        getattr(obj, field, None)
        for field in ("categories", "departements", "ghts", "sizes", "products", "structures")
    )
