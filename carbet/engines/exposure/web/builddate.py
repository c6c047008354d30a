"""When was an appliance's firmware built? Read from its static files' cache headers.

FortiGate SSL-VPN (FortiOS) and Palo Alto GlobalProtect (PAN-OS) portals print no version.
Their static files (style sheets, scripts, icons) are served with validators that carry the
moment the firmware image was built: the last eight hexadecimal digits of the ``ETag`` are a
Unix time, and ``Last-Modified`` is the same date written out (the public research on both
products, Bishop Fox's among it, maps those dates to releases; PAN-OS stopped sending the
``ETag`` with 10.0.4, so newer PAN-OS leaves at most ``Last-Modified``).

A build date is a bound, never a version: a firmware built on day D is at most the newest
release published by D. What that is worth against each exploited flaw is decided by
:mod:`carbet.engines.exposure.vulns.builds`; this module only reads the date.

Only anonymous GETs of a few static paths, on the port already found open; every parser takes
untrusted headers, never raises, and refuses a date that cannot be a build: before 2010 (older
than any firmware still answering on the internet with these portals) or in the future.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

Response = dict[str, Any]  # as ports.parsers.parse_http_response returns it
Fetch = Callable[[str], Awaitable[Response | None]]

EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # clocks of a scanner and an appliance disagree a little
AGREEMENT = timedelta(days=2)  # ETag and Last-Modified of one file saying the same day
MAX_FETCHES = 3  # static files asked for at most, per portal

# The static files each family serves before any login (the portal's own page links come
# first: they exist on that very firmware).
STATIC_PATHS: dict[str, tuple[str, ...]] = {
    "fortios": ("/sslvpn/js/login.js", "/sslvpn/css/login.css", "/remote/fgt_lang?lang=en"),
    "panos": (
        "/global-protect/portal/css/login.css",
        "/global-protect/portal/images/favicon.ico",
        "/global-protect/login.esp",
    ),
}
_PREFIXES: dict[str, tuple[str, ...]] = {
    "fortios": ("/sslvpn/", "/remote/"),
    "panos": ("/global-protect/",),
}
_LINK = re.compile(
    r"""(?:src|href)\s*=\s*["'](/[A-Za-z0-9_\-./]{1,200}\.(?:js|css|png|gif|ico|svg))"""
    r"""(?:\?[^"'<>\s]{0,100})?["']""",
    re.I,
)
_ETAG_TAIL = re.compile(r"(?<![0-9a-f])[0-9a-f]{0,8}([0-9a-f]{8})\s*$", re.I)


@dataclass(frozen=True)
class BuildDate:
    """The firmware's build moment and what it was read from."""

    built: datetime  # aware, UTC
    source: str  # "ETag" or "Last-Modified" (or both)
    path: str

    @property
    def day(self) -> str:
        return self.built.date().isoformat()


def _plausible(moment: datetime, now: datetime) -> bool:
    return EARLIEST <= moment <= now + FUTURE_SLACK


def from_etag(value: str, now: datetime) -> datetime | None:
    """The Unix time in an ETag's last eight hex digits (``"6e185d5daf9a"`` → 2019-08-21).

    A longer run of hex digits (more than 16) is a content hash, not a time: refused, since
    its last digits would give a random date."""
    text = value.strip()
    if text[:2] in ("W/", "w/"):
        text = text[2:]
    match = _ETAG_TAIL.search(text.strip().strip('"').strip())
    if not match:
        return None
    moment = datetime.fromtimestamp(int(match.group(1), 16), UTC)
    return moment if _plausible(moment, now) else None


def from_last_modified(value: str, now: datetime) -> datetime | None:
    """An HTTP date (``Wed, 21 Aug 2019 20:54:50 GMT``), None when it is not one."""
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment if _plausible(moment, now) else None


def parse_build(path: str, response: Response, now: datetime) -> BuildDate | None:
    """The build date one static file's answer carries, if any (never raises).

    Both headers agreeing (within two days) is the usual case; when they disagree the
    ``Last-Modified`` is kept, since an ETag's tail may be something else than a time."""
    if not 200 <= _status(response) < 300:
        return None
    headers = response.get("headers") or {}
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    etag = from_etag(lowered.get("etag", ""), now)
    modified = from_last_modified(lowered.get("last-modified", ""), now)
    if etag and modified:
        together = abs(etag - modified) <= AGREEMENT
        return BuildDate(modified, "ETag + Last-Modified" if together else "Last-Modified", path)
    if modified:
        return BuildDate(modified, "Last-Modified", path)
    if etag:
        return BuildDate(etag, "ETag", path)
    return None


def _status(response: Response) -> int:
    try:
        return int(response.get("status", 0))
    except (TypeError, ValueError):
        return 0


def linked_paths(family: str, bodies: list[bytes]) -> list[str]:
    """Static files the portal's own pages link to, under the family's prefixes."""
    prefixes = _PREFIXES.get(family, ())
    found: list[str] = []
    for body in bodies:
        text = body[:65536].decode("latin-1") if isinstance(body, bytes) else ""
        for match in _LINK.finditer(text):
            path = match.group(1)
            if path.startswith(prefixes) and ".." not in path and path not in found:
                found.append(path)
    return found


async def find_build(
    family: str, seen: list[Response], fetch: Fetch, now: datetime | None = None
) -> tuple[BuildDate | None, list[str]]:
    """The firmware's build date from a few of the family's static files.

    ``seen``: the portal's answers already read (their links are tried first). Returns the
    date (None when no file carried a plausible one) and the paths asked for."""
    if family not in STATIC_PATHS:
        return None, []
    moment = now or datetime.now(UTC)
    bodies = [r.get("body", b"") for r in seen if isinstance(r.get("body", b""), bytes)]
    candidates = linked_paths(family, bodies) + [
        p for p in STATIC_PATHS[family] if p not in linked_paths(family, bodies)
    ]
    tried: list[str] = []
    for path in candidates[:MAX_FETCHES]:
        tried.append(path)
        response = await fetch(path)
        found = parse_build(path, response, moment) if response is not None else None
        if found is not None:
            return found, tried
    return None, tried
