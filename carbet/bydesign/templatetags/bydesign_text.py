"""The measures catalogue's texts in the reader's language: ``{{ measure|measure_text:"why" }}``."""

from __future__ import annotations

from django import template

from carbet.bydesign import catalogue
from carbet.engines.bydesign.catalogue import Measure

register = template.Library()


@register.filter
def measure_text(measure: Measure, name: str) -> str:
    """The measure's ``title``, ``why`` or ``how``: English on English pages when written."""
    return catalogue.text(measure, name)
