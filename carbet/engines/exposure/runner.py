"""Scan a list of targets end to end: resolve, discover, fingerprint, TLS, web, mail/DNS, vulns.

``scan_targets`` is the one entry point (``scan`` its synchronous wrapper). A target is an IP
literal, a host name, or a mail domain; ``domain:NAME`` / ``host:NAME`` force how a name is
treated. A name counts as a domain (and gets the mail and DNS checks) when it carries MX
records or is the apex of its zone (an SOA of its own); every name is also port-scanned on
its addresses. Results come back in the order of ``targets``.

Each target runs under ``config.target_timeout`` and its request budget: a cut-short target
keeps what was learnt, is marked ``complete=False`` and says why in ``errors``. Nothing a peer
does (garbage, slow drip, huge replies, resets, silence) can hang or crash the scan.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver

from carbet.engines.exposure import scoring
from carbet.engines.exposure.core import (
    BudgetExceeded,
    ScanConfig,
    ScanContext,
    ServiceInfo,
    TargetResult,
    recording,
)
from carbet.engines.exposure.ports import probe as services

Progress = Callable[[int, int, str], None]
MAX_ADDRESSES = 4  # per name: enough for A + AAAA and a small round-robin


def parse_target(raw: str) -> tuple[str, str | None]:
    """``(name, forced kind)``: strips a ``domain:``/``host:`` prefix, a URL's scheme and path."""
    text = raw.strip()
    forced = None
    for prefix in ("domain:", "host:"):
        if text.lower().startswith(prefix):
            forced, text = prefix[:-1], text[len(prefix) :]
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    return text.strip().rstrip(".").lower(), forced


def ip_literal(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def valid_hostname(name: str) -> bool:
    if not name or len(name) > 253:
        return False
    try:
        labels = name.encode("idna").decode("ascii").split(".")
    except UnicodeError:
        return False
    return all(
        0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
        and all(c.isalnum() or c in "-_" for c in label)
        for label in labels
    )  # fmt: skip


class Resolver:
    """A/AAAA, MX and SOA lookups through the configured nameserver (or the system's)."""

    def __init__(self, config: ScanConfig) -> None:
        self.config = config
        self.lifetime = config.connect_timeout + config.read_timeout
        self._dns: dns.asyncresolver.Resolver | None = None
        server = config.nameserver_address()
        if server:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [server[0]]
            resolver.port = server[1]
            self._dns = resolver
        else:
            try:
                self._dns = dns.asyncresolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                self._dns = None

    async def addresses(self, name: str) -> tuple[list[str], str]:
        """The name's addresses (IPv4 first) and, when there are none, why."""
        found, reason, _cnames = await self.resolve(name)
        return found, reason

    async def resolve(self, name: str) -> tuple[list[str], str, list[str]]:
        """(addresses IPv4 first, why there are none, the CNAME chain's names in order).

        The chain matters to the scope policy: a name reached through a CNAME that another
        structure declared is not this structure's to scan."""
        if not self.config.nameserver:
            return await self._system_addresses(name)
        found: list[str] = []
        reasons: list[str] = []
        cnames: list[str] = []
        for records, reason in await asyncio.gather(
            self._query(name, "A"), self._query(name, "AAAA")
        ):
            found += [record.address for record in records]
            for hop in _cname_chain(records):
                if hop not in cnames:
                    cnames.append(hop)
            if reason:
                reasons.append(reason)
        return found, "" if found else (reasons[0] if reasons else "aucune adresse"), cnames

    async def _system_addresses(self, name: str) -> tuple[list[str], str, list[str]]:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(name, None, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME),
                self.lifetime,
            )
        except (OSError, TimeoutError, UnicodeError) as exc:
            return [], f"nom introuvable ({exc})", []
        found: list[str] = []
        canonical = ""
        for family, _type, _proto, canonname, sockaddr in infos:
            canonical = canonical or canonname
            if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in found:
                found.append(str(sockaddr[0]))
        found.sort(key=lambda address: ":" in address)
        canonical = canonical.rstrip(".").lower()
        return found, "", [canonical] if canonical and canonical != name else []

    async def txt(self, name: str) -> list[str]:
        """The TXT strings of ``name`` (each record's parts joined), empty when there are none."""
        records, _reason = await self._query(name, "TXT")
        return [b"".join(record.strings).decode("utf-8", errors="replace") for record in records]

    async def _query(self, name: str, rdtype: str) -> tuple[Any, str]:
        if self._dns is None:
            return [], "pas de résolveur DNS configuré"
        try:
            answer = await self._dns.resolve(name, rdtype, lifetime=self.lifetime)
        except dns.resolver.NXDOMAIN:
            return [], "le nom n'existe pas (NXDOMAIN)"
        except dns.resolver.NoAnswer:
            return [], ""
        except dns.resolver.NoNameservers:
            return [], "aucun serveur DNS n'a répondu correctement (SERVFAIL)"
        except dns.exception.Timeout:
            return [], "le serveur DNS ne répond pas (délai dépassé)"
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            return [], f"erreur DNS ({type(exc).__name__})"
        return answer, ""

    async def is_mail_domain(self, name: str) -> bool:
        """MX records, or the apex of a zone (its own SOA): a name mail and DNS checks suit."""
        if self._dns is None:
            return False
        mx, soa = await asyncio.gather(self._query(name, "MX"), self._zone_apex(name))
        return bool(mx[0]) or soa

    async def _zone_apex(self, name: str) -> bool:
        if self._dns is None:  # no resolver: no zone can be known
            return False
        try:
            answer = await self._dns.resolve(name, "SOA", lifetime=self.lifetime)
        except (dns.exception.DNSException, OSError, ValueError):
            return False
        return answer.rrset is not None and answer.rrset.name.to_text().rstrip(".").lower() == name


