"""The landing-page sanitiser: whatever HTML comes in, no password can ever leave the browser.

The page is rebuilt token by token from an allow-list (stdlib ``html.parser``), never patched:

- scripts, styles, frames, objects, embeds, ``<base>``, ``<meta>``, ``<link>`` are dropped with
  their content, as are every ``on*`` handler and ``style`` attribute (the public pages run
  under the same strict CSP as the rest of Carbet);
- every form posts to Carbet's submit endpoint (its ``action`` is replaced, whatever it was);
- every password input — and any input whose name or id looks like a password or a secret — loses
  its ``name`` and ``value``: the browser then has nothing to send for it;
- links and images keep only same-site relative targets: the page is self-contained, so a
  visit leaks to no third party.

The result lists the *names* of the fields that remain, which is all the submit endpoint ever
records (whether something was submitted, never what).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

MAX_INPUT_CHARS = 500_000
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "button", "caption", "code", "dd", "div", "dl",
        "dt", "em", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
        "h4", "h5", "h6", "header", "hr", "i", "img", "input", "label", "legend", "li", "main",
        "ol", "option", "p", "pre", "section", "select", "small", "span", "strong", "sub",
        "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
VOID_TAGS = frozenset({"br", "hr", "img", "input"})
# Dropped together with everything inside them.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math",
     "frame", "frameset", "applet", "title"}
)  # fmt: skip
ALLOWED_ATTRS = frozenset(
    {"class", "id", "href", "src", "alt", "title", "type", "name", "value", "placeholder",
     "for", "colspan", "rowspan", "width", "height", "lang", "dir", "role", "aria-label",
     "aria-hidden", "autocomplete", "maxlength", "size", "rows", "cols", "disabled",
     "selected", "checked", "required", "readonly", "multiple", "label"}
)  # fmt: skip
SECRET_NAME_RE = re.compile(
    r"pass|pwd|mdp|mot.?de.?passe|secret|pin\b|otp|code|token|card|carte|cvv|cvc|iban",
    re.IGNORECASE,
)
SAFE_URL_RE = re.compile(r"^(#|/(?![/\\])|[A-Za-z0-9_-]+(/|\.|$))")
NAME_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,60}$")


@dataclass
class SanitizedPage:
    html: str
    field_names: list[str] = field(default_factory=list)
    stripped_secret_fields: int = 0
    removed: list[str] = field(default_factory=list)


def is_secret_input(attrs: dict[str, str]) -> bool:
    """Whether an input may carry a credential: password type, or a name/id that says so."""
    kind = (attrs.get("type") or "text").strip().lower()
    if kind == "password":
        return True
    if kind in ("hidden", "submit", "button", "reset", "image", "checkbox", "radio"):
        return False
    label = " ".join(attrs.get(k, "") for k in ("name", "id", "autocomplete", "placeholder"))
    return bool(SECRET_NAME_RE.search(label))


class _Rebuilder(HTMLParser):
    def __init__(self, submit_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.submit_url = submit_url
        self.out: list[str] = []
        self.skip_depth = 0
        self.skip_tag = ""
        self.open_tags: list[str] = []
        self.page = SanitizedPage(html="")

    def _note(self, what: str) -> None:
        if what not in self.page.removed:
            self.page.removed.append(what)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closing=True)

    def _start(self, tag: str, raw: list[tuple[str, str | None]], closing: bool) -> None:
        tag = tag.lower()
        if self.skip_depth:
            if tag == self.skip_tag and not closing:
                self.skip_depth += 1
            return
        if tag in DROPPED_WITH_CONTENT:
            self._note(tag)
            if not closing and tag not in VOID_TAGS:
                self.skip_depth, self.skip_tag = 1, tag
            return
        if tag not in ALLOWED_TAGS:
            if tag not in ("html", "head", "body"):
                self._note(tag)
            return
        attrs: dict[str, str] = {}
        for name, value in raw:
            name = name.lower()
            if name.startswith("on") or name == "style" or name not in ALLOWED_ATTRS:
                self._note(f"@{name}" if not name.startswith("on") else "@on*")
                continue
            value = value or ""
            if name in ("href", "src") and not SAFE_URL_RE.match(value.strip()):
                self._note(f"@{name}")
                continue
            attrs[name] = value
        if tag == "form":
            attrs = {k: v for k, v in attrs.items() if k in ("class", "id")}
            attrs.update({"action": self.submit_url, "method": "post", "autocomplete": "off"})
        if tag in ("input", "textarea", "select"):
            attrs = self._field(attrs)
        if tag == "button" and attrs.get("type", "submit").lower() != "button":
            attrs.pop("name", None)
            attrs.pop("value", None)
        rendered = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in attrs.items())
        self.out.append(f"<{tag}{rendered}>")
        if tag not in VOID_TAGS and not closing:
            self.open_tags.append(tag)

    def _field(self, attrs: dict[str, str]) -> dict[str, str]:
        if is_secret_input(attrs):
            self.page.stripped_secret_fields += 1
            kept = {k: v for k, v in attrs.items() if k not in ("name", "value", "id")}
            kept["autocomplete"] = "off"
            if kept.get("type", "").lower() != "password":
                kept["type"] = "password"
            return kept
        name = attrs.get("name", "")
        if name:
            if NAME_RE.match(name) and attrs.get("type", "").lower() not in ("submit", "image"):
                if name not in self.page.field_names:
                    self.page.field_names.append(name)
            else:
                attrs.pop("name")
        if attrs.get("type", "").lower() not in ("hidden", "submit", "button", "checkbox", "radio"):
            attrs.pop("value", None)  # no pre-filled value travels back with the submission
        return attrs

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if self.skip_depth:
            if tag == self.skip_tag:
                self.skip_depth -= 1
            return
        if tag in self.open_tags:
            while self.open_tags:
                last = self.open_tags.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.out.append(escape(data, quote=False))

    def finish(self) -> SanitizedPage:
        self.close()
        while self.open_tags:
            self.out.append(f"</{self.open_tags.pop()}>")
        self.page.html = "".join(self.out)
        return self.page


def sanitize(html: str, submit_url: str) -> SanitizedPage:
    """Rebuild ``html`` so that it can be shown as a landing page (see the module docstring)."""
    parser = _Rebuilder(submit_url)
    text = (html or "")[:MAX_INPUT_CHARS]
    if len(html or "") > MAX_INPUT_CHARS:
        parser._note("truncated")
    parser.feed(text.replace("\x00", ""))
    return parser.finish()


def submitted_field_names(posted_names: list[str], allowed: list[str]) -> list[str]:
    """The names worth keeping from a submission: only those the sanitised page declared and
    that do not look like a secret. Values are never looked at."""
    keep = []
    for name in posted_names:
        if name in allowed and not SECRET_NAME_RE.search(name) and name not in keep:
            keep.append(name)
    return keep[:20]
