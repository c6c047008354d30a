"""Cross-source correlation: when two findings are "the same weakness on the same asset".

The rule, in one place (pure Python, no database; ``ingest`` computes the key of every finding
it writes and the pages read it):

    same weakness on the same asset  ⇔  same structure
                                       and same host (normalised name or IP; the asset's value
                                           when the source gives no host)
                                       and same port (none counts as a value: a finding without
                                           a port never matches one with a port)
                                       and same weakness class

The **weakness class** is, in this order:

1. an explicit ``evidence["weakness"]`` from the source (for producers that know better);
2. the CVE id, when there is one (``cve:CVE-2024-12345``);
3. a check family from the rule id, when there is one (a rule id is precise: its title is
   never second-guessed) (the exposure checks' ids): ``service:<name>`` for an
   exposed service (``port.rdp``, ``medical.dicom.exposed``), ``tls-protocol:<version>``
   (``tls.protocol.tls10``), ``mail:<check>`` for the mail domain's checks, ``check:<rule>``
   for any other rule (two sources naming the same rule id match);
4. else a family recognised in the title of a tool's report (a Nessus/OpenVAS export has no Carbet
   rule id): "DICOM Server Detection" on port 104 is ``service:dicom``, "TLS Version 1.0
   Protocol Detection" is ``tls-protocol:tls1.0``, "DMARC record missing" is
   ``mail:dmarc.missing``.

Without a host (or asset) or a class there is no key: the finding is never merged. Being
conservative is deliberate: wrongly merging two weaknesses hides one, a duplicate only repeats.

Findings with the same key are a *group*. The group's **primary** is its oldest open finding
(lowest id); the others are shown on its page ("aussi signalé par"), and the lists and
dashboards count the group once. Each finding stays in its own stream, so a rescan that no
longer sees the weakness closes only its own finding; while another source still reports it,
the group stays open (the other finding becomes the primary).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY_LENGTH = 40
# Evidence keys a source may use for the host it saw, in order of preference.
HOST_KEYS = ("host", "hote", "hôte", "ip", "address", "adresse", "cible", "target", "hostname")
PORT_KEYS = ("port",)
SERVICE_KEYS = ("service", "svc_name", "protocole_applicatif")

CVE_RE = re.compile(r"\bcve[\s_\-‐‑–—]*(\d{4})[\s_\-‐‑–—]*(\d{4,7})\b", re.IGNORECASE)
_PORT_RE = re.compile(r"^\s*(\d{1,5})\s*(?:/\s*(?:tcp|udp|sctp))?\s*$", re.IGNORECASE)
_HOST_PORT_RE = re.compile(r"^(?P<host>[^:\[\]/]+):(?P<port>\d{1,5})$")

# Service names as they appear in tools' titles → Carbet's service names.
SERVICE_WORDS: dict[str, str] = {
    "dicom": "dicom",
    "hl7": "hl7",
    "fhir": "fhir",
    "rdp": "rdp",
    "remote desktop": "rdp",
    "terminal services": "rdp",
    "bureau à distance": "rdp",
    "smb": "smb",
    "cifs": "smb",
    "telnet": "telnet",
    "ftp": "ftp",
    "vnc": "vnc",
    "ssh": "ssh",
    "redis": "redis",
    "mongodb": "mongodb",
    "elasticsearch": "elasticsearch",
    "mysql": "database",
    "postgresql": "database",
    "mssql": "database",
    "sql server": "database",
    "oracle": "database",
}
_DETECTION_WORDS = re.compile(
    r"\b(detect(?:ed|ion)?|exposed?|exposé[es]*|accessible|open|ouvert[es]*|reachable|"
    r"joignable|service|server|serveur|listening)\b",
    re.IGNORECASE,
)
_TLS_VERSION_RE = re.compile(
    r"\b(?:(tls)\s*(?:v(?:ersion)?\s*)?(1(?:[.,]\s*[0-3])?)|(ssl)\s*(?:v(?:ersion)?\s*)?([23]))"
    r"(?:\.0)?\b",
    re.IGNORECASE,
)
# Exposure rules that say "this service answers" (not a flaw of it): one family per service.
_SERVICE_RULE_RE = re.compile(r"^(?:port\.(?P<p>[a-z0-9]+)|medical\.(?P<m>[a-z0-9]+)\.exposed)$")
_DATABASE_RULES = {"port.database"}


@dataclass(frozen=True)
class Weakness:
    """What the key is made of, readable (the page shows why two findings were linked)."""

    host: str
    port: int | None
    weakness: str

    def key(self, structure_id: int) -> str:
        raw = "\x1f".join([str(structure_id), self.host, str(self.port or ""), self.weakness])
        return hashlib.sha256(raw.encode()).hexdigest()[:KEY_LENGTH]


def normalise_cve(text: Any) -> str:
    """``cve 2024_1234``, ``CVE‑2024‑01234`` (any dash) → ``CVE-2024-1234``-style canonical id,
    or "" when ``text`` holds no CVE id. Leading zeros past four digits are dropped, as MITRE
    ids never have them."""
    if not isinstance(text, str):
        return ""
    found = CVE_RE.search(text)
    if not found:
        return ""
    year, number = found.group(1), found.group(2).lstrip("0")
    return f"CVE-{year}-{number.rjust(4, '0')}"


def normalise_port(value: Any) -> int | None:
    """``104``, ``"104/tcp"``, ``" 104 "``, ``104.0`` → 104; 0, out of range or junk → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        found = _PORT_RE.match(value)
        if not found:
            return None
        number = int(found.group(1))
    else:
        return None
    return number if 0 < number <= 65535 else None