def _cname_chain(answer: Any) -> list[str]:
    """The CNAME targets a dnspython answer went through, in order (empty for a plain list)."""
    chaining = getattr(answer, "chaining_result", None)
    if chaining is None:
        return []
    return [
        rrset[0].target.to_text(omit_final_dot=True).lower()
        for rrset in chaining.cnames
        if len(rrset)
    ]


class TargetScan:
    """Everything done for one target; mutates ``result`` as it learns, so partial runs keep."""

    def __init__(
        self, ctx: ScanContext, resolver: Resolver, result: TargetResult, forced: str | None
    ) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.resolver = resolver
        self.result = result
        self.forced = forced
        # The probe modules, imported here (not at module level) so that importing the runner
        # stays cheap for code that only wants its helpers.
        from carbet.engines.exposure.mail import probe as maildns
        from carbet.engines.exposure.tls import identify, starttls
        from carbet.engines.exposure.tls import probe as tls
        from carbet.engines.exposure.web import probe as web

        self.tls = tls
        self.starttls = starttls
        self.identify = identify
        self.web = web
        self.maildns = maildns
        self._followed_ports: set[int] = set()

    async def run(self) -> None:
        result = self.result
        name = result.target
        literal = ip_literal(name)
        jobs: list[Any] = []
        cnames: list[str] = []
        if literal:
            result.kind = "ip"
            result.addresses = [literal]
            server_name = None
        elif not valid_hostname(name):
            result.complete = False
            result.errors.append(
                f"cible invalide : « {name[:100]} » n'est ni une adresse ni un nom"
            )
            return
        else:
            server_name = name
            (addresses, reason, cnames), is_domain = await asyncio.gather(
                self.resolver.resolve(name),
                self._is_domain(name),
            )
            result.kind = "domain" if is_domain else "host"
            if len(addresses) > MAX_ADDRESSES:
                result.errors.append(
                    f"{len(addresses)} adresses pour {name} : seules les {MAX_ADDRESSES} "
                    "premières sont analysées"
                )
            # What the name resolved to is always shown, refused addresses included.
            result.addresses = addresses[:MAX_ADDRESSES]
            result.evidence["resolution"] = {
                "name": name,
                "cnames": cnames,
                "addresses": list(addresses[:MAX_ADDRESSES]),
            }
            if not addresses and not is_domain:
                result.complete = False
                result.errors.append(f"{name} : {reason or 'aucune adresse'}")
            if is_domain and self.config.mail_dns:
                jobs.append(self._mail_dns(name))
        allowed = [
            address
            for address in result.addresses
            if self._in_scope(address, name if server_name else "", cnames)
        ]
        jobs += [self._address(address, server_name) for address in allowed]
        await _gather_budgeted(jobs)
        if server_name:
            # IPv6 parity of the web ports, once discovery has seen every address.
            from carbet.engines.exposure.web.ipv6 import web_ipv6_parity

            await web_ipv6_parity(self.ctx, result, server_name, allowed)

    def _in_scope(self, address: str, name: str, cnames: list[str]) -> bool:
        """Ask the policy before anything touches ``address``: reached as the target itself,
        through its name, or through each name of its CNAME chain (another structure's
        name anywhere on the way refuses it)."""
        if not name:
            return self.ctx.check(address, via="target", result=self.result)
        if not self.ctx.check(address, via="name", name=name, result=self.result):
            return False
        return all(
            self.ctx.check(address, via="cname", name=hop, result=self.result) for hop in cnames
        )

    async def _is_domain(self, name: str) -> bool:
        if self.forced:
            return self.forced == "domain"
        return await self.resolver.is_mail_domain(name)

    async def _mail_dns(self, domain: str) -> None:
        await self.maildns.scan_domain(self.ctx, domain, self.result)

    async def _address(self, address: str, server_name: str | None) -> None:
        found = await services.scan_address(self.ctx, self.result, address, server_name)
        # A port no probe recognised gets a last try in every TLS version we can craft (an old
        # appliance speaking only SSLv3/TLS 1.0); still unknown, it is reported, never silent.
        await _gather_budgeted(
            [
                self.identify.identify(self.ctx, self.result, address, service, server_name)
                for service in found
                if "unidentified" in service.extra and not service.tls
            ]
        )
        follow_ups = []
        for service in found:
            # TLS and web checks once per port: the first address to reach here claims it.
            if service.port not in self._followed_ports:
                self._followed_ports.add(service.port)
                follow_ups += self._follow_ups(service, address, server_name)
        await _gather_budgeted(follow_ups)

    def _follow_ups(self, service: ServiceInfo, address: str, server_name: str | None) -> list[Any]:
        jobs = []
        target = self.result.target
        if service.tls:
            jobs.append(
                self.tls.scan_tls(self.ctx, target, address, service.port, server_name, self.result)
            )
        elif protocol := self.starttls.protocol_for(service):  # IMAP, POP3, FTP, LDAP...
            jobs.append(
                self.tls.scan_tls(
                    self.ctx, target, address, service.port, server_name, self.result,
                    starttls=protocol,
                )
            )  # fmt: skip
        if services.is_http(service):
            host = server_name or (f"[{address}]" if ":" in address else address)
            default = 443 if service.tls else 80
            host_header = host if service.port == default else f"{host}:{service.port}"
            jobs.append(
                self.web.scan_web(
                    self.ctx, target, address, service.port, service.tls, host_header, self.result
                )
            )
        return jobs


