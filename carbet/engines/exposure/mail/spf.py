"""SPF (RFC 7208): a strict parser and a lookup counter that follows include/redirect.

:func:`parse_spf` never raises: syntax problems come back in ``SpfRecord.errors`` (each one a
"permerror" in the RFC's words). :func:`analyse_spf` walks the include/redirect tree through a
:class:`~.maildns_dns.DnsClient` and counts, as a receiving server would, the mechanisms that
cost a DNS lookup (include, a, mx, ptr, exists, redirect: at most 10, section 4.6.4) and the
"void" lookups that found nothing (at most 2). Macros cannot be expanded without a sender
address: a term with a macro counts its lookup but is not resolved.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_LOOKUPS = 10  # RFC 7208 4.6.4
MAX_VOID_LOOKUPS = 2  # RFC 7208 4.6.4
MAX_MX_NAMES = 10
WALK_LIMIT = 40  # lookups we follow before giving up (enough to tell how far over 10 it is)

LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}

_MODIFIER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_MACRO = re.compile(r"%(?:\{[slodiphcrtv][0-9]*r?[.\-+,/_=]*\}|%|_|-)", re.IGNORECASE)
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_TOPLABEL = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class SpfTerm:
    qualifier: str  # "+", "-", "~", "?"
    mechanism: str  # lower-case mechanism name
    domain: str = ""  # domain-spec (may hold macros)
    cidr: str = ""  # "/24", "//64", "/24//64"
    network: str = ""  # ip4/ip6 network

    @property
    def has_macro(self) -> bool:
        return "%" in self.domain


@dataclass
class SpfRecord:
    text: str
    terms: list[SpfTerm] = field(default_factory=list)
    redirect: str = ""
    explanation: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def all_qualifier(self) -> str:
        """The qualifier of the final ``all`` ("-", "~", "?", "+"), or "" when none."""
        for term in self.terms:
            if term.mechanism == "all":
                return term.qualifier
        return ""

    def local_lookups(self) -> int:
        return sum(1 for t in self.terms if t.mechanism in LOOKUP_MECHANISMS) + bool(
            self.redirect and not self.all_qualifier
        )


def is_spf(text: str) -> bool:
    """Is this TXT string an SPF record? (``v=spf1`` followed by a space or nothing)."""
    head = text[:7].lower()
    return head == "v=spf1 " or text.lower() == "v=spf1"


def _valid_domain_spec(spec: str) -> bool:
    if not spec or len(spec) > 1024:
        return False
    # Every % must start a valid macro; what is left must be domain characters.
    stripped = _MACRO.sub("", spec)
    if "%" in stripped:
        return False
    if not all(33 <= ord(c) <= 126 for c in spec):
        return False
    if "%" in spec:
        return True  # the expanded name is checked at evaluation time
    labels = spec.rstrip(".").split(".")
    if len(labels) < 2 and not spec.endswith("."):
        return False
    if not all(_LABEL.match(label) for label in labels):
        return False
    return bool(_TOPLABEL.match(labels[-1]))


def _split_cidr(value: str) -> tuple[str, str]:
    """'example.com/24//64' -> ('example.com', '/24//64')."""
    match = re.search(r"(/[0-9]*(?://[0-9]*)?|//[0-9]*)$", value)
    if not match:
        return value, ""
    return value[: match.start()], match.group(1)


def _valid_cidr(cidr: str) -> bool:
    match = re.fullmatch(r"(?:/([0-9]{1,2}))?(?://([0-9]{1,3}))?", cidr)
    if not match:
        return False
    v4, v6 = match.groups()
    if v4 is not None and (int(v4) > 32 or (len(v4) > 1 and v4.startswith("0"))):
        return False
    return v6 is None or (int(v6) <= 128 and not (len(v6) > 1 and v6.startswith("0")))


def parse_spf(text: str) -> SpfRecord:
    record = SpfRecord(text=text)
    if not is_spf(text):
        record.errors.append("the record does not start with v=spf1")
        return record
    if any(ord(c) > 126 or (ord(c) < 32) for c in text):
        record.errors.append("non-ASCII or control characters in the record")
    seen_modifiers: set[str] = set()
    for raw in text[6:].split(" "):
        if not raw:
            continue  # several spaces in a row: tolerated by receivers
        _parse_term(raw, record, seen_modifiers)
    return record


def _parse_term(raw: str, record: SpfRecord, seen_modifiers: set[str]) -> None:
    name_match = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$", raw)
    if name_match and name_match.group(1).lower() not in MECHANISMS:
        name, value = name_match.group(1).lower(), name_match.group(2)
        _parse_modifier(name, value, raw, record, seen_modifiers)
    else:
        _parse_mechanism(raw, record)


def _parse_modifier(
    name: str, value: str, raw: str, record: SpfRecord, seen_modifiers: set[str]
) -> None:
    if not _MODIFIER_NAME.match(name):
        record.errors.append(f"invalid modifier {raw!r}")
        return
    if name in ("redirect", "exp"):
        if name in seen_modifiers:
            record.errors.append(f"modifier {name}= appears more than once")
        seen_modifiers.add(name)
        if not _valid_domain_spec(value):
            record.errors.append(f"invalid domain in {name}={value!r}")
        elif name == "redirect":
            record.redirect = value
        else:
            record.explanation = value
    elif "%" in value and "%" in _MACRO.sub("", value):
        record.errors.append(f"invalid macro in modifier {raw!r}")
    # unknown modifiers are ignored (RFC 7208 6)


def _split_mechanism(raw: str) -> tuple[str, str, str, str, str]:
    """(qualifier, lower-case mechanism name, ":" or "", argument, "/cidr" or "")."""
    qualifier = "+"
    body = raw
    if body[0] in QUALIFIERS:
        qualifier, body = body[0], body[1:]
    name, sep, argument = body.partition(":")
    name_lower = name.lower()
    if "/" in name and not sep:  # "a/24", "mx//64"
        name_lower, cidr = name_lower.split("/", 1)[0], name[len(name.split("/", 1)[0]) :]
        argument, sep = "", ""
    else:
        cidr = ""
    return qualifier, name_lower, sep, argument, cidr


def _parse_mechanism(raw: str, record: SpfRecord) -> None:
    qualifier, name_lower, sep, argument, cidr = _split_mechanism(raw)
    if name_lower not in MECHANISMS:
        record.errors.append(f"unknown mechanism {raw!r}")
        return
    if name_lower == "all":
        if sep or cidr:
            record.errors.append(f"all takes no argument: {raw!r}")
            return
        record.terms.append(SpfTerm(qualifier, "all"))
        return
    if name_lower in ("ip4", "ip6"):
        _parse_ip(qualifier, name_lower, argument if sep else "", raw, record)
        return
    if name_lower in ("include", "exists"):
        if not sep or not _valid_domain_spec(argument):
            record.errors.append(f"{name_lower} needs a valid domain: {raw!r}")
            return
        record.terms.append(SpfTerm(qualifier, name_lower, domain=argument))
        return
    _parse_host_mechanism(qualifier, name_lower, sep, argument, cidr, raw, record)


def _parse_host_mechanism(
    qualifier: str, name: str, sep: str, argument: str, cidr: str, raw: str, record: SpfRecord
) -> None:
    """a, mx, ptr: optional ":domain" then optional cidr (not for ptr)."""
    domain = ""
    if sep:
        domain, cidr = _split_cidr(argument) if name != "ptr" else (argument, "")
        if not _valid_domain_spec(domain):
            record.errors.append(f"invalid domain in {raw!r}")
            return
    if cidr and (name == "ptr" or not _valid_cidr(cidr)):
        record.errors.append(f"invalid prefix length in {raw!r}")
        return
    record.terms.append(SpfTerm(qualifier, name, domain=domain, cidr=cidr))


def _parse_ip(qualifier: str, kind: str, argument: str, raw: str, record: SpfRecord) -> None:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    try:
        if kind == "ip4":
            address, _, prefix = argument.partition("/")
            ipaddress.IPv4Address(address)
            network = ipaddress.IPv4Network(argument, strict=False)
            if prefix and (not (prefix.isascii() and prefix.isdigit()) or int(prefix) > 32):
                raise ValueError(prefix)
        else:
            address, _, prefix = argument.partition("/")
            ipaddress.IPv6Address(address)
            network = ipaddress.IPv6Network(argument, strict=False)
            if prefix and (not (prefix.isascii() and prefix.isdigit()) or int(prefix) > 128):
                raise ValueError(prefix)
    except ValueError:
        record.errors.append(f"invalid address in {raw!r}")
        return
    record.terms.append(SpfTerm(qualifier, kind, network=str(network)))


# ---------------------------------------------------------------- evaluation of the tree


class _Answer(Protocol):
    """What the walk reads of an answer (the DNS client's Answer)."""

    error: str

    @property
    def empty(self) -> bool: ...

    def texts(self) -> list[str]: ...

    def rdatas(self) -> list[Any]: ...


class _Resolver(Protocol):
    async def query(self, name: str, rdtype: str, *, dnssec: bool = False) -> _Answer: ...


@dataclass
class SpfReport:
    domain: str
    records: list[str] = field(default_factory=list)  # every v=spf1 TXT at the domain
    record: SpfRecord | None = None  # the one evaluated (when exactly one)
    lookups: int = 0
    void_lookups: int = 0
    errors: list[str] = field(default_factory=list)  # permerrors found anywhere in the tree
    includes: list[str] = field(default_factory=list)  # domains visited through include/redirect
    lookup_error: str = ""  # the SPF TXT itself could not be fetched
    redirect_all: str = ""  # the "all" qualifier reached through redirect= (when none locally)

    @property
    def all_qualifier(self) -> str:
        """The qualifier applied to unlisted senders, following redirect= when needed."""
        if self.record is None:
            return ""
        return self.record.all_qualifier or self.redirect_all

    def as_evidence(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "all": self.all_qualifier,
            "lookups": self.lookups,
            "void_lookups": self.void_lookups,
            "errors": self.errors[:20],
            "includes": self.includes[:50],
        }


async def fetch_spf(resolver: _Resolver, domain: str) -> tuple[list[str], _Answer]:
    answer = await resolver.query(domain, "TXT")
    return [t for t in answer.texts() if is_spf(t)], answer


async def analyse_spf(resolver: _Resolver, domain: str) -> SpfReport:
    report = SpfReport(domain=domain)
    records, answer = await fetch_spf(resolver, domain)
    if getattr(answer, "error", ""):
        report.lookup_error = answer.error
        return report
    report.records = records
    if len(records) > 1:
        report.errors.append(f"{domain}: {len(records)} SPF records (one at most)")
        return report
    if not records:
        return report
    report.record = parse_spf(records[0])
    state = _Walk(resolver, report)
    await state.walk(domain, report.record, depth=0)
    return report


class _Walk:
    def __init__(self, resolver: _Resolver, report: SpfReport) -> None:
        self.resolver = resolver
        self.report = report
        self.visiting: set[str] = set()

    def _spend(self) -> bool:
        self.report.lookups += 1
        return self.report.lookups <= WALK_LIMIT

    async def _void_if_empty(self, name: str, rdtype: str) -> _Answer:
        answer = await self.resolver.query(name, rdtype)
        if getattr(answer, "empty", False):
            self.report.void_lookups += 1
        return answer

    async def walk(self, domain: str, record: SpfRecord, depth: int, top: bool = True) -> None:
        """``top``: on the chain of redirects from the queried domain (not inside an include)."""
        report = self.report
        report.errors.extend(f"{domain}: {e}" for e in record.errors)
        if record.errors or depth > 10:
            return
        self.visiting.add(domain.lower())
        for term in record.terms:
            if term.mechanism not in LOOKUP_MECHANISMS:
                continue
            if not self._spend():
                return
            target = term.domain or domain
            if term.has_macro or term.mechanism == "ptr":
                continue
            if term.mechanism == "include":
                await self._descend(target, depth, via="include", top=False)
            elif term.mechanism in ("a", "exists"):
                await self._void_if_empty(target, "A")
            elif term.mechanism == "mx":
                answer = await self._void_if_empty(target, "MX")
                names = [str(r.exchange).rstrip(".") for r in answer.rdatas()][: MAX_MX_NAMES + 1]
                if len(names) > MAX_MX_NAMES:
                    report.errors.append(f"{target}: more than {MAX_MX_NAMES} MX names")
        if record.redirect and not record.all_qualifier and self._spend():
            if "%" not in record.redirect:
                await self._descend(record.redirect, depth, via="redirect", top=top)
        self.visiting.discard(domain.lower())

    async def _descend(self, target: str, depth: int, via: str, top: bool) -> None:
        report = self.report
        if target.lower() in self.visiting:
            report.errors.append(f"{target}: {via} loop")
            return
        report.includes.append(target)
        records, answer = await fetch_spf(self.resolver, target)
        if getattr(answer, "empty", False):
            report.void_lookups += 1
        if getattr(answer, "error", ""):
            report.errors.append(f"{target}: {via} target could not be resolved")
            return
        if len(records) != 1:
            report.errors.append(
                f"{target}: {via} target has {len(records)} SPF records (needs exactly one)"
            )
            return
        record = parse_spf(records[0])
        if via == "redirect" and top and not report.redirect_all:
            report.redirect_all = record.all_qualifier
        await self.walk(target, record, depth + 1, top=top)
