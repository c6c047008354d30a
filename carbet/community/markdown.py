"""Markdown written by people (bulletins, articles, offers, events) turned into safe HTML.

markdown-it-py (CommonMark) with raw HTML disabled: every ``<tag>`` typed in the text is shown
as text, never interpreted. Links keep only web, mail and in-site addresses (markdown-it already
refuses ``javascript:``, ``vbscript:``, ``file:`` and ``data:``) and open with
``rel="noopener noreferrer nofollow"``. Images are not rendered (a remote image would tell its
host who reads the page): their text is shown instead. Headings are shifted down by
``heading_offset`` so that a ``#`` in the text sits below the page's own ``<h1>``.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_SAFE_HREF = re.compile(r"^(https?://|mailto:|/(?!/)|#)", re.IGNORECASE)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    return md


_MD = _parser()


def _shift_headings(tokens: list[Any], offset: int) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1:]) + offset)
            token.tag = f"h{level}"


def _secure_links(tokens: list[Any]) -> None:
    for token in tokens:
        for child in token.children or ():
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            if not _SAFE_HREF.match(href):
                child.attrSet("href", "#")
            child.attrSet("rel", "noopener noreferrer nofollow")


def render(text: str, *, heading_offset: int = 1) -> SafeString:
    """The safe HTML of ``text`` (Markdown)."""
    tokens = _MD.parse(text or "")
    _shift_headings(tokens, heading_offset)
    _secure_links(tokens)
    # Safe: raw HTML is disabled, so every character of the input is escaped by the renderer.
    return mark_safe(_MD.renderer.render(tokens, _MD.options, {}))  # noqa: S308


def _inline_text(token: Any) -> str:
    parts = []
    href = ""
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrGet("href") or "")
        elif child.type == "link_close" and href and _SAFE_HREF.match(href):
            parts.append(f" ({href})")
    return "".join(parts)


def plain(text: str) -> str:
    """The text of ``text`` without its Markdown marks (for plain-text e-mails); list items keep
    their "-" or "1." marker."""
    out: list[str] = []
    lists: list[list[int]] = []  # [counter] per open ordered list, [-1] for a bullet list
    marker = ""
    for token in _MD.parse(text or ""):
        if token.type == "bullet_list_open":
            lists.append([-1])
        elif token.type == "ordered_list_open":
            lists.append([int(token.attrGet("start") or 1) - 1])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open" and lists:
            counter = lists[-1]
            if counter[0] < 0:
                marker = "- "
            else:
                counter[0] += 1
                marker = f"{counter[0]}. "
        elif token.type == "inline":
            indent = "  " * max(0, len(lists) - 1)
            out.append(indent + marker + _inline_text(token))
            marker = ""
        elif token.type in ("fence", "code_block"):
            out.append(token.content.rstrip("\n"))
    return "\n\n".join(part for part in out if part.strip())