async def _gather_budgeted(jobs: list[Any]) -> None:
    """Run ``jobs`` together; the first budget exhaustion is raised once all have stopped."""
    if not jobs:
        return
    outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    budget = None
    for outcome in outcomes:
        if isinstance(outcome, BudgetExceeded):
            budget = outcome
        elif isinstance(outcome, BaseException):
            raise outcome
    if budget is not None:
        raise budget


def _deduplicate(result: TargetResult) -> None:
    seen: set[str] = set()
    kept = []
    for observation in result.observations:
        if observation.key() not in seen:
            seen.add(observation.key())
            kept.append(observation)
    result.observations = kept
    result.services.sort(key=lambda service: (service.port, service.extra.get("address", "")))


async def _scan_one(
    ctx: ScanContext, resolver: Resolver, raw: str, feeds: Any, vulns: Any
) -> TargetResult:
    name, forced = parse_target(raw)
    result = TargetResult(target=name or raw.strip())
    started = time.monotonic()
    config = ctx.config
    try:
        with recording(result):  # refusals met deep in a probe land on this target
            await asyncio.wait_for(
                TargetScan(ctx, resolver, result, forced).run(), config.target_timeout
            )
    except TimeoutError:
        result.complete = False
        result.errors.append(
            f"analyse interrompue après {config.target_timeout:g} s (délai par cible) : "
            "résultats partiels"
        )
    except BudgetExceeded:
        result.complete = False
        result.errors.append(
            f"budget de {config.per_target_budget} connexions atteint : résultats partiels"
        )
    except Exception as exc:  # one target's failure never stops the others
        result.complete = False
        result.errors.append(f"erreur interne pendant l'analyse : {type(exc).__name__}: {exc}")
    if result.services:
        try:
            result.observations.extend(vulns.match_services(result.services, feeds))
        except Exception as exc:
            result.errors.append(f"rapprochement des vulnérabilités impossible : {exc}")
    _deduplicate(result)
    result.duration = round(time.monotonic() - started, 3)
    scoring.score_target(result)
    return result


async def scan_targets(
    targets: list[str], config: ScanConfig, progress: Progress | None = None
) -> list[TargetResult]:
    """Scan every target (concurrently, within the config's limits); results in input order."""
    ctx = ScanContext(config)
    resolver = Resolver(config)
    from carbet.engines.exposure.vulns import match as vulns

    feeds = await asyncio.to_thread(vulns.default_store, config)
    total = len(targets)
    done = 0
    if progress:
        progress(0, total, "")
    # Targets in flight at once: enough to keep the global socket limit busy, not more (each
    # target's own timeout starts only when it leaves this queue).
    in_flight = asyncio.Semaphore(
        max(1, config.global_concurrency // max(1, config.per_target_concurrency)) * 2
    )

    async def one(raw: str) -> TargetResult:
        nonlocal done
        async with in_flight:
            result = await _scan_one(ctx, resolver, raw, feeds, vulns)
        done += 1
        if progress:
            progress(done, total, result.target)
        return result

    return list(await asyncio.gather(*(one(raw) for raw in targets)))


def scan(
    targets: list[str], config: ScanConfig | None = None, progress: Progress | None = None
) -> list[TargetResult]:
    """Synchronous wrapper; safe to call from code that already runs an event loop."""
    config = config or ScanConfig()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(scan_targets(targets, config, progress))
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(scan_targets(targets, config, progress))
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=worker, name="carbet-exposure-scan")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    results: list[TargetResult] = box["value"]
    return results
