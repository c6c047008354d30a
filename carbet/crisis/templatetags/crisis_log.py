"""The main courante's entries as HTML, built in Python.

A 90-day crisis log page shows 100 entries; one template include per entry, then one
``format_html`` per fragment, took most of the page's time (``benchmarks/crisis.py``). The
markup is the one the include produced. Every value that comes from the database goes through
``escape`` (the standard library's, which escapes the quotes too) before it is placed; only the
finished list is marked safe, once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

register = template.Library()
PLACEHOLDER = 987654321


def _words() -> dict[str, str]:
    """The page's fixed words, translated and escaped once."""
    words = {
        "event": _("événement"),
        "noted": _("noté"),
        "source": _("source :"),
        "verified": _("vérifié"),
        "unverified": _("non vérifié"),
        "corrected": _("Corrigée"),
        "by_entry": _("par l'entrée"),
        "struck": _(" (texte d'origine barré ci-dessous)"),
        "corrects": _("Corrige l'entrée"),
        "correct": _("Corriger"),
        "the_entry": _("l'entrée"),
        "none": _("Aucune entrée."),
    }
    return {key: escape(str(value)) for key, value in words.items()}


def _when(value: datetime | None) -> str:
    return localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def _text(value: str) -> str:
    """``linebreaksbr``: escaped, each line break a ``<br>``."""
    return escape(value.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _meta(e: Any, w: dict[str, str]) -> str:
    source = f" · {w['source']} {escape(e.source)}" if e.source else ""
    if e.verified:
        tag = f'<span class="cr-tag cr-done">{w["verified"]}</span>'
    else:
        tag = f'<span class="cr-tag cr-muted">{w["unverified"]}</span>'
    return (
        f'<div class="cr-meta">n° {int(e.sequence)} · '
        f"<strong>{escape(str(e.get_kind_display()))}</strong> · "
        f"{w['event']} {_when(e.event_at)} · {w['noted']} {_when(e.recorded_at)} · "
        f"{escape(e.author_label)}{source} · {tag}</div>"
    )


def _entry(e: Any, w: dict[str, str], correct_url: str | None) -> str:
    parts = [_meta(e, w)]
    corrected_by = int(e.corrected_by) if e.corrected_by else None
    if corrected_by:
        parts.append(
            f'<p class="cr-meta"><strong>{w["corrected"]}</strong> {w["by_entry"]} '
            f'<a href="#e{corrected_by}">n° {corrected_by}</a>{w["struck"]}</p>'
        )
    parts.append(f'<div class="cr-text">{_text(e.text)}</div>')
    if e.corrects:
        corrects = int(e.corrects)
        parts.append(
            f'<p class="cr-meta">{w["corrects"]} <a href="#e{corrects}">n° {corrects}</a></p>'
        )
    if correct_url and not corrected_by:
        url = escape(correct_url.replace(str(PLACEHOLDER), str(int(e.pk))))
        parts.append(
            f'<p class="cr-meta cr-noprint"><a href="{url}">{w["correct"]}'
            f'<span class="visually-hidden"> {w["the_entry"]} n° {int(e.sequence)}</span></a></p>'
        )
    css = ' class="cr-superseded"' if corrected_by else ""
    body = "\n".join(parts)
    return f'<li id="e{int(e.sequence)}"{css}>\n{body}\n</li>'


@register.simple_tag
def log_entries(
    entries: Iterable[Any], case: Any, may_contribute: bool = False, printing: bool = False
) -> SafeString:
    """The ``<li>`` of each entry (a "Corriger" link for those who may contribute, never in
    print), or one "no entry" item."""
    words = _words()
    correct_url = None
    if may_contribute and not printing:
        correct_url = reverse("crisis:correct", args=[case.pk, PLACEHOLDER])
    items = [_entry(e, words, correct_url) for e in entries]
    # Safe: every database value above went through ``escape`` or ``int``.
    return mark_safe("\n".join(items) or f"<li>{words['none']}</li>")  # noqa: S308
