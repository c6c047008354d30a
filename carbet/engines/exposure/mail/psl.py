"""The organisational domain (RFC 7489 3.2) from the Public Suffix List.

The list comes from the ``publicsuffixlist`` package, which ships a snapshot of
publicsuffix.org's list inside the wheel: it is read from that file once per process and
never fetched at run time (a scan does not depend on a third-party site, and two scans with
the same package version agree). Updating the list means upgrading the package.

:func:`organisational_domain` never raises: a name the list cannot place (empty, a bare
public suffix, empty labels) comes back normalised, as its own organisational domain, which
is the conservative answer for DMARC (no inheritance from a parent that is not the
organisation's).
"""

from __future__ import annotations

import functools

from publicsuffixlist import PublicSuffixList


@functools.cache
def _list() -> PublicSuffixList:
    # Default arguments: the bundled public_suffix_list.dat, ICANN and private sections.
    return PublicSuffixList()


def normalise(domain: str) -> str:
    return domain.strip().lower().rstrip(".")


def public_suffix(domain: str) -> str:
    """The public suffix of ``domain`` ("" when the name cannot be placed)."""
    name = normalise(domain)
    if not name:
        return ""
    try:
        suffix = _list().publicsuffix(name)
    except (ValueError, UnicodeError):
        return ""
    return suffix or ""


def organisational_domain(domain: str) -> str:
    """The registrable domain: the public suffix plus one label ("chu-exemple.fr" for
    "mail.chu-exemple.fr", "exemple.co.uk" for "a.b.exemple.co.uk"). A name that is itself a
    public suffix, or that the list cannot place, is its own organisational domain."""
    name = normalise(domain)
    if not name:
        return name
    try:
        private = _list().privatesuffix(name)
    except (ValueError, UnicodeError):
        return name
    return private or name
