"""Vendor-aware version comparison for matching banners against NVD ranges.

Appliance vendors do not write versions the way Python packages do, so ``packaging`` gets
them wrong. The rules here:

- A version is split into numbers and words: ``15.2(4)M3`` → 15, 2, 4, "m", 3;
  ``9.1R14.3`` → 9, 1, "r", 14, 3; ``8.9p1`` → 8, 9, "p", 1. Separators (``. - _ ( )``,
  spaces) only split; case is ignored; CPE escapes (``\\(``) are removed; a leading "v" goes.
- A missing part is lower than a number (``8.9`` < ``8.9.1``) and lower than a post-release
  word such as OpenSSH's "p", Ivanti's "R", Cisco's train letters or OpenSSL's letter
  (``8.9`` < ``8.9p1``, ``1.1.1`` < ``1.1.1a``), but higher than a pre-release word
  (``2.0rc1`` < ``2.0``: alpha, beta, rc, pre, preview, dev, snapshot).
- Numbers compare as numbers; at one position a number beats a word (``7.0.1`` > ``7.0.r1``).
- Fortinet's ``7.0.12 build 0601`` and similar "build N" suffixes: the build only breaks ties
  between equal versions that both carry one, because NVD ranges never mention builds.
- Vendor forms (:func:`canonical`): Ivanti/Pulse Secure client packages say ``9.1.14.18105``
  for release ``9.1R14`` (build 18105): with ``vendor="ivanti"`` (or ``pulsesecure``) a bare
  four-number version is read that way, so it compares with the advisories' ``9.1R14.3``.
  Citrix's ``13.1.49.15`` and ``13.1-49.15``, Cisco's ``9.16.4.27`` and ``9.16(4)27`` already
  split alike.
- Distribution suffixes after a space (``8.9p1 Ubuntu-3ubuntu0.6``) are dropped: the upstream
  version is what NVD ranges speak of (back-ported fixes are a known source of false positives;
  the observation says so).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cmp_to_key, lru_cache
from typing import Any

PRE_RELEASE = frozenset({"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "cr"})
_TOKEN = re.compile(r"[0-9]+|[a-z]+")
_BUILD = re.compile(r"\s*(?:,\s*)?\(?\s*build\s*([0-9]+)\s*\)?", re.IGNORECASE)

Token = int | str


def split_build(version: str) -> tuple[str, int | None]:
    """'7.0.12 build 0601' → ('7.0.12', 601); '9.1R14' → ('9.1R14', None)."""
    match = _BUILD.search(version)
    if not match:
        return version, None
    return (version[: match.start()] + version[match.end() :]).strip(), int(match.group(1))


def normalise(version: str) -> str:
    text = version.replace("\\", "").strip()
    text, _build = split_build(text)
    text = text.split(" ")[0] if " " in text.strip() else text
    if text[:1] in ("v", "V") and text[1:2].isascii() and text[1:2].isdigit():
        text = text[1:]
    return text.lower()


_DOTTED_FOUR = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)\.(\d+)$", re.IGNORECASE)
_R_FORM_VENDORS = frozenset({"ivanti", "pulsesecure", "pulse secure"})


def canonical(version: str, vendor: str = "") -> str:
    """``version`` in the form the vendor's advisories use (see the module docstring)."""
    text = version.strip()
    if vendor.lower() in _R_FORM_VENDORS:
        dotted = _DOTTED_FOUR.match(text)
        if dotted:
            major, minor, release, build = dotted.groups()
            return f"{major}.{minor}R{release} build {build}"
    return text


def tokens(version: str) -> list[Token]:
    return list(_tokens(version))


@lru_cache(maxsize=1 << 16)
def _tokens(version: str) -> tuple[Token, ...]:
    """Cached: matching a region's inventory compares the same few versions again and again."""
    return tuple(int(t) if t.isdigit() else t for t in _TOKEN.findall(normalise(version)))


def _missing_vs(token: Token) -> int:
    """How a missing part compares with ``token``: -1 lower, 1 higher."""
    if isinstance(token, str) and token in PRE_RELEASE:
        return 1
    return -1


def compare(a: str, b: str, vendor: str = "") -> int:
    """-1, 0 or 1 like ``cmp``. ``vendor`` is the CPE vendor (reserved for rules that differ
    between vendors; today's rules hold for the ones we see)."""
    ta, tb = _tokens(a), _tokens(b)
    for index in range(max(len(ta), len(tb))):
        if index >= len(ta):
            return _missing_vs(tb[index])
        if index >= len(tb):
            return -_missing_vs(ta[index])
        x, y = ta[index], tb[index]
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int):  # number beats a word, but not a pre-release word
            return 1
        if isinstance(y, int):
            return -1
        x_pre, y_pre = x in PRE_RELEASE, y in PRE_RELEASE
        if x_pre != y_pre:
            return -1 if x_pre else 1
        return -1 if x < y else 1
    build_a, build_b = split_build(a)[1], split_build(b)[1]
    if build_a is not None and build_b is not None and build_a != build_b:
        return -1 if build_a < build_b else 1
    return 0


def sort_key(vendor: str = "") -> Callable[[str], Any]:
    """A ``sorted`` key ordering version strings the vendor's way."""
    return cmp_to_key(lambda a, b: compare(a, b, vendor))


def in_range(
    version: str,
    *,
    vendor: str = "",
    exact: str = "",
    start_including: str = "",
    start_excluding: str = "",
    end_including: str = "",
    end_excluding: str = "",
) -> bool:
    """Does ``version`` fall in an NVD cpeMatch range (or equal its exact version)?

    A cpeMatch with neither an exact version nor a bound matches every version ("*"); we
    only get here with one or the other."""
    if not _tokens(version):
        return False
    if exact and exact not in ("*", "-"):
        return compare(version, exact, vendor) == 0
    if start_including and compare(version, start_including, vendor) < 0:
        return False
    if start_excluding and compare(version, start_excluding, vendor) <= 0:
        return False
    if end_including and compare(version, end_including, vendor) > 0:
        return False
    return not (end_excluding and compare(version, end_excluding, vendor) >= 0)
