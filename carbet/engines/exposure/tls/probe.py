"""TLS probe: protocol versions, cipher suites per version, groups, certificate chain.

Enumeration uses hand-built ClientHellos (``tls_hello``): each probe is one connection and one
round trip, reading the server's first flight and never finishing the handshake. Versions are
probed in parallel; within a version the suites are split by key exchange family and each
family is enumerated in parallel (offer all, note the server's pick, offer the rest...), so a
server with N suites costs about N + 3 probes per version. Chain trust is decided by OpenSSL
against the configured store in one real handshake (what browsers and the anchors do), with
expiry and host name judged separately so each weakness has its own check.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from carbet.engines.exposure.core import (
    BudgetExceeded,
    ScanContext,
    TargetResult,
)
from carbet.engines.exposure.tls import attacks
from carbet.engines.exposure.tls import checks as tls_checks  # noqa: F401 - registers the TLS checks
from carbet.engines.exposure.tls.chain import (
    HS_CERTIFICATE_STATUS,
    complete_chain,
    learnable,
    parse_certificate_status,
    record_chain,
    stapling,
)
from carbet.engines.exposure.tls.checks import (
    TLS_COMPRESSION,
    TLS_RENEGOTIATION_INSECURE,
    TLS_UNIDENTIFIED,
)
from carbet.engines.exposure.tls.handshake import fetch_leaf, verify_chain
from carbet.engines.exposure.tls.hello import (
    EXT_RENEGOTIATION_INFO,
    HS_CERTIFICATE,
    HS_SERVER_HELLO,
    HS_SERVER_HELLO_DONE,
    HS_SERVER_KEY_EXCHANGE,
    KeyExchangeParameters,
    RecordReader,
    ServerHello,
    TLSParseError,
    build_client_hello,
    build_sslv2_client_hello,
    parse_certificate,
    parse_server_hello,
    parse_server_key_exchange,
    parse_sslv2_server_hello,
    sslv2_record_length,
)
from carbet.engines.exposure.tls.starttls import open_starttls, starttls_offered
from carbet.engines.exposure.tls.suites import (
    DEFAULT_GROUPS,
    LEGACY_VERSIONS,
    PROTOCOL_KEYS,
    TLS12,
    TLS13,
    TLS13_GROUPS,
    WEAK_GROUPS,
    describe,
    group_name,
    suites_for,
)
from carbet.engines.exposure.tls.verdicts import (
    certificate_findings,
    other_certificates,
    probe_error_notes,
    protocol_observations,
    sslv2_observation,
    suite_observations,
    suites_evidence,
)


async def gather_or_cancel(*awaitables: Awaitable[Any]) -> list[Any]:
    """``asyncio.gather`` that cancels the siblings when one fails (a spent budget): no probe
    keeps talking to a target after its scan has given up."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


@dataclass
class ProbeResult:
    hello: ServerHello | None = None
    alert: int | None = None
    certificates: list[bytes] = field(default_factory=list)
    key_exchange: KeyExchangeParameters | None = None
    ocsp: bytes | None = None  # a stapled OCSP response (b"" when unreadable)
    error: str = ""  # garbage, timeout, refused connection: the probe says nothing


