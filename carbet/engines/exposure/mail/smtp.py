"""The mail probes that open connections: STARTTLS on each MX, and the MTA-STS policy.

Both run under the scan's slots and budgets (``ScanContext.slot``), read at most a few
kilobytes, and stop at the configured timeouts: a silent or garbage-speaking peer yields an
error string in the evidence, never a hang or an exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

from carbet.engines.exposure.core import BudgetExceeded, ScanContext, close_quietly

MAX_SMTP_LINES = 100
MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 3.3 suggests 64 KB as the largest sane policy
EHLO_NAME = "carbet-scan.invalid"


async def _smtp_reply(reader: asyncio.StreamReader, timeout: float) -> tuple[int, list[str]]:
    """Read one (possibly multi-line) SMTP reply: (code, lines). Code 0 when unreadable."""
    lines: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(lines) < MAX_SMTP_LINES:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return 0, lines
        try:
            raw = await asyncio.wait_for(reader.readline(), remaining)
        except (TimeoutError, ValueError, ConnectionError, OSError):  # ValueError: line too long
            return 0, lines
        if not raw:
            return 0, lines
        line = raw[:1000].decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if len(line) < 3 or not (line[:3].isascii() and line[:3].isdigit()):
            return 0, lines
        if len(line) == 3 or line[3] != "-":
            return int(line[:3]), lines
    return 0, lines


async def probe_starttls(ctx: ScanContext, mx_host: str, address: str) -> dict[str, Any]:
    """Connect to an MX, EHLO, STARTTLS, and verify the certificate against the trust store
    and the MX name. Returns evidence: reachable, banner, starttls, tls version, cert_ok..."""
    config = ctx.config
    port = config.smtp_port
    result: dict[str, Any] = {
        "host": mx_host,
        "address": address,
        "port": port,
        "reachable": False,
        "starttls": False,
    }
    try:
        async with ctx.slot(mx_host):
            reader, writer = await ctx.open_connection(mx_host, address, port)
            try:
                await _smtp_dialogue(ctx, mx_host, reader, writer, result)
            finally:
                await close_quietly(writer)
    except BudgetExceeded:
        result["error"] = "request budget exhausted"
    except (TimeoutError, OSError) as exc:
        result.setdefault("error", f"{type(exc).__name__}: {exc}"[:200])
    return result


async def _smtp_dialogue(
    ctx: ScanContext,
    mx_host: str,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    result: dict[str, Any],
) -> None:
    timeout = ctx.config.read_timeout
    code, lines = await _smtp_reply(reader, timeout)
    result["banner"] = " ".join(lines)[:300]
    if code != 220:
        result["error"] = "no SMTP greeting"
        return
    result["reachable"] = True
    writer.write(f"EHLO {EHLO_NAME}\r\n".encode())
    await writer.drain()
    code, lines = await _smtp_reply(reader, timeout)
    if code != 250:
        result["error"] = f"EHLO refused ({code})"
        return
    extensions = [line[4:].strip().upper() for line in lines[1:]]
    result["extensions"] = extensions[:30]
    if not any(ext.split(" ")[0] == "STARTTLS" for ext in extensions):
        return
    result["starttls"] = True
    writer.write(b"STARTTLS\r\n")
    await writer.drain()
    code, _lines = await _smtp_reply(reader, timeout)
    if code != 220:
        result["error"] = f"STARTTLS refused ({code})"
        result["starttls"] = False
        return
    try:
        await asyncio.wait_for(
            writer.start_tls(ctx.verifying_ssl_context(), server_hostname=mx_host), timeout
        )
    except ssl.SSLCertVerificationError as exc:
        result["cert_ok"] = False
        result["cert_error"] = (exc.verify_message or str(exc))[:200]
        return
    except (ssl.SSLError, TimeoutError, OSError) as exc:
        result["cert_ok"] = False
        result["tls_error"] = f"{type(exc).__name__}: {exc}"[:200]
        return
    ssl_object = writer.get_extra_info("ssl_object")
    result["cert_ok"] = True
    if ssl_object is not None:
        result["tls_version"] = ssl_object.version()
        cert = ssl_object.getpeercert() or {}
        result["cert_not_after"] = cert.get("notAfter", "")
        result["cert_subject"] = _flatten_name(cert.get("subject", ()))
        leaf = ssl_object.getpeercert(binary_form=True)
        result["cert_sha256"] = hashlib.sha256(leaf).hexdigest() if leaf else ""
    writer.write(b"QUIT\r\n")
    await writer.drain()


def _flatten_name(name: Any) -> str:
    try:
        return ", ".join(f"{key}={value}" for rdn in name for key, value in rdn)[:200]
    except (TypeError, ValueError):
        return ""


# ---------------------------------------------------------------------------- MTA-STS


@dataclass
class MtaStsPolicy:
    version: str = ""
    mode: str = ""
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_mta_sts_policy(text: str) -> MtaStsPolicy:
    """RFC 8461 3.2: "key: value" lines; version STSv1, mode, max_age, one or more mx."""
    policy = MtaStsPolicy()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            policy.errors.append(f"malformed line {line[:60]!r}")
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "version":
            policy.version = value
        elif key == "mode":
            policy.mode = value.lower()
        elif key == "max_age":
            policy.max_age = (
                int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None
            )
        elif key == "mx":
            policy.mx.append(value.lower().rstrip("."))
    if policy.version != "STSv1":
        policy.errors.append("version is not STSv1")
    if policy.mode not in ("enforce", "testing", "none"):
        policy.errors.append("mode must be enforce, testing or none")
    if policy.max_age is None or policy.max_age > 31557600:
        policy.errors.append("max_age missing or over one year")
    if policy.mode != "none" and not policy.mx:
        policy.errors.append("no mx pattern")
    return policy


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 4.1: exact match, or "*.example.com" matching exactly one left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, tail = host.partition(".")
        return bool(head) and tail == pattern[2:]
    return pattern == host


_STATUS = re.compile(rb"^HTTP/1\.[01] ([0-9]{3})")


async def fetch_mta_sts_policy(ctx: ScanContext, domain: str, address: str) -> dict[str, Any]:
    """GET https://mta-sts.<domain>/.well-known/mta-sts.txt with a verifying TLS context.
    Redirects are not followed (RFC 8461 3.3)."""
    host = f"mta-sts.{domain}"
    config = ctx.config
    evidence: dict[str, Any] = {"url": f"https://{host}/.well-known/mta-sts.txt"}
    request = (
        f"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {host}\r\n"
        f"User-Agent: {config.user_agent}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        async with ctx.slot(host):
            reader, writer = await ctx.open_connection(
                host,
                address,
                config.mta_sts_port,
                ssl=ctx.verifying_ssl_context(),
                server_hostname=host,
                ssl_handshake_timeout=config.connect_timeout,
            )
            try:
                writer.write(request)
                await writer.drain()
                raw = await _read_until_eof(reader, MAX_POLICY_BYTES + 4096, config.read_timeout)
            finally:
                await close_quietly(writer)
    except ssl.SSLCertVerificationError as exc:
        evidence["error"] = f"certificate: {exc.verify_message or exc}"[:200]
        return evidence
    except BudgetExceeded:
        evidence["error"] = "request budget exhausted"
        return evidence
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        evidence["error"] = f"{type(exc).__name__}: {exc}"[:200]
        return evidence
    head, _, body = raw.partition(b"\r\n\r\n")
    status = _STATUS.match(head)
    evidence["status"] = int(status.group(1)) if status else 0
    if evidence["status"] != 200:
        evidence["error"] = f"HTTP status {evidence['status'] or 'unreadable'}"
        return evidence
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    evidence["policy_text"] = body[:MAX_POLICY_BYTES].decode("utf-8", "replace")[:4000]
    return evidence


async def _read_until_eof(reader: asyncio.StreamReader, limit: int, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(min(65536, limit - size)), remaining)
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)
