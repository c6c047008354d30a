"""The exposure engine's shared vocabulary: what a scan is given, what it finds, and its limits.

Pure asyncio and standard library (plus dnspython and cryptography in the modules that need
them); no Django. Every probe sub-package (``ports``, ``tls``, ``web``, ``mail``, ``vulns``)
speaks in these types, and ``runner`` ties them together. The check registry lives in
``checks`` (each probe sub-package declares its own); the scores in ``scoring``; the JSON
contract and the table in ``report``.

Scope: every connection the engine opens goes through :meth:`ScanContext.open_connection`
(or, for port discovery's bare sockets, :meth:`ScanContext.guard`), which asks the scan's
``ConnectPolicy`` about the exact address literal it is about to use, at that moment. A host
name is never handed to the operating system to connect to (it would resolve it again, and a
rebinding DNS server could then answer anything): only addresses that passed the policy are.
A refusal is recorded on the target's result (``TargetResult.refused``), which is then partial.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import ssl
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carbet.engines.netpolicy import REASONS, ConnectPolicy, Refusal, ScopeRefused

if TYPE_CHECKING:
    from carbet.engines.exposure.tls.intermediates import KnownIntermediates

USER_AGENT = "Carbet-Exposure/1.0 (+regional health cyber resource centre; mandated scan)"

# Risky-and-medical ports probed by default (the contract, plus a few remote-access ones).
# Risky and medical ports, plus the mail and directory ports a hospital's own servers expose
# (POP3/IMAP with STARTTLS or TLS, submission, LDAP/LDAPS): their STARTTLS and TLS checks run
# on every default scan, not only when an analyst names the ports.
DEFAULT_PORTS: tuple[int, ...] = (
    21, 22, 23, 25, 80, 104, 110, 143, 389, 443, 445, 465, 587, 636, 993, 995, 1433, 1521,
    2575, 3306, 3389, 4242, 5432, 5900, 6379, 8080, 8443, 9200, 10443, 11112, 27017,
)  # fmt: skip


class BudgetExceeded(Exception):
    """A target used up its request budget: the scan of that target stops, marked partial."""


@dataclass(frozen=True)
class ScanConfig:
    """Everything a scan may be tuned by. Defaults are polite to a hospital's servers."""

    ports: tuple[int, ...] = DEFAULT_PORTS
    global_concurrency: int = 512  # open sockets across all targets
    per_target_concurrency: int = 8  # one target never sees more than this at once
    per_target_budget: int = 400  # connections/requests a single target may receive
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    target_timeout: float = 180.0  # the whole scan of one target, whatever happens
    max_read_bytes: int = 256 * 1024  # never read more than this from one reply
    user_agent: str = USER_AGENT
    nameserver: str | None = None  # "IP" or "IP:PORT"; None = the system resolver
    ca_file: str | None = None  # PEM trust store; None = the system's
    tls_full: bool = True  # enumerate every protocol and suite, not only the negotiated one
    web_paths: bool = True  # probe sensitive paths (/.git/HEAD, /.env, ...) with safe GETs
    mail_dns: bool = True  # MX/SPF/DMARC/DKIM/MTA-STS/TLS-RPT/DNSSEC/CAA for domain targets
    # Extra "port → probe" pairs for services on unusual ports, e.g. ((8104, "dicom"),); probes:
    # http https rdp smb dicom hl7 redis mongodb postgresql mssql oracle (see services).
    port_hints: tuple[tuple[int, str], ...] = ()
    smtp_port: int = 25  # where MX hosts are probed for STARTTLS (tests point it elsewhere)
    ns_port: int = 53  # where name servers are asked directly (IPv6 parity; tests elsewhere)
    mta_sts_port: int = 443  # HTTPS port of mta-sts.<domain> (tests point it elsewhere)
    dns_timeout: float = 3.0  # one DNS query, retries included
    # Where the scan may connect (carbet.engines.netpolicy). None: the analyst's own lab tool
    # (``carbet scan TARGET…``), which connects to what it was told to. The platform always
    # sets one, rebuilt from the registry when the scan runs.
    policy: ConnectPolicy | None = None
    # Intermediate CA certificates known offline (``tls.intermediates``): a chain the server
    # sent short is completed from them before anything else, never fetched from a third
    # party. The platform passes its store (learnt and imported), loaded once per scan run.
    known_intermediates: KnownIntermediates | None = None

    def nameserver_address(self) -> tuple[str, int] | None:
        """``IP``, ``IP:PORT``, ``::1``, ``[::1]`` or ``[::1]:PORT`` → (address, port).

        Raises ValueError on anything else (a bare IPv6 address carries no port: its colons
        are the address's own)."""
        if not self.nameserver:
            return None
        text = self.nameserver.strip()
        if text.startswith("["):
            address, _, rest = text[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ("" if not rest else None)
        elif text.count(":") == 1:
            address, _, port = text.partition(":")
        else:
            address, port = text, ""
        if port is None or (port and not (port.isascii() and port.isdigit())):
            raise ValueError(
                f"invalid nameserver {self.nameserver!r}: use IP, IP:PORT or [IPv6]:PORT"
            )
        number = int(port) if port else 53
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(
                f"invalid nameserver address {address!r}: an IP address is expected"
            ) from None
        if not 0 < number < 65536:
            raise ValueError(f"invalid nameserver port {number}")
        return address, number


@dataclass
class Observation:
    """One check that fired on one target (a finding in the making), with its evidence."""

    check: str  # a registered check id, e.g. "tls.protocol.tls10" (built by ``Check.observe``)
    port: int | None = None
    detail: str = ""  # short factual text ("TLS 1.0 accepted", "HSTS max-age=300")
    evidence: dict[str, Any] = field(default_factory=dict)
    # Overrides of the registry's defaults for this occurrence (e.g. a KEV CVE's own title).
    severity: int | None = None
    title: str | None = None
    cve: str = ""
    cvss: float | None = None
    epss: float | None = None
    kev: bool = False
    product: str = ""

    def __post_init__(self) -> None:
        # An unknown id is a programming error (a typo, a check never declared), not a finding
        # worth some default points: refuse it where it is made.
        from carbet.engines.exposure.checks import UnknownCheck, is_registered

        if not is_registered(self.check):
            raise UnknownCheck(self.check)

    def key(self) -> str:
        """Stable identity within a target: the fingerprint's tail for the findings store."""
        return f"{self.check}|{self.port or ''}|{self.cve}"


@dataclass
class ServiceInfo:
    """An open port and what answers on it."""

    port: int
    service: str = "unknown"  # http, https, ssh, smtp, rdp, smb, dicom, hl7, fhir, ...
    product: str = ""  # "OpenSSH", "nginx", "Fortinet FortiOS", ...
    version: str = ""
    vendor: str = ""  # CPE vendor when known ("openbsd", "f5", "fortinet")
    cpe: str = ""  # cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*
    tls: bool = False  # speaks TLS on connect
    starttls: bool = False  # offers STARTTLS (SMTP, ...)
    banner: str = ""  # first bytes, printable, truncated
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TargetResult:
    """Everything learnt about one target (a host name, an address or a mail domain)."""

    target: str
    kind: str = "host"  # host | ip | domain
    addresses: list[str] = field(default_factory=list)
    services: list[ServiceInfo] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)  # tls/web/dns details per port
    errors: list[str] = field(default_factory=list)  # what could not be checked, and why
    complete: bool = True  # False when a timeout, the budget or a refusal cut the scan short
    scores: dict[str, Any] = field(default_factory=dict)  # filled by scoring
    duration: float = 0.0
    # Connections the scope policy refused (``Refusal.as_dict()``): never silently skipped.
    refused: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, refusal: Refusal) -> None:
        """Record a refused connection once (per address, reason and path), in French too.

        The target becomes partial: a scan that could not look at everything must not close
        findings as fixed."""
        record = refusal.as_dict()
        key = (record["address"], record["reason"], record["via"], record["name"])
        if any((r["address"], r["reason"], r["via"], r["name"]) == key for r in self.refused):
            return
        self.refused.append(record)
        self.complete = False
        self.errors.append(refusal_text(record))