class _PortScan:
    """State of one TLS port's scan: probe counter, errors (deduplicated), findings."""

    def __init__(
        self,
        ctx: ScanContext,
        target: str,
        address: str,
        port: int,
        server_name: str | None,
        starttls: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.starttls = starttls  # "imap", "ldap"...: the plaintext opening before each probe
        self.target = target
        self.address = address
        self.port = port
        self.server_name = server_name
        self.probes = 0
        self.errors: dict[str, int] = {}
        self.garbage = False

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A stream ready for the first TLS byte (after the STARTTLS opening when there is one).
        The caller holds a slot."""
        if self.starttls:
            return await open_starttls(
                self.ctx, self.target, self.address, self.port, self.starttls, self.server_name
            )
        return await self.ctx.open_connection(self.target, self.address, self.port)

    async def probe(self, hello_bytes: bytes, want_flight: bool) -> ProbeResult:
        """One ClientHello → the server's first flight. A probe lost to a timeout or a dropped
        connection is tried once more: under load a lost probe would silently hide a suite."""
        result = await self._probe_once(hello_bytes, want_flight)
        if result.error and not self.garbage:
            retry = await self._probe_once(hello_bytes, want_flight)
            if not retry.error:
                self.errors[result.error] -= 1
                if not self.errors[result.error]:
                    del self.errors[result.error]
            result = retry
        return result

    async def _probe_once(self, hello_bytes: bytes, want_flight: bool) -> ProbeResult:
        config = self.ctx.config
        result = ProbeResult()
        self.probes += 1
        try:
            async with self.ctx.slot(self.target):
                reader, writer = await self.connect()
                try:
                    writer.write(hello_bytes)
                    await asyncio.wait_for(writer.drain(), config.read_timeout)
                    await asyncio.wait_for(
                        self._read_flight(reader, result, want_flight), config.read_timeout
                    )
                finally:
                    writer.transport.abort()  # no close_notify: the handshake is abandoned
        except BudgetExceeded:
            raise
        except TLSParseError as exc:
            self.garbage = True
            result.error = f"réponse non TLS: {exc}"
        except TimeoutError:
            result.error = "délai dépassé"
        except (OSError, ConnectionError) as exc:
            result.error = f"connexion impossible: {exc.strerror or type(exc).__name__}"
        if result.error:
            self.errors[result.error] = self.errors.get(result.error, 0) + 1
        return result

    async def _read_flight(
        self, reader: asyncio.StreamReader, result: ProbeResult, want_flight: bool
    ) -> None:
        records = RecordReader(max_bytes=self.ctx.config.max_read_bytes)
        while True:
            chunk = await reader.read(16384)
            if not chunk:
                return  # peer closed: whatever was parsed stands
            records.feed(chunk)
            if records.alerts:
                result.alert = records.alerts[0].description
            hello_body = records.find(HS_SERVER_HELLO)
            if hello_body is not None and result.hello is None:
                result.hello = parse_server_hello(hello_body)
            if result.alert is not None and result.hello is None:
                return
            if result.hello is None:
                continue
            negotiated = result.hello.negotiated_version
            if not want_flight or negotiated >= TLS13 or result.hello.is_retry_request:
                return
            if records.find(HS_SERVER_HELLO_DONE) is not None or result.alert is not None:
                break
        certificate_body = records.find(HS_CERTIFICATE)
        if certificate_body is not None:
            result.certificates = parse_certificate(certificate_body)
        status_body = records.find(HS_CERTIFICATE_STATUS)
        if status_body is not None:
            try:
                result.ocsp = parse_certificate_status(status_body)
            except TLSParseError:
                result.ocsp = b""
        key_exchange_body = records.find(HS_SERVER_KEY_EXCHANGE)
        if key_exchange_body is not None:
            suite = describe(result.hello.cipher_suite)
            result.key_exchange = parse_server_key_exchange(key_exchange_body, suite.key_exchange)

    async def probe_sslv2(self) -> list[int] | None:
        """Cipher kinds of an SSLv2 SERVER-HELLO, or None when the server does not speak SSLv2
        (whatever it answers instead: that is not an error of a modern server)."""
        self.probes += 1
        try:
            async with self.ctx.slot(self.target):
                reader, writer = await self.connect()
                try:
                    writer.write(build_sslv2_client_hello())
                    return await asyncio.wait_for(
                        self._read_sslv2(reader), self.ctx.config.read_timeout
                    )
                finally:
                    writer.transport.abort()
        except BudgetExceeded:
            raise
        except (TLSParseError, TimeoutError, OSError, ConnectionError):
            return None

    @staticmethod
    async def _read_sslv2(reader: asyncio.StreamReader) -> list[int] | None:
        data = b""
        while len(data) < 65536:
            chunk = await reader.read(16384)
            if not chunk:
                return None
            data += chunk
            length = sslv2_record_length(data)
            if length is None:
                return None  # a TLS alert or record: no SSLv2 here
            if len(data) >= length:
                kinds, _certificate = parse_sslv2_server_hello(data)
                return kinds
        return None

    # -- enumeration -------------------------------------------------------------------------

    def _hello(
        self,
        version: int,
        suites: list[int],
        groups: tuple[int, ...] | list[int] = DEFAULT_GROUPS,
        key_shares: tuple[int, ...] = (),
    ) -> bytes:
        # TLS 1.3 probes send no key share on purpose: the server answers a HelloRetryRequest,
        # which names the version, suite and group it picked without computing a key exchange
        # or signing anything: cheaper for the hospital's server, and one round trip for us.
        return build_client_hello(
            version,
            suites,
            self.server_name,
            groups=groups,
            key_share_groups=key_shares if version >= TLS13 else (),
        )

    @staticmethod
    def accepted_hello(result: ProbeResult, version: int, offered: list[int]) -> ServerHello | None:
        """The server's hello when it picked one of ``offered`` under ``version``, else None."""
        hello = result.hello
        if hello is None or hello.cipher_suite not in offered:
            return None
        return hello if hello.negotiated_version == version else None

    async def enumerate_version(self, version: int) -> tuple[list[int], list[ProbeResult]]:
        """Suites accepted under ``version`` (server's first pick first) and the probes' results."""
        candidates = suites_for(version)
        first = await self.probe(self._hello(version, candidates), want_flight=version < TLS13)
        first_hello = self.accepted_hello(first, version, candidates)
        if first_hello is None:
            return [], [first]
        found = [first_hello.cipher_suite]
        results = [first]
        families: dict[str, list[int]] = {}
        for code in candidates:
            if code in found:
                continue
            key_exchange = describe(code).key_exchange
            family = key_exchange.split("_")[0] if version < TLS13 else "tls13"
            families.setdefault(family, []).append(code)

        async def walk(family_codes: list[int]) -> None:
            remaining = list(family_codes)
            while remaining:
                result = await self.probe(self._hello(version, remaining), want_flight=True)
                hello = self.accepted_hello(result, version, remaining)
                if hello is None:
                    return
                chosen = hello.cipher_suite
                found.append(chosen)
                results.append(result)
                remaining.remove(chosen)

        await gather_or_cancel(*(walk(codes) for codes in families.values()))
        return found, results

    async def accepts_compression(self, version: int, suites: list[int]) -> bool:
        """Does the server pick DEFLATE when offered (CRIME)? One probe."""
        hello = build_client_hello(
            version, suites, self.server_name, groups=DEFAULT_GROUPS, offer_deflate=True
        )
        result = await self.probe(hello, want_flight=False)
        return result.hello is not None and result.hello.compression != 0

    async def tls13_groups(self) -> list[int]:
        """Groups a TLS 1.3 server accepts: one probe per group, empty key_share (HRR says yes)."""

        async def try_group(group: int) -> int | None:
            suites = suites_for(TLS13)
            result = await self.probe(
                self._hello(TLS13, suites, groups=(group,)), want_flight=False
            )
            hello = result.hello
            if hello is None or hello.negotiated_version != TLS13:
                return None
            chosen = hello.key_share_group
            return group if chosen in (group, None) else None

        found = await gather_or_cancel(*(try_group(group) for group in TLS13_GROUPS))
        return [group for group in found if group is not None]

    async def ecdhe_groups(self, version: int, ecdhe_suites: list[int]) -> list[int]:
        """Curves a TLS ≤ 1.2 server accepts for ECDHE, read from its ServerKeyExchange."""

        async def try_group(group: int) -> int | None:
            result = await self.probe(
                self._hello(version, ecdhe_suites, groups=(group,)), want_flight=True
            )
            if self.accepted_hello(result, version, ecdhe_suites) is None:
                return None
            if result.key_exchange is not None and result.key_exchange.group is not None:
                return result.key_exchange.group if result.key_exchange.group == group else None
            return group

        candidates = [group for group in DEFAULT_GROUPS if group < 0x0100]
        found = await gather_or_cancel(*(try_group(group) for group in candidates))
        return [group for group in found if group is not None]


async def _nothing() -> None:
    return None


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


async def scan_tls(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    server_name: str | None,
    result: TargetResult,
    *,
    now: dt.datetime | None = None,
    starttls: str | None = None,
) -> None:
    """Probe one TLS port; add observations and ``evidence["tls"][port]``. Never raises on a
    hostile peer: what could not be checked goes to ``result.errors``. ``starttls`` names the
    plaintext protocol ("imap", "ldap"...) each connection opens with (see ``starttls``)."""
    started = time.monotonic()
    scan = _PortScan(ctx, target, address, port, server_name, starttls)
    evidence: dict[str, Any] = result.evidence.setdefault("tls", {}).setdefault(str(port), {})
    if starttls and not await starttls_offered(scan, result, evidence):
        return
    versions = (*LEGACY_VERSIONS, TLS13) if ctx.config.tls_full else (TLS12, TLS13)
    try:
        enumerations, chain_check, ssl2_kinds = await gather_or_cancel(
            gather_or_cancel(*(scan.enumerate_version(version) for version in versions)),
            verify_chain(ctx, target, address, port, server_name, starttls=starttls),
            scan.probe_sslv2() if ctx.config.tls_full else _nothing(),
        )
    except BudgetExceeded:
        result.complete = False
        result.errors.append(f"tls:{port}: budget de requêtes épuisé, analyse TLS partielle")
        return
    accepted = {
        version: found for version, (found, _) in zip(versions, enumerations, strict=True) if found
    }
    probe_results = {
        version: probes for version, (_, probes) in zip(versions, enumerations, strict=True)
    }
    evidence["protocols"] = {PROTOCOL_KEYS[v]: v in accepted for v in versions}
    if ctx.config.tls_full:
        evidence["protocols"] = {"ssl2": bool(ssl2_kinds), **evidence["protocols"]}
    if ssl2_kinds:
        sslv2_observation(result, port, evidence, ssl2_kinds)
    if not accepted:
        reason = "réponses non TLS" if scan.garbage else "aucune version de TLS acceptée"
        details = "; ".join(sorted(scan.errors))[:300]
        result.errors.append(f"tls:{port}: {reason}" + (f" ({details})" if details else ""))
        evidence["error"] = reason
        evidence["probes"] = scan.probes
        # A TLS port whose configuration could not be judged is never "nothing wrong".
        result.observations.append(
            TLS_UNIDENTIFIED.observe(
                port, f"{reason} : chiffrement non vérifiable", {"reason": reason}
            )
        )
        return
    suites_evidence(evidence, accepted)
    groups, compressed = await _groups_and_compression(scan, result, accepted)
    evidence["groups"] = [group_name(group) for group in groups]
    weak_groups = [group_name(group) for group in groups if group in WEAK_GROUPS]
    dh_sizes = _dh_sizes(probe_results)
    evidence["dh_bits"] = dh_sizes[0] if dh_sizes else None

    protocol_observations(result, port, accepted)
    suite_observations(result, port, accepted, dh_sizes, weak_groups)
    if compressed is not None:
        evidence["compression"] = compressed
        if compressed:
            result.observations.append(
                TLS_COMPRESSION.observe(port, "compression TLS (DEFLATE) acceptée")
            )
    _renegotiation(result, port, evidence, accepted, probe_results)
    if ctx.config.tls_full:
        await attacks.run(scan, result, evidence, accepted)
    await _certificates(scan, result, evidence, accepted, probe_results, chain_check, _now(now))
    if scan.errors:
        probe_error_notes(result, port, evidence, scan.errors)
    evidence["probes"] = scan.probes
    evidence["duration"] = round(time.monotonic() - started, 3)


# The versions a port accepted, each with its suites (server's first pick first); and the
# results of every probe made, by version.
_Accepted = dict[int, list[int]]
_Probes = dict[int, list[ProbeResult]]


async def _groups_and_compression(
    scan: _PortScan, result: TargetResult, accepted: _Accepted
) -> tuple[list[int], bool | None]:
    """Key exchange groups and TLS compression (full scans only), probed together."""
    best_legacy = max((v for v in accepted if v < TLS13), default=None)

    async def key_exchange_groups() -> list[int]:
        if TLS13 in accepted:
            return await scan.tls13_groups()
        if best_legacy is None:
            return []
        ecdhe = [c for c in accepted[best_legacy] if describe(c).key_exchange.startswith("ECDHE")]
        return await scan.ecdhe_groups(best_legacy, ecdhe) if ecdhe else []

    async def compression() -> bool | None:
        if best_legacy is None or not scan.ctx.config.tls_full:
            return None
        return await scan.accepts_compression(best_legacy, accepted[best_legacy])

    try:
        groups, compressed = await gather_or_cancel(key_exchange_groups(), compression())
    except BudgetExceeded:
        result.complete = False
        result.errors.append(f"tls:{scan.port}: budget de requêtes épuisé (groupes non testés)")
        return [], None
    return groups, compressed


def _dh_sizes(probe_results: _Probes) -> list[int]:
    """The finite-field Diffie-Hellman sizes seen in any probe, smallest first."""
    return sorted(
        {
            probe.key_exchange.dh_bits
            for probes in probe_results.values()
            for probe in probes
            if probe.key_exchange is not None and probe.key_exchange.dh_bits
        }
    )


def _renegotiation(
    result: TargetResult,
    port: int,
    evidence: dict[str, Any],
    accepted: _Accepted,
    probe_results: _Probes,
) -> None:
    """RFC 5746: a TLS ≤ 1.2 server that does not echo renegotiation_info is open to the
    renegotiation injection attack (TLS 1.3 has no renegotiation at all)."""
    legacy_hellos = [
        probe.hello
        for version in sorted(v for v in accepted if v < TLS13)
        for probe in probe_results[version][:1]
        if probe.hello is not None
    ]
    if legacy_hellos:
        secure = all(EXT_RENEGOTIATION_INFO in hello.extensions for hello in legacy_hellos)
        evidence["secure_renegotiation"] = secure
        if not secure:
            result.observations.append(
                TLS_RENEGOTIATION_INSECURE.observe(port, "extension renegotiation_info absente")
            )


async def _certificates(
    scan: _PortScan,
    result: TargetResult,
    evidence: dict[str, Any],
    accepted: _Accepted,
    probe_results: _Probes,
    chain_check: tuple[bool | None, str, bytes | None],
    now: dt.datetime,
) -> None:
    """Certificate: from the best ≤ 1.2 probe's Certificate message, else a full handshake;
    other leaves served to some probes are checked too (the first three)."""
    ctx, port, server_name = scan.ctx, scan.port, scan.server_name
    trusted, trust_error, verified_leaf = chain_check
    chain_der = _probed_chain(accepted, probe_results)
    if not chain_der:
        leaf = verified_leaf
        if leaf is None:
            try:
                leaf = await fetch_leaf(
                    ctx, scan.target, scan.address, port, server_name, scan.starttls
                )
            except BudgetExceeded:
                leaf = None
        chain_der = [leaf] if leaf else []
    completion = None
    if trusted is False:
        completion = await complete_chain(
            ctx, scan.target, scan.address, port, server_name, chain_der, trust_error,
            lambda pem: _trusted_with(scan, pem),
        )  # fmt: skip
        if completion.completed:  # a trusted CA after all: only the server's chain is short
            trusted = True
    else:
        learnable(result, chain_der, trusted, verified_leaf)
    evidence["certificate"] = certificate_findings(
        result, port, chain_der, trusted, trust_error, server_name, now
    )
    record_chain(result, port, evidence, chain_der, completion, trust_error)
    await stapling(scan, result, evidence, accepted, chain_der, trusted)
    seen_leaves = {chain_der[0]} if chain_der else set()
    other_leaves: list[bytes] = []
    for probes in probe_results.values():
        for probe in probes:
            if probe.certificates and probe.certificates[0] not in seen_leaves:
                seen_leaves.add(probe.certificates[0])
                other_leaves.append(probe.certificates[0])
    if other_leaves:
        evidence["other_certificates"] = other_certificates(
            result, port, other_leaves[:3], server_name, now
        )


async def _trusted_with(scan: _PortScan, extra_pem: str) -> bool | None:
    trusted, _reason, _leaf = await verify_chain(
        scan.ctx, scan.target, scan.address, scan.port, scan.server_name, extra_pem, scan.starttls
    )
    return trusted


def _probed_chain(accepted: _Accepted, probe_results: _Probes) -> list[bytes]:
    for version in sorted((v for v in accepted if v < TLS13), reverse=True):
        for probe in probe_results[version]:
            if probe.certificates:
                return probe.certificates
    return []


__all__ = ["fetch_leaf", "gather_or_cancel", "scan_tls", "verify_chain"]
