"""Header analysis and the Mozilla HTTP Observatory-style score (pure functions, no I/O).

Each Observatory "test" yields exactly one outcome (the worst that applies); penalties add up
from 100, bonuses count only when the score without them is at least 90, and the floor is 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from carbet.engines.exposure.web.client import Cookie

HSTS_MIN_SECONDS = 15_768_000  # six months: under this the Observatory takes points off
HSTS_GOOD_SECONDS = 31_536_000  # one year: what internet.nl and the ANSSI ask for
SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
UNSAFE_REFERRER = {"unsafe-url", "no-referrer-when-downgrade", "origin-when-cross-origin", "origin"}
GRADES = (
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
)


def grade(score: int) -> str:
    for floor, letter in GRADES:
        if score >= floor:
            return letter
    return "F"


def parse_csp(value: str) -> dict[str, list[str]]:
    """Directives of a CSP (first occurrence wins, as browsers do)."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.strip().split()
        if tokens:
            directives.setdefault(tokens[0].lower(), [token.lower() for token in tokens[1:]])
    return directives


def hsts_max_age(value: str) -> int | None:
    match = re.search(r"max-age\s*=\s*\"?(\d{1,12})\"?", value, re.IGNORECASE)
    return int(match.group(1)) if match else None


@dataclass
class HeaderVerdicts:
    """What the headers say, test by test (the Observatory's outcome names)."""

    csp: str = "csp-not-implemented"
    cookies: str = "cookies-not-found"
    hsts: str = "hsts-not-implemented"
    redirection: str = "redirection-not-needed"
    xfo: str = "x-frame-options-not-implemented"
    xcto: str = "x-content-type-options-not-implemented"
    referrer: str = "referrer-policy-not-implemented"
    hsts_max_age: int | None = None
    csp_directives: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "csp": self.csp,
            "cookies": self.cookies,
            "hsts": self.hsts,
            "redirection": self.redirection,
            "x_frame_options": self.xfo,
            "x_content_type_options": self.xcto,
            "referrer_policy": self.referrer,
        }


MODIFIERS = {
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-header-invalid": -20,
    "hsts-not-implemented": -20,
    "hsts-not-implemented-no-https": -20,
    "redirection-to-https": 0,
    "redirection-not-needed": 0,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 0,
    "x-frame-options-header-invalid": -20,
    "x-frame-options-not-implemented": -20,
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-header-invalid": -5,
    "x-content-type-options-not-implemented": -5,
    "referrer-policy-private": 5,
    "referrer-policy-no-referrer-when-downgrade": 0,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
}


def analyse_headers(
    headers: dict[str, str], cookies: list[Cookie], over_https: bool, redirection: str
) -> HeaderVerdicts:
    """``headers``: lower-cased names → first value of the final page (HSTS from any HTTPS one)."""
    verdicts = HeaderVerdicts(redirection=redirection)
    csp_value = headers.get("content-security-policy")
    if csp_value is not None:
        directives = parse_csp(csp_value)
        verdicts.csp_directives = directives
        verdicts.csp = _csp_verdict(directives)
    if cookies:
        verdicts.cookies = _cookies_verdict(cookies)
    if not over_https:
        verdicts.hsts = "hsts-not-implemented-no-https"
    elif (hsts := headers.get("strict-transport-security")) is not None:
        verdicts.hsts_max_age = hsts_max_age(hsts)
        verdicts.hsts = _hsts_verdict(verdicts.hsts_max_age)
    if "frame-ancestors" in verdicts.csp_directives:
        verdicts.xfo = "x-frame-options-implemented-via-csp"
    elif (xfo := headers.get("x-frame-options")) is not None:
        ok = xfo.strip().lower() in ("deny", "sameorigin")
        verdicts.xfo = (
            "x-frame-options-sameorigin-or-deny" if ok else "x-frame-options-header-invalid"
        )
    if (xcto := headers.get("x-content-type-options")) is not None:
        ok = xcto.strip().lower() == "nosniff"
        verdicts.xcto = (
            "x-content-type-options-nosniff" if ok else "x-content-type-options-header-invalid"
        )
    if (referrer := headers.get("referrer-policy")) is not None:
        verdicts.referrer = _referrer_verdict(referrer)
    return verdicts


def _csp_verdict(directives: dict[str, list[str]]) -> str:
    if not directives:
        return "csp-header-invalid"
    scripts = directives.get("script-src", directives.get("default-src", []))
    if "'unsafe-inline'" in scripts and not any(
        token.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for token in scripts
    ):
        return "csp-implemented-with-unsafe-inline"
    if "'unsafe-eval'" in scripts:
        return "csp-implemented-with-unsafe-eval"
    if directives.get("default-src") == ["'none'"]:
        return "csp-implemented-with-no-unsafe-default-src-none"
    return "csp-implemented-with-no-unsafe"


def _cookies_verdict(cookies: list[Cookie]) -> str:
    sessions = [cookie for cookie in cookies if cookie.looks_like_session]
    if any(not cookie.secure for cookie in sessions):
        return "cookies-session-without-secure-flag"
    if any(not cookie.http_only for cookie in sessions):
        return "cookies-session-without-httponly-flag"
    if any(not cookie.secure for cookie in cookies):
        return "cookies-without-secure-flag"
    if all(cookie.same_site in ("strict", "lax") for cookie in cookies):
        return "cookies-secure-with-httponly-sessions-and-samesite"
    return "cookies-secure-with-httponly-sessions"


def _hsts_verdict(max_age: int | None) -> str:
    if max_age is None:
        return "hsts-header-invalid"
    if max_age < HSTS_MIN_SECONDS:
        return "hsts-implemented-max-age-less-than-six-months"
    return "hsts-implemented-max-age-at-least-six-months"


def _referrer_verdict(value: str) -> str:
    # The last recognised token wins (browsers' fallback rule).
    tokens = [token.strip().lower() for token in value.split(",") if token.strip()]
    known = [t for t in tokens if t in SAFE_REFERRER | UNSAFE_REFERRER]
    if not known:
        return "referrer-policy-header-invalid"
    if known[-1] in SAFE_REFERRER:
        return "referrer-policy-private"
    if known[-1] == "no-referrer-when-downgrade":
        return "referrer-policy-no-referrer-when-downgrade"
    return "referrer-policy-unsafe"


def observatory_score(verdicts: HeaderVerdicts) -> tuple[int, list[dict[str, Any]]]:
    """(score, reasons) the Observatory way: penalties, then bonuses only from 90 up."""
    outcomes = (
        verdicts.csp,
        verdicts.cookies,
        verdicts.hsts,
        verdicts.redirection,
        verdicts.xfo,
        verdicts.xcto,
        verdicts.referrer,
    )
    penalties = sum(min(0, MODIFIERS[outcome]) for outcome in outcomes)
    bonuses = sum(max(0, MODIFIERS[outcome]) for outcome in outcomes)
    score = 100 + penalties
    if score >= 90:
        score += bonuses
    reasons = [
        {"test": outcome, "points": MODIFIERS[outcome]}
        for outcome in outcomes
        if MODIFIERS[outcome] != 0
    ]
    return max(0, score), reasons
