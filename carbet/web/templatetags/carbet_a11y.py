"""Template helpers for accessibility (RGAA 4.1): ``{{ form|has_required }}``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def has_required(form: Any) -> bool:
    """Whether a form shows at least one required field (then it explains the asterisk)."""
    fields = getattr(form, "visible_fields", None)
    if fields is None:
        return False
    return any(getattr(bound.field, "required", False) for bound in fields())