def refusal_text(record: dict[str, Any]) -> str:
    """« Carbet n'a pas contacté 10.0.0.5:25 (mx mail.example) : adresse privée (…) »."""
    address = str(record.get("address", ""))
    where = f"{address}:{record['port']}" if record.get("port") else address
    via, name = record.get("via") or "", record.get("name") or ""
    source = f" ({via} {name})" if via and name else ""
    reason = REASONS.get(str(record.get("reason", "")), str(record.get("reason", "")))
    return f"Carbet n'a pas contacté {where}{source} : {reason}"


# The result of the target being scanned in this task (and the tasks it spawns): where a
# refusal met deep inside a probe is recorded. Set by the runner around each target.
_CURRENT_RESULT: contextvars.ContextVar[TargetResult | None] = contextvars.ContextVar(
    "carbet_exposure_result", default=None
)


@contextlib.contextmanager
def recording(result: TargetResult) -> Iterator[None]:
    """Refusals met while this block (and the tasks it starts) runs land on ``result``."""
    token = _CURRENT_RESULT.set(result)
    try:
        yield
    finally:
        _CURRENT_RESULT.reset(token)


class ScanContext:
    """Limits shared by a whole scan: concurrency, per-target budgets, timeouts, trust store."""

    def __init__(self, config: ScanConfig | None = None) -> None:
        self.config = config or ScanConfig()
        self._global = asyncio.Semaphore(self.config.global_concurrency)
        self._per_target: dict[str, asyncio.Semaphore] = {}
        self._spent: dict[str, int] = {}
        self._ssl_verify: ssl.SSLContext | None = None
        self._batch_lock: asyncio.Lock | None = None
        self.policy = self.config.policy or ConnectPolicy.open()
        self.unrecorded: list[Refusal] = []  # refusals met outside any target (kept, not lost)

    def check(
        self,
        address: str,
        *,
        port: int | None = None,
        via: str = "",
        name: str = "",
        result: TargetResult | None = None,
    ) -> bool:
        """May the scan connect to ``address`` (a literal)? A refusal is recorded on ``result``
        (or the target being scanned) and False comes back."""
        return self._judge(address, port, via, name, result) is None

    def _judge(
        self, address: str, port: int | None, via: str, name: str, result: TargetResult | None
    ) -> Refusal | None:
        refusal = self.policy.check(address, port=port, via=via, name=name)
        if refusal is not None:
            recorder = result or _CURRENT_RESULT.get()
            if recorder is not None:
                recorder.refuse(refusal)
            else:
                self.unrecorded.append(refusal)
        return refusal

    def guard(self, address: str, port: int | None = None) -> None:
        """The last check, right before a socket connects: raise ScopeRefused (an OSError, so
        probes treat it as an unreachable port) unless the policy allows this literal."""
        refusal = self._judge(address, port, "", "", None)
        if refusal is not None:
            raise ScopeRefused(refusal)

    def spend(self, target: str, cost: int = 1) -> None:
        """Count a connection or request against ``target``'s budget; raise when exhausted."""
        spent = self._spent.get(target, 0) + cost
        self._spent[target] = spent
        if spent > self.config.per_target_budget:
            raise BudgetExceeded(target)

    def spent(self, target: str) -> int:
        return self._spent.get(target, 0)

    @contextlib.asynccontextmanager
    async def slot(self, target: str, cost: int = 1) -> AsyncIterator[None]:
        """Hold one global and one per-target slot while talking to ``target``."""
        self.spend(target, cost)
        per_target = self._per_target.setdefault(
            target, asyncio.Semaphore(self.config.per_target_concurrency)
        )
        async with self._global, per_target:
            yield

    @contextlib.asynccontextmanager
    async def slots(self, target: str, count: int) -> AsyncIterator[None]:
        """Hold ``count`` global and per-target slots at once, for a batch of cheap connects
        (port discovery). ``count`` is capped by both limits; callers size batches with
        :meth:`batch_size`. Batches take their slots one batch at a time, so two batches never
        each hold part of what the other waits for."""
        self.spend(target, count)
        per_target = self._per_target.setdefault(
            target, asyncio.Semaphore(self.config.per_target_concurrency)
        )
        if self._batch_lock is None:
            self._batch_lock = asyncio.Lock()
        taken_global = taken_target = 0
        try:
            async with self._batch_lock:
                for _ in range(count):
                    await per_target.acquire()
                    taken_target += 1
                    await self._global.acquire()
                    taken_global += 1
            yield
        finally:
            for _ in range(taken_global):
                self._global.release()
            for _ in range(taken_target):
                per_target.release()

    def batch_size(self) -> int:
        return max(1, min(self.config.per_target_concurrency, self.config.global_concurrency))

    async def open_connection(
        self,
        target: str,
        address: str,
        port: int,
        *,
        timeout: float | None = None,
        limit: int | None = None,
        **kwargs: Any,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """TCP (or TLS, with ``ssl=``) connect under the connect timeout. Caller holds a slot.

        The only way the engine opens a stream: the policy is asked about ``address`` here, at
        the moment of connecting, and ``address`` must be a literal the policy can judge (a
        name would be resolved again by the system, after the check)."""
        self.guard(address, port)
        return await asyncio.wait_for(
            asyncio.open_connection(
                address, port, limit=limit or self.config.max_read_bytes, **kwargs
            ),
            timeout or self.config.connect_timeout,
        )

    def verifying_ssl_context(self) -> ssl.SSLContext:
        """A client context that verifies chains against the configured trust store."""
        if self._ssl_verify is None:
            context = ssl.create_default_context(cafile=self.config.ca_file)
            self._ssl_verify = context
        return self._ssl_verify

    @staticmethod
    def insecure_ssl_context() -> ssl.SSLContext:
        """For looking at what a server offers, whatever its certificate: never for trusting.

        Lenient on purpose: every protocol version this OpenSSL can still speak, every suite
        at security level 0 (1024-bit keys, SHA-1 signatures), and servers without secure
        renegotiation. An old appliance that speaks only TLS 1.0 must be identified (and then
        judged by the TLS checks), not dismissed as "no answer"."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with warnings.catch_warnings():  # naming old versions warns: reaching them is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with contextlib.suppress(ssl.SSLError):
            context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
        context.options |= getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0)
        return context


async def read_some(reader: asyncio.StreamReader, size: int, timeout: float) -> bytes:
    """Read up to ``size`` bytes, or what arrived before ``timeout``: never hangs, never raises
    on a closed or silent peer (returns b"")."""
    try:
        return await asyncio.wait_for(reader.read(size), timeout)
    except (TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError):
        return b""


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 1.0)
