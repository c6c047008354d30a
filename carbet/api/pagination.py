"""Page-number pagination of the API's lists: ``?page=1&page_size=50``.

Every list answers ``{"count", "page", "page_size", "next", "previous", "results"}``. The order
always ends with the primary key, so two rows that tie on the visible ordering keep their place
from one page to the next. A page past the end is empty (with the real ``count``), which lets a
client loop on ``next`` without special cases.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from carbet.api.errors import ApiError

# A page number past this is refused before any arithmetic reaches the database.
MAX_PAGE_NUMBER = 10_000_000


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE_NUMBER, description="Numéro de page, à partir de 1.")
    page_size: int | None = Field(
        None,
        ge=1,
        description="Éléments par page (50 par défaut ; le maximum est fixé par le serveur).",
    )


class Page[T](Schema):
    count: int
    page: int
    page_size: int
    next: str | None
    previous: str | None
    results: list[T]


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate(
    request: HttpRequest, queryset: QuerySet, query: PageQuery, order_by: tuple[str, ...]
) -> dict[str, Any]:
    """Slice ``queryset`` (ordered by ``order_by`` then by primary key) into one page."""
    page_size = query.page_size or settings.CARBET_API_PAGE_SIZE
    maximum = settings.CARBET_API_MAX_PAGE_SIZE
    if page_size > maximum:
        raise ApiError(
            422,
            details={
                "page_size": [_("La taille de page doit être au plus %(max)s.") % {"max": maximum}]
            },
        )
    tiebreak = "-pk" if order_by and order_by[-1].startswith("-") else "pk"
    ordered = queryset.order_by(*order_by, tiebreak)
    count = ordered.count()
    start = (query.page - 1) * page_size
    results = list(ordered[start : start + page_size]) if start < count else []
    return {
        "count": count,
        "page": query.page,
        "page_size": page_size,
        "next": _page_url(request, query.page + 1) if start + page_size < count else None,
        "previous": _page_url(request, min(query.page - 1, max(1, -(-count // page_size))))
        if query.page > 1
        else None,
        "results": results,
    }
