"""DMARC (RFC 7489): a tolerant-but-honest parser of the ``_dmarc`` TXT record.

:func:`parse_dmarc` never raises. It returns the tags it understood, the policy a receiver
would apply (section 6.6.3: an invalid or missing ``p`` with a valid ``rua`` means ``none``),
and the problems it saw in ``errors`` (the record is unusable) or ``warnings`` (usable, but
something is off). Report addresses come out of ``rua``/``ruf`` as ``(uri, domain)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from carbet.engines.exposure.mail.psl import organisational_domain

POLICIES = ("none", "quarantine", "reject")
KNOWN_TAGS = frozenset(
    {"v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "psd", "t"}
)
_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_MAILTO = re.compile(r"^mailto:([^@\s!]+)@([A-Za-z0-9.-]+\.?)(?:![0-9]+[kmgt]?)?$", re.IGNORECASE)


def is_dmarc(text: str) -> bool:
    return bool(re.match(r"^\s*v\s*=\s*DMARC1\s*(;|$)", text, re.IGNORECASE))


@dataclass
class DmarcRecord:
    text: str
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rua: list[tuple[str, str]] = field(default_factory=list)  # (uri, domain)
    ruf: list[tuple[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def policy(self) -> str:
        """The policy a receiver applies to the domain itself ("" when the record is unusable)."""
        value = self.tags.get("p", "").lower()
        if value in POLICIES:
            return value
        if self.rua and is_dmarc(self.text):
            return "none"  # RFC 7489 6.6.3: no valid p but a valid rua
        return ""

    @property
    def subdomain_policy(self) -> str:
        value = self.tags.get("sp", "").lower()
        return value if value in POLICIES else self.policy

    @property
    def pct(self) -> int:
        value = self.tags.get("pct", "100")
        return int(value) if value.isascii() and value.isdigit() and int(value) <= 100 else 100


def parse_dmarc(text: str) -> DmarcRecord:
    record = DmarcRecord(text=text)
    parts = [part.strip() for part in text.split(";")]
    if not parts or not re.fullmatch(r"v\s*=\s*DMARC1", parts[0], re.IGNORECASE):
        record.errors.append("the record does not start with v=DMARC1")
        return record
    for index, part in enumerate(parts):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not _TAG.match(name):
            record.errors.append(f"malformed tag {part[:60]!r}")
            continue
        if name in record.tags:
            record.warnings.append(f"tag {name} appears more than once (the first counts)")
            continue
        if name == "v" and index:
            record.errors.append("v= must come first, once")
            continue
        record.tags[name] = value
        if name not in KNOWN_TAGS:
            record.warnings.append(f"unknown tag {name}")
    _check_values(record)
    return record


def _check_values(record: DmarcRecord) -> None:
    tags = record.tags
    if "p" not in tags:
        record.errors.append("p= (the policy) is missing")
    elif tags["p"].lower() not in POLICIES:
        record.errors.append(f"invalid policy p={tags['p'][:30]}")
    for name in ("sp", "np"):
        if name in tags and tags[name].lower() not in POLICIES:
            record.errors.append(f"invalid {name}={tags[name][:30]}")
    if "pct" in tags and not (
        tags["pct"].isascii() and tags["pct"].isdigit() and int(tags["pct"]) <= 100
    ):
        record.errors.append(f"pct must be 0 to 100: {tags['pct'][:30]}")
    for name in ("adkim", "aspf"):
        if name in tags and tags[name].lower() not in ("r", "s"):
            record.errors.append(f"{name} must be r or s")
    if "fo" in tags and not re.fullmatch(r"[01ds](\s*:\s*[01ds])*", tags["fo"].lower()):
        record.warnings.append(f"invalid fo={tags['fo'][:30]}")
    if "ri" in tags and not (tags["ri"].isascii() and tags["ri"].isdigit()):
        record.warnings.append("ri must be a number of seconds")
    for name in ("rua", "ruf"):
        if name not in tags:
            continue
        targets = getattr(record, name)
        for uri in (u.strip() for u in tags[name].split(",")):
            match = _MAILTO.match(uri)
            if not match:
                record.warnings.append(f"{name}: unusable address {uri[:80]!r}")
                continue
            targets.append((uri, match.group(2).rstrip(".").lower()))


def needs_authorisation(domain: str, report_domain: str) -> bool:
    """An external report address needs the receiver's ``_report._dmarc`` record
    (RFC 7489 7.1) when it is outside the organisational domain."""
    return organisational_domain(domain) != organisational_domain(report_domain)


def authorisation_name(domain: str, report_domain: str) -> str:
    return f"{domain.rstrip('.')}._report._dmarc.{report_domain.rstrip('.')}"
