"""A small HTTP/1.1 client on asyncio streams, and strict parsers for what servers send back.

Why our own: every byte read is capped (head, body), the whole exchange sits under one deadline
(a slow-drip server cannot hold a probe), requests carry the scan's identifying User-Agent, and
nothing is ever followed or retried behind the caller's back. One request per connection
(``Connection: close``): each costs one slot and one unit of the target's budget.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from carbet.engines.exposure.core import ScanContext, close_quietly

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 200
DEFAULT_BODY_CAP = 64 * 1024
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class HttpError(Exception):
    """The peer did not speak HTTP/1.x within our limits (garbage, too big, too slow)."""


@dataclass
class Cookie:
    name: str
    value: str
    secure: bool = False
    http_only: bool = False
    same_site: str = ""  # "", "strict", "lax", "none"
    path: str = ""
    domain: str = ""
    persistent: bool = False  # Expires or Max-Age present

    @property
    def looks_like_session(self) -> bool:
        lowered = self.name.lower()
        return any(marker in lowered for marker in _SESSION_MARKERS)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "secure": self.secure,
            "httponly": self.http_only,
            "samesite": self.same_site,
            "session": self.looks_like_session,
        }


_SESSION_MARKERS = ("sess", "sid", "auth", "token", "login", "jwt", "csrf", "connect")


@dataclass
class HttpResponse:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), None when absent."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and self.header("location") is not None


def parse_head(head: bytes) -> tuple[str, int, str, list[tuple[str, str]]]:
    """Status line and header fields of a response head (without the final blank line)."""
    if len(head) > MAX_HEAD_BYTES:
        raise HttpError("response head too large")
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError as exc:  # latin-1 decodes everything; kept for clarity
        raise HttpError("undecodable head") from exc
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    status_line = lines[0]
    match = re.match(r"^HTTP/(\d)\.(\d) (\d{3})(?: (.*))?$", status_line)
    if not match:
        raise HttpError("not an HTTP/1.x status line")
    version = f"{match.group(1)}.{match.group(2)}"
    status = int(match.group(3))
    reason = (match.group(4) or "")[:200]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding: append to the previous value
            name, value = headers[-1]
            headers[-1] = (name, (value + " " + line.strip())[:8192])
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name):
            raise HttpError("malformed header line")
        headers.append((name, value.strip()[:8192]))
        if len(headers) > MAX_HEADERS:
            raise HttpError("too many header fields")
    return version, status, reason, headers


def parse_set_cookie(value: str) -> Cookie | None:
    """One Set-Cookie header value; None when it has no name=value pair."""
    parts = value.split(";")
    name, sep, cookie_value = parts[0].partition("=")
    name = name.strip()
    if not sep or not name:
        return None
    cookie = Cookie(name=name[:200], value=cookie_value.strip()[:50])
    for attribute in parts[1:]:
        key, _, attribute_value = attribute.strip().partition("=")
        key = key.strip().lower()
        attribute_value = attribute_value.strip()
        if key == "secure":
            cookie.secure = True
        elif key == "httponly":
            cookie.http_only = True
        elif key == "samesite":
            cookie.same_site = attribute_value.lower()[:20]
        elif key == "path":
            cookie.path = attribute_value[:200]
        elif key == "domain":
            cookie.domain = attribute_value[:200]
        elif key in ("expires", "max-age"):
            cookie.persistent = True
    return cookie


def decode_chunked(data: bytes, cap: int) -> tuple[bytes, bool]:
    """Body of a chunked transfer (what arrived of it); (body, complete?). Never exceeds cap."""
    body = bytearray()
    offset = 0
    while True:
        line_end = data.find(b"\r\n", offset)
        if line_end < 0 or line_end - offset > 64:
            return bytes(body), False
        size_text = data[offset:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError("malformed chunk size") from None
        if size < 0:
            raise HttpError("malformed chunk size")
        if size == 0:
            return bytes(body), True
        start = line_end + 2
        chunk = data[start : start + size]
        kept = chunk[: max(0, cap - len(body))]
        body += kept
        if len(chunk) < size or len(kept) < len(chunk):
            return bytes(body), False
        offset = start + size + 2


def split_location(location: str, base_scheme: str, base_host: str) -> tuple[str, str, str]:
    """(scheme, host[:port], path) of a Location header, relative ones resolved on the base."""
    parts = urlsplit(location.strip())
    scheme = (parts.scheme or base_scheme).lower()
    host = parts.netloc or base_host
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    if parts.query:
        path += "?" + parts.query
    return scheme, host.lower(), path


def host_without_port(host_header: str) -> str:
    """ "www.test:8443" → "www.test"; "[::1]:8443" and "[::1]" → "::1"; "::1" stays."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    if host_header.count(":") == 1:
        return host_header.partition(":")[0]
    return host_header


def _insecure_context() -> ssl.SSLContext:
    context = ScanContext.insecure_ssl_context()
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


_INSECURE = _insecure_context()


async def fetch(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    use_tls: bool,
    host_header: str,
    path: str,
    body_cap: int = DEFAULT_BODY_CAP,
) -> HttpResponse:
    """One GET, under a slot and the read deadline; raises HttpError or OSError on failure."""
    config = ctx.config
    async with ctx.slot(target):
        server_name = host_without_port(host_header) if use_tls else None
        reader, writer = await ctx.open_connection(
            target,
            address,
            port,
            ssl=_INSECURE if use_tls else None,
            server_hostname=server_name or None if use_tls else None,
            limit=MAX_HEAD_BYTES + 1024,
            ssl_handshake_timeout=config.read_timeout if use_tls else None,
            timeout=config.connect_timeout + (config.read_timeout if use_tls else 0),
        )
        try:
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\n"
                f"User-Agent: {config.user_agent}\r\nAccept: */*\r\n"
                "Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
            )
            writer.write(request.encode("latin-1", "replace"))
            return await asyncio.wait_for(
                _read_response(reader, min(body_cap, config.max_read_bytes)), config.read_timeout
            )
        except TimeoutError:
            raise HttpError("response too slow") from None
        finally:
            await close_quietly(writer)


async def _read_response(reader: asyncio.StreamReader, body_cap: int) -> HttpResponse:
    head = bytearray()
    while b"\r\n\r\n" not in head and b"\n\n" not in head:
        chunk = await reader.read(4096)
        if not chunk:
            if not head:
                raise HttpError("empty reply")
            break
        head += chunk
        if len(head) > MAX_HEAD_BYTES and b"\r\n\r\n" not in head[:MAX_HEAD_BYTES]:
            raise HttpError("response head too large")
    separator = b"\r\n\r\n" if b"\r\n\r\n" in head else b"\n\n"
    raw_head, _, rest = bytes(head).partition(separator)
    version, status, reason, headers = parse_head(raw_head)
    response = HttpResponse(status, reason, version, headers)
    lowered = {name.lower(): value for name, value in headers}
    chunked = "chunked" in lowered.get("transfer-encoding", "").lower()
    length_text = lowered.get("content-length", "")
    expected = int(length_text) if length_text.isdigit() else None
    raw = bytearray(rest)
    limit = body_cap * 2 + 4096 if chunked else body_cap
    if expected is not None:
        limit = min(limit, expected)
    while len(raw) < limit:
        chunk = await reader.read(min(65536, limit - len(raw)))
        if not chunk:
            break
        raw += chunk
    if chunked:
        response.body, complete = decode_chunked(bytes(raw), body_cap)
        response.truncated = not complete
    else:
        response.body = bytes(raw[:body_cap])
        response.truncated = expected is not None and expected > len(response.body)
    return response
