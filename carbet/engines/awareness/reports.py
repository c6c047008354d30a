"""Finding which simulation a reported e-mail belongs to.

People report a suspicious mail by forwarding it to the reporting mailbox — inline, as an
attachment (``message/rfc822`` or a ``.eml`` file), or through their client's "report" button.
On the way, gateways rewrite links (Microsoft Safe Links ``*.safelinks.protection.outlook.com/
?url=...``, other ``?url=``/``?u=`` wrappers) and clients quote-print or base64 the body. The
token survives in the links Carbet put in the mail; this module digs it out of all of that,
within bounds, and never raises.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from urllib.parse import parse_qs, unquote, urlsplit

from carbet.engines.awareness.tokens import TOKEN_IN_TEXT_RE

MAX_REPORT_BYTES = 15 * 1024 * 1024
MAX_PARTS = 300
MAX_DEPTH = 5
URL_RE = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)
WRAPPER_PARAMS = ("url", "u", "target", "redirect", "q")


def _unwrap(url: str, depth: int = 0) -> list[str]:
    """``url`` and whatever URLs it wraps (Safe Links and similar redirectors)."""
    found = [url]
    if depth > 3:
        return found
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return found
    for param in WRAPPER_PARAMS:
        for value in query.get(param, []):
            inner = unquote(value)
            if inner.lower().startswith(("http://", "https://")):
                found.extend(_unwrap(inner, depth + 1))
    return found


def tokens_in_text(text: str) -> set[str]:
    text = html.unescape(text or "")
    found = set(TOKEN_IN_TEXT_RE.findall(text))
    for url in URL_RE.findall(text):
        for candidate in _unwrap(url):
            found.update(TOKEN_IN_TEXT_RE.findall(unquote(candidate) + " "))
    return found


def _decoded(part: email.message.Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:
        return payload.decode("latin-1", "replace")


def _scan(message: email.message.Message, found: set[str], depth: int, budget: list[int]) -> None:
    if depth > MAX_DEPTH:
        return
    for part in message.walk():
        budget[0] -= 1
        if budget[0] < 0:
            return
        ctype = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            for inner in payload if isinstance(payload, list) else []:
                if isinstance(inner, email.message.Message):
                    _scan(inner, found, depth + 1, budget)
            continue
        if part.is_multipart():
            continue
        if filename.endswith(".eml") or (ctype == "application/octet-stream" and filename):
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes) and filename.endswith(".eml"):
                _scan(email.message_from_bytes(raw), found, depth + 1, budget)
            continue
        if ctype.startswith("text/"):
            found.update(tokens_in_text(_decoded(part)))
    for header in ("X-Carbet-Report", "References"):
        found.update(tokens_in_text(str(message.get(header, "") or "")))


def tokens_in_report(data: bytes) -> set[str]:
    """Every simulation token found in a reported message (possibly several, possibly none)."""
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_REPORT_BYTES:
        return set()
    found: set[str] = set()
    try:
        message = email.message_from_bytes(bytes(data), policy=email.policy.compat32)
        _scan(message, found, 0, [MAX_PARTS])
    except Exception:  # a hostile report must not stop the mailbox poll: keep what was found
        return found
    return found
