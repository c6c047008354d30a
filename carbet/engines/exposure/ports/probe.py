"""Which services answer on a target: TCP connect discovery, then protocol-aware fingerprinting.

Discovery (``ports/discovery.py``) opens a plain TCP connection to each configured port (like
``nmap -sT``) in a rolling window under the scan's global and per-target limits and budget,
with timeouts learnt from each address's round trips; silent ports are reported filtered.
Each open port is then fingerprinted by speaking just enough of the protocol its number
suggests (X.224 on 3389, SMB2 NEGOTIATE on 445, an A-ASSOCIATE-RQ on DICOM ports...) or, for a
port that talks first, by reading its greeting; an unknown silent port gets an HTTP request and
then a TLS handshake. Only what a protocol reply proves is reported: an open 3389 that does not
answer X.224 stays "unknown".

Every probe is safe: no login attempt, no write, no data read beyond what a server volunteers
to an anonymous client (a Redis PING, a FHIR CapabilityStatement, a MongoDB database count).
Every read has a deadline and a size cap, so garbage, slow-drip or huge replies cannot hang or
exhaust the scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

from carbet.engines.exposure.core import (
    BudgetExceeded,
    ScanContext,
    ServiceInfo,
    TargetResult,
    close_quietly,
)
from carbet.engines.exposure.ports import dbparsers as db
from carbet.engines.exposure.ports import medparsers as med
from carbet.engines.exposure.ports import parsers
from carbet.engines.exposure.ports.discovery import discover as discover
from carbet.engines.exposure.ports.discovery import discover_states
from carbet.engines.exposure.ports.framing import (
    _mongo_done,
    _netbios_done,
    _pdu_done,
    _redis_done,
    _tds_done,
    _tns_done,
    _tpkt_done,
)
from carbet.engines.exposure.ports.verdicts import is_http as is_http
from carbet.engines.exposure.ports.verdicts import observations_for
from carbet.engines.exposure.tls import starttls
from carbet.engines.exposure.web import appliances

# Ports whose protocol speaks only when spoken to, and the probe that suits them.
CLIENT_FIRST: dict[int, str] = {
    80: "http",
    8000: "http",
    8008: "http",
    8080: "http",
    8081: "http",
    8888: "http",
    9200: "http",
    443: "https",
    4443: "https",
    8443: "https",
    9443: "https",
    10443: "https",
    3389: "rdp",
    445: "smb",
    104: "dicom",
    11112: "dicom",
    4242: "dicom",
    2575: "hl7",
    6379: "redis",
    27017: "mongodb",
    5432: "postgresql",
    1433: "mssql",
    1521: "oracle",
    389: "ldap",
    5222: "xmpp",
}
HTTP_READ_CAP = 64 * 1024
BANNER_READ_CAP = 16 * 1024
FHIR_PATHS = ("/metadata", "/fhir/metadata")
DICOM_CALLING_AE = med.DICOM_CALLING_AE
DICOM_CALLED_AE = med.DICOM_CALLED_AE


# --- low-level helpers --------------------------------------------------------------------------


async def read_until(
    reader: asyncio.StreamReader,
    done: Callable[[bytes], bool],
    limit: int,
    timeout: float,
) -> bytes:
    """Read until ``done(data)``, ``limit`` bytes, EOF or the deadline, whichever comes first.

    The deadline covers the whole read, so a peer dripping one byte a second cannot keep us.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    data = bytearray()
    while len(data) < limit and not done(bytes(data)):
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(limit - len(data)), remaining)
        except (TimeoutError, ConnectionError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return bytes(data)


async def send(writer: asyncio.StreamWriter, payload: bytes, timeout: float) -> bool:
    try:
        writer.write(payload)
        await asyncio.wait_for(writer.drain(), timeout)
    except (TimeoutError, ConnectionError, OSError, RuntimeError):
        return False
    return True


@contextlib.asynccontextmanager
async def connected(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    use_tls: bool = False,
    server_name: str | None = None,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """One connection under a slot (budget and concurrency), always closed on the way out."""
    async with ctx.slot(target):
        kwargs: dict[str, Any] = {}
        if use_tls:
            kwargs = {"ssl": ctx.insecure_ssl_context(), "server_hostname": server_name or None}
            kwargs["ssl_handshake_timeout"] = ctx.config.connect_timeout
        reader, writer = await ctx.open_connection(target, address, port, **kwargs)
        try:
            yield reader, writer
        finally:
            await close_quietly(writer)


def _head_complete(data: bytes) -> bool:
    return b"\r\n\r\n" in data or b"\n\n" in data


def _looks_like_tls(data: bytes) -> bool:
    return len(data) >= 3 and data[0] in (0x15, 0x16) and data[1] == 3


# --- discovery: a rolling window of connects with adaptive timeouts (ports/discovery.py) ---


# --- protocol probes (each opens its own connection) --------------------------------------------


class Prober:
    """Fingerprints one open port of one address for one target."""

    def __init__(
        self,
        ctx: ScanContext,
        target: str,
        address: str,
        port: int,
        server_name: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.target = target
        self.address = address
        self.port = port
        self.server_name = server_name
        self.notes: list[str] = []

    def connect(self, use_tls: bool = False) -> Any:
        return connected(self.ctx, self.target, self.address, self.port, use_tls, self.server_name)

    async def exchange(self, payload: bytes, done: Callable[[bytes], bool], limit: int) -> bytes:
        """Send ``payload`` on a fresh connection and read the reply."""
        async with self.connect() as (reader, writer):
            if not await send(writer, payload, self.config.read_timeout):
                return b""
            return await read_until(reader, done, limit, self.config.read_timeout)

    @property
    def greeting_wait(self) -> float:
        return min(self.config.read_timeout, 2.0)

    def host_header(self, use_tls: bool) -> str:
        host = self.server_name or (f"[{self.address}]" if ":" in self.address else self.address)
        default = 443 if use_tls else 80
        return host if self.port == default else f"{host}:{self.port}"

    # -- entry point --

    async def run(self) -> ServiceInfo:
        hint = dict(self.config.port_hints).get(self.port) or CLIENT_FIRST.get(self.port)
        info: dict[str, Any] | None = None
        try:
            if hint in ("http", "https"):
                order = ("http", "https") if hint == "http" else ("https", "http")
                for scheme in order:
                    info = await self.http(use_tls=scheme == "https")
                    if info:
                        break
            elif hint:
                info = await getattr(self, hint)()
            else:
                info = await self.greeting()
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            self.notes.append(f"{type(exc).__name__}: {exc}"[:200])
        service = ServiceInfo(port=self.port)
        if not info:
            if hint:
                service.extra["expected"] = hint
            reason = "; ".join(self.notes) or "aucune réponse reconnue"
            service.extra["unidentified"] = reason
            return service
        for name in ("service", "product", "version", "vendor", "cpe", "banner"):
            value = info.pop(name, None)
            if value:
                setattr(service, name, str(value))
        service.tls = bool(info.pop("tls", False))
        service.starttls = bool(info.pop("starttls", False))
        service.extra.update(info)
        return service

    # -- server-first protocols and unknown ports --

    async def greeting(self) -> dict[str, Any] | None:
        reply = b""
        async with self.connect() as (reader, writer):
            data = await read_until(
                reader, lambda d: b"\n" in d, BANNER_READ_CAP, self.greeting_wait
            )
            if data:
                return await self._banner(reader, writer, data)
            # Silent: maybe a client-first protocol on an unusual port; HTTP is the likeliest.
            request = parsers.http_request("/", self.host_header(False), self.config.user_agent)
            if await send(writer, request, self.config.read_timeout):
                reply = await read_until(
                    reader, _head_complete, HTTP_READ_CAP, self.config.read_timeout
                )
        # Follow-ups open their own connection once this one is closed: a probe never holds
        # two slots at once (with a small per-target limit, nesting would deadlock).
        response = parsers.parse_http_response(reply)
        if response:
            return await self._http_info(response, use_tls=False)
        if not reply or _looks_like_tls(reply):
            info = await self.http(use_tls=True)
            if info:
                return info
        self.notes.append("le service accepte la connexion mais ne répond pas")
        return None

    async def _banner(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
    ) -> dict[str, Any]:
        info = parsers.classify_banner(data, self.port)
        if info is None:
            note = f"bannière non reconnue : {parsers.printable(data, 80)}"
            return {"service": "unknown", "banner": parsers.printable(data), "unidentified": note}
        follow = {"smtp": self._smtp, "telnet": self._telnet, "vnc": self._vnc}.get(info["service"])
        if follow:
            await follow(reader, writer, data, info)
        elif info["service"] == "ftp":
            await send(writer, b"QUIT\r\n", 1.0)
        info.setdefault("banner", parsers.printable(data))
        return info

    async def _smtp(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        data: bytes,
        info: dict[str, Any],
    ) -> None:
        if not await send(writer, b"EHLO carbet-scan.invalid\r\n", self.config.read_timeout):
            return
        reply = await read_until(
            reader,
            lambda d: any(line[3:4] == b" " for line in d.split(b"\r\n") if len(line) > 3),
            BANNER_READ_CAP,
            self.config.read_timeout,
        )
        ehlo = parsers.parse_ehlo(reply)
        info["starttls"] = ehlo["starttls"]
        info["extensions"] = ehlo["extensions"][:30]
        await send(writer, b"QUIT\r\n", 1.0)

    async def _telnet(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        data: bytes,
        info: dict[str, Any],
    ) -> None:
        text, answer, _ = parsers.split_telnet(data)
        rounds = 0
        while answer and rounds < 4:
            rounds += 1
            await send(writer, answer, self.config.read_timeout)
            more = await read_until(reader, lambda d: b":" in d, BANNER_READ_CAP, 1.0)
            if not more:
                break
            extra_text, answer, _ = parsers.split_telnet(more)
            text += extra_text
        info["banner"] = parsers.printable(text)

    async def _vnc(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        data: bytes,
        info: dict[str, Any],
    ) -> None:
        client = {"3.3": b"RFB 003.003\n", "3.7": b"RFB 003.007\n"}.get(
            info["protocol"], b"RFB 003.008\n"
        )
        if not await send(writer, client, self.config.read_timeout):
            return
        reply = await read_until(reader, lambda d: len(d) >= 2, 4096, self.config.read_timeout)
        protocol = "3.3" if client == b"RFB 003.003\n" else info["protocol"]
        security = parsers.parse_rfb_security(reply, protocol)
        if security:
            info.update(security)

    # -- HTTP(S), Elasticsearch, FHIR --

    async def http(self, use_tls: bool) -> dict[str, Any] | None:
        request = parsers.http_request("/", self.host_header(use_tls), self.config.user_agent)
        try:
            async with self.connect(use_tls) as (reader, writer):
                if not await send(writer, request, self.config.read_timeout):
                    return None
                reply = await read_until(
                    reader, lambda d: False, HTTP_READ_CAP, self.config.read_timeout
                )
        except (ssl.SSLError, TimeoutError, OSError) as exc:  # OSError covers resets
            reason = str(exc) or type(exc).__name__
            self.notes.append(f"{'https' if use_tls else 'http'} : {reason}"[:200])
            return None
        response = parsers.parse_http_response(reply)
        if response is None:
            banner = parsers.classify_banner(reply, self.port)
            if banner:
                return banner
            if reply and not _looks_like_tls(reply):
                self.notes.append(f"réponse non HTTP : {parsers.printable(reply, 80)}")
            return None
        return await self._http_info(response, use_tls)

    async def _http_info(self, response: dict[str, Any], use_tls: bool) -> dict[str, Any]:
        info: dict[str, Any] = {
            "service": "https" if use_tls else "http",
            "tls": use_tls,
            "http": True,
            "status": response["status"],
            **parsers.http_product(response),
        }
        if not response["complete_head"]:
            info["warning"] = "en-têtes HTTP sans fin (délai ou taille dépassés)"
        if info.get("appliance"):
            await self._appliance_version(info, response, use_tls)
            return info
        if (
            not use_tls
            and response["status"] == 400
            and b"https" in (response["body"][:2048] + response["reason"].encode()).lower()
        ):
            tls_info = await self.http(use_tls=True)  # "plain HTTP request sent to HTTPS port"
            if tls_info:
                return tls_info
        search = parsers.parse_elasticsearch(response["body"])
        if search:
            info.update(search)
            return info
        fhir = await self.fhir(use_tls)
        if fhir:
            info["fhir"] = fhir
            info["service"] = "fhir"
        return info

    async def _appliance_version(
        self, info: dict[str, Any], first: dict[str, Any], use_tls: bool
    ) -> None:
        """A remote-access portal: read its version where the vendor's software exposes it."""
        portal = next((a for a in appliances.APPLIANCES if a.name == info.get("product")), None)
        if portal is None:
            return

        async def fetch(path: str) -> dict[str, Any] | None:
            return await self.get(path, use_tls)

        found, facts = await appliances.find_version(portal, first, fetch)
        info.update(facts)
        if found is None:
            return
        info.update(product=portal.product, version=found.version, version_source=found.source)
        if found.note:
            info["version_note"] = found.note
        if found.partial:
            info["version_partial"] = True

    async def get(self, path: str, use_tls: bool) -> dict[str, Any] | None:
        """One anonymous GET of ``path`` on this port; None when nothing HTTP came back."""
        request = parsers.http_request(path, self.host_header(use_tls), self.config.user_agent)
        try:
            async with self.connect(use_tls) as (reader, writer):
                if not await send(writer, request, self.config.read_timeout):
                    return None
                reply = await read_until(
                    reader, lambda d: False, HTTP_READ_CAP, self.config.read_timeout
                )
        except (ssl.SSLError, TimeoutError, OSError):
            return None
        return parsers.parse_http_response(reply)

    async def fhir(self, use_tls: bool) -> dict[str, Any] | None:
        for path in FHIR_PATHS:
            request = parsers.http_request(
                path, self.host_header(use_tls), self.config.user_agent, "application/fhir+json"
            )
            async with self.connect(use_tls) as (reader, writer):
                if not await send(writer, request, self.config.read_timeout):
                    continue
                reply = await read_until(
                    reader, lambda d: False, HTTP_READ_CAP, self.config.read_timeout
                )
            response = parsers.parse_http_response(reply)
            if response is None:
                continue
            if response["status"] == 200:
                capability = parsers.parse_fhir_capability(response["body"])
                if capability:
                    return {**capability, "path": path, "open": True}
        return None

    # -- binary protocols --

    async def rdp(self) -> dict[str, Any] | None:
        reply = await self.exchange(parsers.rdp_connection_request(), _tpkt_done, 4096)
        return parsers.parse_x224_confirm(reply) or parsers.classify_banner(reply, self.port)

    async def smb(self) -> dict[str, Any] | None:
        reply = await self.exchange(parsers.smb2_negotiate_request(), _netbios_done, 65536)
        info = parsers.parse_smb2_negotiate(reply)
        if info is None:
            return parsers.classify_banner(reply, self.port)
        smb1 = await self.exchange(parsers.smb1_negotiate_request(), _netbios_done, 65536)
        info["smb1"] = parsers.parse_smb1_negotiate(smb1)
        return info

    async def dicom(self) -> dict[str, Any] | None:
        request = med.dicom_associate_request(DICOM_CALLING_AE, DICOM_CALLED_AE)
        async with self.connect() as (reader, writer):
            if not await send(writer, request, self.config.read_timeout):
                return None
            reply = await read_until(reader, _pdu_done, 65536, self.config.read_timeout)
            info = med.parse_dicom_pdu(reply)
            if info and info["association"] == "accepted":
                # Release politely: the server's worker slot is freed at once.
                await send(writer, med.DICOM_RELEASE_REQUEST, 1.0)
                await read_until(reader, lambda d: len(d) >= 10, 64, 1.0)
        if info:
            info.update(calling_ae=DICOM_CALLING_AE, called_ae=DICOM_CALLED_AE)
        return info or parsers.classify_banner(reply, self.port)

    async def hl7(self) -> dict[str, Any] | None:
        reply = await self.exchange(med.hl7_probe_message(), lambda d: med.MLLP_END in d, 65536)
        return med.parse_mllp_reply(reply) or parsers.classify_banner(reply, self.port)

    async def redis(self) -> dict[str, Any] | None:
        reply = await self.exchange(db.REDIS_PROBE, _redis_done, 65536)
        return db.parse_redis_replies(reply) or parsers.classify_banner(reply, self.port)

    async def postgresql(self) -> dict[str, Any] | None:
        reply = await self.exchange(db.POSTGRES_SSL_REQUEST, lambda d: len(d) >= 1, 1)
        return db.parse_postgres_ssl_reply(reply)

    async def ldap(self) -> dict[str, Any] | None:  # the StartTLS request identifies LDAP
        reply = await self.exchange(
            starttls.ldap_starttls_request(), starttls.ldap_message_complete, 4096
        )
        return starttls.parse_ldap_service(reply)

    async def xmpp(self) -> dict[str, Any] | None:
        header = starttls.xmpp_stream_header(self.server_name or self.address)
        reply = await self.exchange(header, starttls.xmpp_features_complete, 16384)
        return starttls.parse_xmpp_features(reply)

    async def mssql(self) -> dict[str, Any] | None:
        reply = await self.exchange(db.tds_prelogin_request(), _tds_done, 4096)
        return db.parse_tds_prelogin(reply) or parsers.classify_banner(reply, self.port)

    async def oracle(self) -> dict[str, Any] | None:
        reply = await self.exchange(db.tns_connect_request(), _tns_done, 4096)
        return db.parse_tns_reply(reply)

    async def mongodb(self) -> dict[str, Any] | None:
        documents: list[dict[str, Any] | None] = []
        async with self.connect() as (reader, writer):
            for number, command in enumerate(
                (
                    {"hello": 1, "$db": "admin"},
                    {"buildInfo": 1, "$db": "admin"},
                    {"listDatabases": 1, "nameOnly": True, "$db": "admin"},
                ),
                start=1,
            ):
                if not await send(
                    writer, db.mongo_op_msg(command, number), self.config.read_timeout
                ):
                    break
                reply = await read_until(reader, _mongo_done, 1024 * 1024, self.config.read_timeout)
                documents.append(db.parse_mongo_reply(reply))
                if documents[0] is None:
                    return parsers.classify_banner(reply, self.port)
        documents += [None] * (3 - len(documents))
        return db.mongo_fingerprint(*documents)


async def fingerprint(
    ctx: ScanContext, target: str, address: str, port: int, server_name: str | None = None
) -> ServiceInfo:
    return await Prober(ctx, target, address, port, server_name).run()


# --- from services to observations ---------------------------------------------------------------


async def scan_address(
    ctx: ScanContext,
    result: TargetResult,
    address: str,
    server_name: str | None = None,
    on_service: Callable[[ServiceInfo], None] | None = None,
) -> list[ServiceInfo]:
    """Discover then fingerprint ``address`` for ``result.target``; fill ``result`` as it goes.

    Services and observations are appended the moment they are known, so a scan cut short by
    the target timeout or the budget keeps what it learnt.
    """
    target = result.target
    try:
        states = await discover_states(ctx, target, address, ctx.config.ports)
        opened = states.open
    except BudgetExceeded as exc:
        opened = exc.args[1] if len(exc.args) > 1 else []
        result.evidence.setdefault("open_ports", {})[address] = opened
        for port in opened:  # known open, never identified: still worth showing
            result.services.append(
                ServiceInfo(port, extra={"address": address, "unidentified": "budget"})
            )
        raise
    result.evidence.setdefault("open_ports", {})[address] = opened
    # Ports that never answered (a firewall dropping the SYN): not open, not closed either.
    result.evidence.setdefault("filtered_ports", {})[address] = states.filtered

    async def one(port: int) -> ServiceInfo:
        try:
            service = await fingerprint(ctx, target, address, port, server_name)
        except BudgetExceeded:
            raise
        except Exception as exc:  # a peer must never crash the scan, whatever it sends
            service = ServiceInfo(port, extra={"unidentified": f"{type(exc).__name__}: {exc}"})
        service.extra.setdefault("address", address)
        endpoint = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        result.services.append(service)
        result.observations.extend(observations_for(service))
        if "unidentified" in service.extra:
            result.errors.append(
                f"{endpoint} : port ouvert, service non identifié ({service.extra['unidentified']})"
            )
        if "warning" in service.extra:
            result.errors.append(f"{endpoint} : {service.extra['warning']}")
        if on_service:
            on_service(service)
        return service

    outcomes = await asyncio.gather(*(one(port) for port in opened), return_exceptions=True)
    services: list[ServiceInfo] = []
    budget_hit: BudgetExceeded | None = None
    for outcome in outcomes:
        if isinstance(outcome, BudgetExceeded):
            budget_hit = outcome
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            services.append(outcome)
    if budget_hit:
        raise budget_hit
    return sorted(services, key=lambda service: service.port)
