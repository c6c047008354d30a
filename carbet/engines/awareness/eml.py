"""Importing a real e-mail (``.eml``) as a template: hostile input, read defensively.

Someone forwards a real phishing mail to the centre, who turns it into a training lure. The
file may be anything: truncated, mis-encoded, a MIME bomb. ``parse_eml`` never raises: it
returns what it could read, bounded in size and depth, or an error message in French.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import Message

MAX_EML_BYTES = 5 * 1024 * 1024
MAX_PARTS = 200
MAX_TEXT_CHARS = 400_000


@dataclass
class ParsedEmail:
    subject: str = ""
    sender: str = ""
    text: str = ""
    html: str = ""
    attachments: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name, "")
    except Exception:  # malformed headers raise many kinds of errors
        return ""
    return " ".join(str(value).split())[:500]


def parse_eml(data: bytes) -> ParsedEmail:
    """Read ``data`` as an RFC 5322 message (see the module docstring)."""
    if not isinstance(data, bytes | bytearray) or not data.strip():
        return ParsedEmail(error="Le fichier est vide.")
    if len(data) > MAX_EML_BYTES:
        return ParsedEmail(error="Le message est trop gros (5 Mo au plus).")
    try:
        message = email.message_from_bytes(bytes(data), policy=email.policy.compat32)
    except Exception:
        return ParsedEmail(error="Ce fichier n'est pas un e-mail lisible (.eml).")
    parsed = ParsedEmail(subject=_header(message, "Subject"), sender=_header(message, "From"))
    if not parsed.subject and not message.keys():
        return ParsedEmail(error="Ce fichier n'est pas un e-mail lisible (.eml) : aucun en-tête.")
    try:
        parts = message.walk()
        for count, part in enumerate(parts):
            if count >= MAX_PARTS:
                break
            if part.is_multipart():
                continue
            filename = part.get_filename()
            ctype = part.get_content_type()
            if filename:
                parsed.attachments.append(" ".join(str(filename).split())[:200])
            elif ctype == "text/plain" and not parsed.text:
                parsed.text = _text(part)[:MAX_TEXT_CHARS]
            elif ctype == "text/html" and not parsed.html:
                parsed.html = _text(part)[:MAX_TEXT_CHARS]
    except Exception:  # a broken MIME tree: keep what was read
        parsed.attachments.append("(partie illisible ignorée)")
    if not (parsed.text or parsed.html):
        parsed.error = "Le message ne contient pas de texte lisible."
    return parsed