def split_host_port(text: str) -> tuple[str, int | None]:
    """``https://PACS.example.test:8443/path`` → (``pacs.example.test``, 8443)."""
    value = text.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    port = None
    if value.startswith("["):  # [2001:db8::1]:443
        inside, _sep, rest = value[1:].partition("]")
        value = inside
        if rest.startswith(":"):
            port = normalise_port(rest[1:])
    else:
        found = _HOST_PORT_RE.match(value)
        if found:
            value, port = found.group("host"), normalise_port(found.group("port"))
    return value, port


def normalise_host(text: Any) -> str:
    """A host name or IP address in one spelling: lower case, no trailing dot, IDN as
    punycode, IPs in their canonical form (IPv4-mapped IPv6 as IPv4). "" for nothing usable."""
    if not isinstance(text, str):
        return ""
    host, _port = split_host_port(text)
    host = host.strip().rstrip(".").lower()
    if not host:
        return ""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    if any(c.isspace() for c in host):
        return ""
    return host


def _tls_version(text: str) -> str:
    found = _TLS_VERSION_RE.search(text)
    if not found:
        return ""
    if found.group(3):
        return f"ssl{found.group(4)}"
    version = re.sub(r"[\s,]", ".", found.group(2)).replace("..", ".")
    version = version if "." in version else version + ".0"
    return f"tls{version}"


def class_from_rule(rule: str) -> str:
    """The family of a Carbet rule id ("" for no rule)."""
    rule = (rule or "").strip().lower()
    if not rule:
        return ""
    if rule in _DATABASE_RULES:
        return "service:database"
    found = _SERVICE_RULE_RE.match(rule)
    if found:
        return f"service:{found.group('p') or found.group('m')}"
    if rule.startswith("tls.protocol."):
        version = rule.removeprefix("tls.protocol.")
        if version.startswith("tls1") and len(version) == 5:  # tls10 → tls1.0
            return f"tls-protocol:tls1.{version[4]}"
        return f"tls-protocol:{version}"
    if rule.startswith(("mail.", "dns.")):
        return f"mail:{rule.split('.', 1)[1]}"
    return f"check:{rule}"


def class_from_title(title: str, service: str = "") -> str:
    """A family recognised in a tool's title (its own ids mean nothing to Carbet)."""
    text = (title or "").lower()
    if service:
        named = SERVICE_WORDS.get(service.strip().lower())
        if named and _DETECTION_WORDS.search(text):
            return f"service:{named}"
    version = _tls_version(text)
    if version and re.search(r"\b(protocol|protocole|detect|enabled|activé|supported)", text):
        return f"tls-protocol:{version}"
    for mail_check in ("dmarc", "spf", "dkim"):
        if re.search(rf"\b{mail_check}\b", text) and re.search(
            r"\b(missing|absent|absence|no|aucun|manquant)\b", text
        ):
            return f"mail:{mail_check}.missing"
    if _DETECTION_WORDS.search(text):
        for word, named in SERVICE_WORDS.items():
            if re.search(rf"\b{re.escape(word)}\b", text):
                return f"service:{named}"
    return ""


def weakness_class(
    *, rule: str = "", cve: str = "", title: str = "", evidence: Mapping[str, Any] | None = None
) -> str:
    """The weakness class of one finding, following the order in the module's docstring."""
    evidence = evidence or {}
    explicit = evidence.get("weakness")
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip().lower()[:120]
    canonical = normalise_cve(cve)
    if canonical:
        return f"cve:{canonical}"
    from_rule = class_from_rule(rule)
    if from_rule:  # a rule id is precise: its title is never second-guessed
        return from_rule
    service = next((str(evidence[k]) for k in SERVICE_KEYS if isinstance(evidence.get(k), str)), "")
    return class_from_title(title, service)


def locate(evidence: Mapping[str, Any] | None, asset_value: str = "") -> tuple[str, int | None]:
    """The host and port a finding is about: from its evidence, else its asset's value."""
    evidence = evidence or {}
    host, port_in_host = "", None
    for key in HOST_KEYS:
        value = evidence.get(key)
        if isinstance(value, str) and value.strip():
            host, port_in_host = normalise_host(value), split_host_port(value)[1]
            if host:
                break
    if not host and asset_value:
        host = normalise_host(asset_value)
    port = next(
        (p for p in (normalise_port(evidence.get(k)) for k in PORT_KEYS) if p is not None),
        port_in_host,
    )
    return host, port


def weakness_of(
    *,
    rule: str = "",
    cve: str = "",
    title: str = "",
    evidence: Mapping[str, Any] | None = None,
    asset_value: str = "",
) -> Weakness | None:
    """The finding's (host, port, class), or ``None`` when it cannot be compared."""
    if evidence is not None and not isinstance(evidence, Mapping):
        evidence = None
    host, port = locate(evidence, asset_value)
    kind = weakness_class(rule=rule, cve=cve, title=title, evidence=evidence)
    if not host or not kind:
        return None
    return Weakness(host, port, kind)


def correlation_key(structure_id: int, **finding: Any) -> str:
    """The key ``ingest`` stores ("" when the finding cannot be compared)."""
    weakness = weakness_of(**finding)
    return weakness.key(structure_id) if weakness else ""
