"""Web probe: HTTPS and its redirect, security headers, cookies, security.txt, version
disclosure, sensitive files (safe GETs only), and an Observatory-style score per port.

Only this target's own host is ever requested, on the address the scope policy allowed: a
redirect to another host (or another scheme) is noted in the evidence, never followed.
Sensitive paths are judged on their content (a Git HEAD looks like a Git HEAD), and compared
with the answer to a random path, so "soft 404" sites that answer 200 to everything raise
nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from carbet.engines.exposure.core import (
    BudgetExceeded,
    Observation,
    ScanContext,
    TargetResult,
    close_quietly,
)
from carbet.engines.exposure.tls.probe import gather_or_cancel
from carbet.engines.exposure.web import checks as web_checks  # noqa: F401 - registers the web checks
from carbet.engines.exposure.web.checks import (
    WEB_COOKIE_INSECURE,
    WEB_CSP_MISSING,
    WEB_CSP_UNSAFE,
    WEB_DIRECTORY_LISTING,
    WEB_HSTS_MISSING,
    WEB_HSTS_SHORT,
    WEB_HTTPS_MISSING,
    WEB_HTTPS_NO_REDIRECT,
    WEB_REFERRER_MISSING,
    WEB_SECURITYTXT_MISSING,
    WEB_SENSITIVE_PATH,
    WEB_VERSION_DISCLOSURE,
    WEB_XCTO_MISSING,
    WEB_XFO_MISSING,
)
from carbet.engines.exposure.web.client import (
    Cookie,
    HttpError,
    HttpResponse,
    fetch,
    host_without_port,
    parse_set_cookie,
    split_location,
)
from carbet.engines.exposure.web.observatory import (
    HSTS_MIN_SECONDS,
    analyse_headers,
    grade,
    observatory_score,
)

MAX_REDIRECTS = 4
VERSION_PATTERN = re.compile(r"\d+\.\d+")
_HTML = re.compile(rb"<\s*(!doctype|html|head|body)\b", re.IGNORECASE)


def _looks_like_html(body: bytes) -> bool:
    return bool(_HTML.search(body[:2048]))


def _git_head(body: bytes) -> bool:
    return bool(re.fullmatch(rb"(ref: refs/[\w./-]+|[0-9a-f]{40}|[0-9a-f]{64})\s*", body[:300]))


def _dotenv(body: bytes) -> bool:
    if _looks_like_html(body):
        return False
    lines = [line.strip() for line in body[:4096].splitlines() if line.strip()]
    assignments = [line for line in lines if re.match(rb"^(export\s+)?[A-Z][A-Z0-9_]*\s*=", line)]
    return len(assignments) >= 2 and len(assignments) >= len(lines) // 2


def _zip(body: bytes) -> bool:
    return body.startswith(b"PK\x03\x04")


def _gzip(body: bytes) -> bool:
    return body.startswith(b"\x1f\x8b")


def _sql_dump(body: bytes) -> bool:
    head = body[:8192].upper()
    return not _looks_like_html(body) and any(
        marker in head for marker in (b"CREATE TABLE", b"INSERT INTO", b"-- MYSQL DUMP", b"PG_DUMP")
    )


def _git_config(body: bytes) -> bool:
    return b"[core]" in body[:2048] and b"repositoryformatversion" in body[:2048]


def _listing(body: bytes) -> bool:
    head = body[:4096]
    return bool(re.search(rb"<title>\s*Index of /", head, re.IGNORECASE)) or (
        b"Directory listing for /" in head
    )


# Path → (what it is, content test). Only GETs of small, well-known names: never a crawl.
SENSITIVE_PATHS: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "/.git/HEAD": ("dépôt Git", _git_head),
    "/.git/config": ("configuration Git", _git_config),
    "/.env": ("fichier de configuration .env", _dotenv),
    "/backup.zip": ("archive de sauvegarde", _zip),
    "/backup.tar.gz": ("archive de sauvegarde", _gzip),
    "/db.sql": ("sauvegarde de base de données", _sql_dump),
    "/backup.sql": ("sauvegarde de base de données", _sql_dump),
    "/dump.sql": ("sauvegarde de base de données", _sql_dump),
}
LISTING_PATHS = ("/", "/backup/", "/uploads/", "/files/")


class _WebScan:
    def __init__(
        self,
        ctx: ScanContext,
        target: str,
        address: str,
        port: int,
        use_tls: bool,
        host_header: str,
    ) -> None:
        self.ctx = ctx
        self.target = target
        self.address = address
        self.port = port
        self.use_tls = use_tls
        self.host_header = host_header
        self.errors: list[str] = []

    async def get(self, path: str, body_cap: int = 64 * 1024) -> HttpResponse | None:
        try:
            return await fetch(
                self.ctx,
                self.target,
                self.address,
                self.port,
                self.use_tls,
                self.host_header,
                path,
                body_cap,
            )
        except BudgetExceeded:
            raise
        except HttpError as exc:
            self.errors.append(f"{path}: {exc}")
        except (TimeoutError, OSError, ssl.SSLError, ConnectionError) as exc:
            self.errors.append(f"{path}: {type(exc).__name__}")
        return None


def _same_host(host_a: str, host_b: str) -> bool:
    return host_without_port(host_a).lower() == host_without_port(host_b).lower()


async def _https_available(ctx: ScanContext, target: str, address: str, ports: set[int]) -> bool:
    """Does any of ``ports`` complete a TLS handshake (any certificate)?"""
    from carbet.engines.exposure.web.client import _INSECURE

    for port in sorted(ports):
        try:
            async with ctx.slot(target):
                _reader, writer = await ctx.open_connection(
                    target,
                    address,
                    port,
                    ssl=_INSECURE,
                    ssl_handshake_timeout=ctx.config.read_timeout,
                    timeout=ctx.config.connect_timeout + ctx.config.read_timeout,
                )
                await close_quietly(writer)
                return True
        except BudgetExceeded:
            raise
        except (OSError, TimeoutError, ssl.SSLError, ConnectionError):
            continue
    return False


async def scan_web(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    use_tls: bool,
    host_header: str,
    result: TargetResult,
) -> None:
    """Probe one HTTP(S) port; add observations and ``evidence["web"][port]``. Never raises on
    a hostile peer: what could not be checked goes to ``result.errors``."""
    scan = _WebScan(ctx, target, address, port, use_tls, host_header)
    evidence: dict[str, Any] = result.evidence.setdefault("web", {}).setdefault(str(port), {})
    evidence["scheme"] = "https" if use_tls else "http"
    try:
        await _scan(scan, result, evidence)
    except BudgetExceeded:
        result.complete = False
        result.errors.append(f"web:{port}: budget de requêtes épuisé, analyse web partielle")
    if scan.errors:
        evidence["errors"] = scan.errors[:10]
        if "status" not in evidence:
            result.errors.append(f"web:{port}: pas de réponse HTTP exploitable ({scan.errors[0]})")


@dataclass
class _Hops:
    """The responses of the first page and the redirects followed on the same host."""

    responses: list[HttpResponse] = field(default_factory=list)
    redirects: list[dict[str, Any]] = field(default_factory=list)
    path: str = "/"  # of the last response
    redirect_to_https: bool = False
    left_host: bool = False  # a redirect to another host or scheme, not followed


async def _scan(scan: _WebScan, result: TargetResult, evidence: dict[str, Any]) -> None:
    port = scan.port
    add = result.observations.append
    hops = await _follow_redirects(scan, evidence)
    if hops is None:
        return
    final = hops.responses[-1]
    evidence["status"] = final.status
    evidence["redirects"] = hops.redirects
    evidence["headers"] = {name: value[:500] for name, value in final.headers[:60]}
    cookies = _cookies(hops.responses)
    evidence["cookies"] = [cookie.as_dict() for cookie in cookies[:30]]
    redirection = await _redirection(scan, result, hops, evidence)
    # Headers are judged where the content is served: not on a plain port that sends to HTTPS.
    judge_headers = scan.use_tls or not hops.redirect_to_https
    if judge_headers:
        headers = _judged_headers(scan, hops, evidence)
        verdicts = analyse_headers(headers, cookies, scan.use_tls, redirection)
        score, reasons = observatory_score(verdicts)
        evidence["verdicts"] = verdicts.as_dict()
        evidence["observatory_score"] = score
        evidence["observatory_grade"] = grade(score)
        evidence["observatory_reasons"] = reasons
        _header_observations(add, port, scan.use_tls, verdicts, cookies, headers)
    _version_disclosure(add, port, final)
    if hops.left_host:
        evidence["left_host"] = True
    if judge_headers:
        root_listing = hops.path == "/" and final.status == 200 and _listing(final.body)
        await _well_known_and_paths(scan, result, evidence, root_listing)


async def _follow_redirects(scan: _WebScan, evidence: dict[str, Any]) -> _Hops | None:
    """GET / and follow redirects on the same host and scheme; None when nothing answered."""
    scheme = "https" if scan.use_tls else "http"
    hops = _Hops()
    for _hop in range(MAX_REDIRECTS + 1):
        response = await scan.get(hops.path)
        if response is None:
            return None
        hops.responses.append(response)
        if not response.is_redirect:
            break
        location = response.header("location") or ""
        next_scheme, next_host, next_path = split_location(location, scheme, scan.host_header)
        hops.redirects.append({"status": response.status, "location": location[:300]})
        if next_scheme == "https" and not scan.use_tls:
            # Any HTTPS destination counts; a different host is noted (Observatory does too).
            hops.redirect_to_https = True
            if not _same_host(next_host, scan.host_header):
                evidence["redirect_host"] = next_host[:200]
            break
        if next_scheme != scheme or not _same_host(next_host, scan.host_header):
            # Never followed: the scan only ever talks to the address it was checked for.
            # Where it pointed is shown (a redirect is how a site would lead a scanner on).
            hops.left_host = True
            if not _same_host(next_host, scan.host_header):
                evidence["redirect_host"] = next_host[:200]
            break
        hops.path = next_path
    return hops


def _cookies(responses: list[HttpResponse]) -> list[Cookie]:
    by_name: dict[str, Cookie] = {}  # the same cookie set at each redirect hop counts once
    for response in responses:
        for value in response.header_all("set-cookie"):
            cookie = parse_set_cookie(value)
            if cookie is not None:
                by_name[cookie.name] = cookie
    return list(by_name.values())


async def _redirection(
    scan: _WebScan, result: TargetResult, hops: _Hops, evidence: dict[str, Any]
) -> str:
    """HTTP → HTTPS: the Observatory's redirection verdict (a plain port without one is
    observed, as "HTTPS exists but is not used" or "no HTTPS at all")."""
    if scan.use_tls:
        return "redirection-not-needed"
    if hops.redirect_to_https:
        redirection = "redirection-to-https"
    else:
        redirection = "redirection-not-to-https" if hops.redirects else "redirection-missing"
        https_ports = {s.port for s in result.services if s.tls or s.service == "https"}
        https_ports.add(443)
        if await _https_available(scan.ctx, scan.target, scan.address, https_ports):
            result.observations.append(
                WEB_HTTPS_NO_REDIRECT.observe(scan.port, "pas de redirection vers HTTPS")
            )
        else:
            result.observations.append(
                WEB_HTTPS_MISSING.observe(scan.port, "aucun port HTTPS ne répond")
            )
    evidence["redirect_to_https"] = hops.redirect_to_https
    return redirection


def _judged_headers(scan: _WebScan, hops: _Hops, evidence: dict[str, Any]) -> dict[str, str]:
    """The final page's headers (lower-cased, first value), a <meta> CSP when no header
    sets one, and HSTS from any HTTPS response of the chain."""
    final = hops.responses[-1]
    headers = {name.lower(): value for name, value in reversed(final.headers)}
    if "content-security-policy" not in headers and (meta_csp := _meta_csp(final.body)):
        headers["content-security-policy"] = meta_csp
        evidence["csp_from_meta"] = True
    if scan.use_tls:
        for response in hops.responses:
            hsts = response.header("strict-transport-security")
            if hsts is not None:
                headers["strict-transport-security"] = hsts
                break
    return headers


def _header_observations(
    add: Callable[[Observation], None],
    port: int,
    use_tls: bool,
    verdicts: Any,
    cookies: list[Cookie],
    headers: dict[str, str],
) -> None:
    if use_tls:
        if verdicts.hsts in ("hsts-not-implemented", "hsts-header-invalid"):
            add(WEB_HSTS_MISSING.observe(port, "Strict-Transport-Security absent"))
        elif verdicts.hsts_max_age is not None and verdicts.hsts_max_age < HSTS_MIN_SECONDS:
            add(
                WEB_HSTS_SHORT.observe(
                    port,
                    f"max-age={verdicts.hsts_max_age}",
                    {"max_age": verdicts.hsts_max_age},
                )
            )
    if verdicts.csp in ("csp-not-implemented", "csp-header-invalid"):
        add(WEB_CSP_MISSING.observe(port, "Content-Security-Policy absent"))
    elif verdicts.csp in ("csp-implemented-with-unsafe-inline", "csp-implemented-with-unsafe-eval"):
        csp = headers.get("content-security-policy", "")[:300]
        add(WEB_CSP_UNSAFE.observe(port, verdicts.csp, {"csp": csp}))
    if verdicts.xfo in ("x-frame-options-not-implemented", "x-frame-options-header-invalid"):
        add(WEB_XFO_MISSING.observe(port, "ni X-Frame-Options ni frame-ancestors"))
    if verdicts.xcto != "x-content-type-options-nosniff":
        add(WEB_XCTO_MISSING.observe(port, "X-Content-Type-Options: nosniff absent"))
    if verdicts.referrer not in ("referrer-policy-private",):
        value = headers.get("referrer-policy", "")
        add(WEB_REFERRER_MISSING.observe(port, value or "absent", {"value": value[:100]}))
    bad = [
        cookie
        for cookie in cookies
        if (use_tls and not cookie.secure)
        or (cookie.looks_like_session and (not cookie.http_only or not cookie.same_site))
    ]
    if bad:
        names = ", ".join(cookie.name for cookie in bad[:5])
        add(
            WEB_COOKIE_INSECURE.observe(
                port,
                names,
                {"cookies": [cookie.as_dict() for cookie in bad[:10]]},
                severity=3 if any(c.looks_like_session and not c.secure for c in bad) else None,
            )
        )


def _version_disclosure(add: Callable[[Observation], None], port: int, final: HttpResponse) -> None:
    disclosed = {}
    for name in ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"):
        value = final.header(name)
        if value and VERSION_PATTERN.search(value):
            disclosed[name] = value[:120]
    if disclosed:
        add(
            WEB_VERSION_DISCLOSURE.observe(
                port,
                "; ".join(disclosed.values()),
                {"headers": disclosed},
            )
        )


_META_CSP = re.compile(
    rb"<meta\s[^>]*http-equiv\s*=\s*[\"']?content-security-policy[\"']?[^>]*>", re.IGNORECASE
)
_META_CONTENT = re.compile(rb"content\s*=\s*(\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)


def _meta_csp(body: bytes) -> str | None:
    """A CSP given in a <meta> tag (browsers honour it; frame-ancestors excepted, by spec)."""
    tag = _META_CSP.search(body[:65536])
    if tag is None:
        return None
    content = _META_CONTENT.search(tag.group(0))
    if content is None:
        return None
    policy = (content.group(2) or content.group(3) or b"").decode("latin-1")
    kept = [part for part in policy.split(";") if part.strip().split(" ")[0] != "frame-ancestors"]
    return ";".join(kept).strip() or None


def _fingerprint(response: HttpResponse) -> tuple[int, str]:
    return response.status, hashlib.sha256(response.body[:65536]).hexdigest()


async def _well_known_and_paths(
    scan: _WebScan, result: TargetResult, evidence: dict[str, Any], root_listing: bool
) -> None:
    port = scan.port
    add = result.observations.append
    security_txt, baseline = await gather_or_cancel(
        scan.get("/.well-known/security.txt", 16 * 1024),
        scan.get(f"/carbet-{secrets.token_hex(8)}.html", 16 * 1024),
    )
    has_security_txt = (
        security_txt is not None
        and security_txt.status == 200
        and not _looks_like_html(security_txt.body)
        and re.search(rb"(?im)^contact:\s*\S", security_txt.body) is not None
    )
    evidence["security_txt"] = has_security_txt
    if not has_security_txt:
        add(WEB_SECURITYTXT_MISSING.observe(port, "/.well-known/security.txt"))
    soft_404 = baseline is not None and baseline.status == 200
    evidence["soft_404"] = soft_404
    if not scan.ctx.config.web_paths:
        return
    baseline_print = _fingerprint(baseline) if baseline is not None else None
    paths = list(SENSITIVE_PATHS)
    listings = [p for p in LISTING_PATHS if p != "/"]
    answers = await gather_or_cancel(*(scan.get(path, 16 * 1024) for path in paths + listings))
    exposed: list[dict[str, str]] = []
    for path, response in zip(paths, answers[: len(paths)], strict=True):
        if response is None or response.status != 200:
            continue
        if baseline_print is not None and _fingerprint(response) == baseline_print:
            continue
        label, looks_right = SENSITIVE_PATHS[path]
        if looks_right(response.body):
            exposed.append({"path": path, "what": label})
    if exposed:
        # One observation per port (its key is the findings fingerprint); the paths are evidence.
        detail = ", ".join(f"{item['path']} ({item['what']})" for item in exposed)
        add(WEB_SENSITIVE_PATH.observe(port, detail, {"paths": exposed}))
    evidence["sensitive_paths"] = exposed
    listed = ["/"] if root_listing else []
    for path, response in zip(listings, answers[len(paths) :], strict=True):
        if response is not None and response.status == 200 and _listing(response.body):
            listed.append(path)
    if listed:
        add(WEB_DIRECTORY_LISTING.observe(port, ", ".join(listed), {"paths": listed}))
    evidence["directory_listing"] = listed
