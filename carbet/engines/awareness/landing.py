"""The landing-page sanitiser: whatever HTML comes in, nothing typed can ever leave the browser.

The page is rebuilt token by token from an allow-list (stdlib ``html.parser``), never patched:

- scripts, styles, frames, objects, embeds, ``<base>``, ``<meta>``, ``<link>`` are dropped with
  their content, as are every ``on*`` handler and ``style`` attribute (the public pages run
  under the same strict CSP as the rest of Carbet), and any attribute outside the allow-list
  (``form=``, ``formaction``, ``formmethod``, ``contenteditable``…);
- every form posts to Carbet's event endpoint (its ``action`` is replaced, whatever it was);
- **no form control keeps a** ``name``: inputs, selects, textareas and buttons all lose it, and
  inputs lose their ``value`` (except a button's label). A control without a name is never part
  of a form's submission, so the browser sends an empty body: the submission is an *event*
  (the URL carries the recipient's token), never a payload. ``<input type=image>``, which
  would send click coordinates even without a name, becomes a plain submit button;
- fields that look like a password or a secret are shown masked (``type=password``) with
  autocomplete off, so the browser's password manager does not offer to keep them;
- links and images keep only same-site relative targets: the page is self-contained, so a
  visit leaks to no third party.
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
# ``name`` and ``value`` are not here: no control may name itself into a submission.
ALLOWED_ATTRS = frozenset(
    {"class", "id", "href", "src", "alt", "title", "type", "placeholder",
     "for", "colspan", "rowspan", "width", "height", "lang", "dir", "role", "aria-label",
     "aria-hidden", "autocomplete", "maxlength", "size", "rows", "cols", "disabled",
     "selected", "checked", "required", "readonly", "multiple", "label"}
)  # fmt: skip
FORM_CONTROLS = frozenset({"input", "select", "textarea", "button"})
# Input types kept as they are; anything else becomes a text input (``file`` would open the
# person's files, ``image`` would send coordinates).
INPUT_TYPES = frozenset(
    {"text", "password", "email", "tel", "number", "search", "url", "date", "checkbox",
     "radio", "submit", "button", "reset", "hidden"}
)  # fmt: skip
LABEL_INPUTS = frozenset({"submit", "button", "reset"})  # their value is the button's label
SECRET_NAME_RE = re.compile(
    r"pass|pwd|mdp|mot.?de.?passe|secret|pin\b|otp|code|token|card|carte|cvv|cvc|iban",
    re.IGNORECASE,
)
SAFE_URL_RE = re.compile(r"^(#|/(?![/\\])|[A-Za-z0-9_-]+(/|\.|$))")


@dataclass
class SanitizedPage:
    html: str
    stripped_names: int = 0  # form controls that came with a name (all lost it)
    removed: list[str] = field(default_factory=list)


def is_secret_input(attrs: dict[str, str]) -> bool:
    """Whether an input may carry a credential: password type, or a name/id/label that says so
    (``name`` is only read as a hint here: it never reaches the output)."""
    kind = (attrs.get("type") or "text").strip().lower()
    if kind == "password":
        return True
    if kind in ("hidden", "submit", "button", "reset", "image", "checkbox", "radio"):
        return False
    keys = ("name", "id", "autocomplete", "placeholder", "aria-label")
    label = " ".join(attrs.get(k, "") for k in keys)
    return bool(SECRET_NAME_RE.search(label))


def _attr(raw: list[tuple[str, str | None]], wanted: str) -> str | None:
    """The first value of attribute ``wanted`` (as a browser reads duplicated attributes)."""
    for name, value in raw:
        if name.lower() == wanted:
            return value or ""
    return None


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
        if not self._kept_tag(tag, closing):
            return
        attrs = self._tag_attrs(tag, self._kept_attrs(tag, raw), raw)
        if tag in FORM_CONTROLS and any(name.lower() == "name" for name, _value in raw):
            self.page.stripped_names += 1
        rendered = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in attrs.items())
        self.out.append(f"<{tag}{rendered}>")
        if tag not in VOID_TAGS and not closing:
            self.open_tags.append(tag)

    def _kept_tag(self, tag: str, closing: bool) -> bool:
        """Whether the tag is written out; keeps count of the dropped blocks it opens or nests."""
        if self.skip_depth:
            if tag == self.skip_tag and not closing:
                self.skip_depth += 1
            return False
        if tag in DROPPED_WITH_CONTENT:
            self._note(tag)
            if not closing and tag not in VOID_TAGS:
                self.skip_depth, self.skip_tag = 1, tag
            return False
        if tag not in ALLOWED_TAGS:
            if tag not in ("html", "head", "body"):
                self._note(tag)
            return False
        return True

    def _kept_attrs(self, tag: str, raw: list[tuple[str, str | None]]) -> dict[str, str]:
        """The allowed attributes with safe values; what was dropped is noted."""
        attrs: dict[str, str] = {}
        for name, value in raw:
            name = name.lower()
            if name in attrs:  # the browser keeps the first of duplicated attributes
                continue
            if tag in FORM_CONTROLS and name == "value":
                value = value or ""
                if tag == "input" and (_attr(raw, "type") or "").strip().lower() in LABEL_INPUTS:
                    attrs[name] = value  # a button's label, never something typed
                continue
            if name.startswith("on") or name == "style" or name not in ALLOWED_ATTRS:
                self._note(f"@{name}" if not name.startswith("on") else "@on*")
                continue
            value = value or ""
            if name in ("href", "src") and not SAFE_URL_RE.match(value.strip()):
                self._note(f"@{name}")
                continue
            attrs[name] = value
        return attrs

    def _tag_attrs(
        self, tag: str, attrs: dict[str, str], raw: list[tuple[str, str | None]]
    ) -> dict[str, str]:
        """Forms post to the platform; inputs and buttons get a safe type."""
        if tag == "form":
            attrs = {k: v for k, v in attrs.items() if k in ("class", "id")}
            attrs.update({"action": self.submit_url, "method": "post", "autocomplete": "off"})
        if tag == "input":
            attrs = self._input(attrs, _attr(raw, "name") or "")
        if tag == "button":
            kind = attrs.get("type", "submit").strip().lower()
            attrs["type"] = kind if kind in LABEL_INPUTS else "submit"
        return attrs

    def _input(self, attrs: dict[str, str], name: str) -> dict[str, str]:
        """Normalise the type; mask what looks like a secret (the dropped name is a hint)."""
        kind = (attrs.get("type") or "text").strip().lower()
        if kind == "image":
            attrs.pop("src", None)
            kind = "submit"
        elif kind not in INPUT_TYPES:
            kind = "text"
        attrs["type"] = kind
        if is_secret_input({**attrs, "name": name}):
            attrs["type"], attrs["autocomplete"] = "password", "off"
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


# ``<![`` opens a "marked section" (CDATA) only in XML; in an HTML page a browser reads it as a
# bogus comment up to the next ``>``. Python 3.12's parser asserts on a malformed one instead,
# so those sections are dropped here, as the browser would drop them.
MARKED_SECTION_RE = re.compile(r"<!\[[^>]*(?:>|$)")


def sanitize(html: str, submit_url: str) -> SanitizedPage:
    """Rebuild ``html`` so that it can be shown as a landing page (see the module docstring)."""
    parser = _Rebuilder(submit_url)
    text = (html or "")[:MAX_INPUT_CHARS]
    if len(html or "") > MAX_INPUT_CHARS:
        parser._note("truncated")
    text, marked = MARKED_SECTION_RE.subn("", text.replace("\x00", ""))
    if marked:
        parser._note("<![")
    try:
        parser.feed(text)
    except (AssertionError, ValueError):  # the stdlib parser's own limits: keep what was built
        parser._note("unparsable")
        parser.rawdata = ""
    return parser.finish()
