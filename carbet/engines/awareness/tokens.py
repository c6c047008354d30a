"""Per-recipient tokens: unguessable, stored only as a digest, looked up in constant time.

A token is 24 random bytes (192 bits) in URL-safe base64. The database keeps only its SHA-256
digest, in a unique column: a database dump does not give working links, and the lookup is an
indexed equality on the digest (the comparison never runs over the secret itself). Every
recipient of every campaign draws a fresh token, so a token belongs to exactly one campaign:
a link from an old campaign can never count in a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 24
# token_urlsafe(24) gives 32 characters of [A-Za-z0-9_-].
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
TOKEN_IN_TEXT_RE = re.compile(r"/s/([A-Za-z0-9_-]{32})(?=[/?#\"'<>\s]|$)")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    return bool(TOKEN_RE.match(value or ""))


def digest(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    """Constant-time check that ``token`` is the one behind ``stored_digest``."""
    return hmac.compare_digest(digest(token), stored_digest)
