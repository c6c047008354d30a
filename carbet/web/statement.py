"""The accessibility statement ("Déclaration d'accessibilité"), read from its Markdown source.

The statement and the criteria grid live in one file, ``docs/accessibility.md``; the package
ships an identical copy (``carbet/templates/web/accessibility.md``, kept equal by
``tests/a11y/test_statement.py``) so that an installed Carbet serves exactly what the docs say.
The page and the footer link ("Accessibilité : non conforme", as the RGAA requires on every
page) are both generated from it: changing the status means changing the document.

The Markdown reader handles the small subset the document uses (headings, paragraphs, lists,
tables, bold, inline code, links); every piece of text is HTML-escaped, and only web, mail and
telephone links become links (paths into the repository are shown as code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SOURCE = Path(__file__).resolve().parents[1] / "templates" / "web" / "accessibility.md"
STATUS_RE = re.compile(r"État de conformité\s*:\s*\*\*(?P<status>[^*]+)\*\*", re.IGNORECASE)
STATUSES = {
    "non conforme": gettext_lazy("non conforme"),
    "partiellement conforme": gettext_lazy("partiellement conforme"),
    "totalement conforme": gettext_lazy("totalement conforme"),
}
_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?P<text>.+?)\*\*")
_CODE = re.compile(r"`(?P<code>[^`]+)`")
_INLINE = re.compile(f"{_CODE.pattern}|{_LINK.pattern}")
_SAFE_HREF = re.compile(r"^(https?://|mailto:|tel:|/|#)", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    title: str
    status: str
    html: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "section"


def inline(text: str) -> str:
    """Escape ``text`` and turn its `code`, **bold** and [links](href) into HTML."""
    pieces: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        pieces.append(_bold(escape(text[position : match.start()])))
        if match.group("code") is not None:
            pieces.append(f"<code>{escape(match.group('code'))}</code>")
        else:
            label, href = match.group("text"), match.group("href")
            if _SAFE_HREF.match(href):
                pieces.append(f'<a href="{escape(href)}">{_bold(escape(label))}</a>')
            else:  # a path in the repository: meaningless on the site, shown as code
                pieces.append(f"{_bold(escape(label))} (<code>{escape(href)}</code>)")
        position = match.end()
    pieces.append(_bold(escape(text[position:])))
    return "".join(pieces)


def _bold(escaped: str) -> str:
    return _BOLD.sub(lambda m: f"<strong>{m.group('text')}</strong>", escaped)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def to_html(markdown: str, *, heading_offset: int = 0) -> str:
    """The HTML of a Markdown document (the subset described in the module docstring)."""
    out: list[str] = []
    lines = markdown.splitlines()
    paragraph: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index].rstrip()
        stripped = line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = min(6, len(heading.group(1)) + heading_offset)
            text = heading.group(2)
            out.append(f'<h{level} id="{_slug(text)}">{inline(text)}</h{level}>')
        elif stripped.startswith("|") and index + 1 < len(lines) and set(
            lines[index + 1].strip()
        ) <= set("|-: "):
            flush()
            head = _cells(stripped)
            index += 2
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(_cells(lines[index]))
                index += 1
            header = "".join(f'<th scope="col">{inline(c)}</th>' for c in head)
            body = "".join(
                "<tr>"
                + "".join(
                    (f'<th scope="row">{inline(c)}</th>' if n == 0 else f"<td>{inline(c)}</td>")
                    for n, c in enumerate(row)
                )
                + "</tr>"
                for row in rows
            )
            out.append(f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>")
            continue
        elif re.match(r"^([-*]|\d+\.)\s+", stripped):
            flush()
            ordered = bool(re.match(r"^\d+\.", stripped))
            tag = "ol" if ordered else "ul"
            items: list[str] = []
            while index < len(lines):
                current = lines[index].strip()
                item = re.match(r"^(?:[-*]|\d+\.)\s+(.*)$", current)
                if item:
                    items.append(item.group(1))
                elif current and items and lines[index].startswith((" ", "\t")):
                    items[-1] += " " + current  # continuation of the item
                else:
                    break
                index += 1
            out.append(f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{tag}>")
            continue
        else:
            paragraph.append(stripped)
        index += 1
    flush()
    return "\n".join(out)


@cache
def load() -> Statement:
    """The shipped statement, parsed once per process."""
    text = SOURCE.read_text(encoding="utf-8")
    title_match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    status_match = STATUS_RE.search(text)
    status = status_match.group("status").strip().lower() if status_match else "non conforme"
    # The page has its own <h1> (the document's title): the body starts after it.
    body = text[title_match.end() :] if title_match else text
    return Statement(
        title=title_match.group(1).strip() if title_match else "Déclaration d'accessibilité",
        status=status,
        html=to_html(body),
    )


def footer_label() -> str:
    """ "Accessibilité : non conforme" (the wording the RGAA asks for on every page)."""
    status = load().status
    return _("Accessibilité : %(status)s") % {"status": STATUSES.get(status, status)}
