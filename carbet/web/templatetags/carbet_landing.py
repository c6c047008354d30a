"""Template tags of the landing pages: what waits for the viewer's signature."""

from __future__ import annotations

from typing import Any

from django import template

from carbet.web import landing

register = template.Library()


@register.simple_tag(takes_context=True)
def to_sign(context: Any, structure: Any) -> list[landing.ToSign]:
    """``{% to_sign structure as items %}``: what the viewer must sign for ``structure``."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return landing.to_sign(user, structure)


@register.simple_tag(takes_context=True)
def structure_services(context: Any, structure: Any) -> list[tuple[str, str]]:
    """``{% structure_services structure as links %}``: the services' pages of ``structure``
    the viewer may open (exposure, directory, awareness, roadmap…), as (label, url)."""
    from carbet.core.selectors import service_links

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return service_links(user, structure)
