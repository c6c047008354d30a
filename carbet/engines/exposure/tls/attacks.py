"""TLS attack probes in the manner of SSLyze and testssl.sh: Heartbleed, downgrade protection
(TLS_FALLBACK_SCSV) and Extended Master Secret. Each is one or two crafted messages on its own
connection, never a finished handshake, never a byte of the server's memory kept.

* **Heartbleed** (CVE-2014-0160): a ClientHello offering the heartbeat extension, then, once
  the server's first flight is in (ServerHelloDone), a heartbeat request that claims 16 KiB of
  payload and carries none. A patched or heartbeat-less server answers with an alert or closes;
  a vulnerable one answers a heartbeat record (content type 24). Only the record's type and
  length are looked at: what it leaked is discarded unread.
* **TLS_FALLBACK_SCSV** (RFC 7507): a ClientHello one version below the best the server
  accepts, with the SCSV suite. A server that knows the signal answers inappropriate_fallback
  (alert 86); one that negotiates lets an attacker force clients down. Asked only of servers
  accepting at least two versions.
* **Extended Master Secret** (RFC 7627): offered in a TLS ≤ 1.2 ClientHello; a server that
  supports it echoes the extension in its ServerHello.
* **Server cipher order** (evidence only): the accepted suites offered in reverse order.
* **CCS injection** (CVE-2014-0224): once the server's first flight is in, two
  ChangeCipherSpec records, sent early (before any key exchange), in one write. A patched stack
  refuses the first with unexpected_message (alert 10); a vulnerable one switches its read state
  to keys derived from an empty master secret, so the second record fails its check
  (bad_record_mac 20 or decryption_failed 21). Only alerts are read: no waiting on silence,
  anything else is "could not tell".
* **Client-initiated renegotiation**: see ``renegotiation`` (a finished TLS 1.2 handshake).
* **0-RTT**: see ``early_data`` (a finished TLS 1.3 handshake, the tickets read).
* **ROBOT**: see ``robot`` (five RSA key exchanges, judged on the kind of answer only).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Coroutine
from typing import Any

from carbet.engines.exposure.core import BudgetExceeded, TargetResult
from carbet.engines.exposure.tls import early_data, renegotiation, robot
from carbet.engines.exposure.tls.checks import (
    TLS_CCS_INJECTION,
    TLS_EMS_MISSING,
    TLS_FALLBACK_SCSV_MISSING,
    TLS_HEARTBLEED,
)
from carbet.engines.exposure.tls.hello import (
    HS_SERVER_HELLO_DONE,
    RecordReader,
    TLSParseError,
    build_client_hello,
    extension,
)
from carbet.engines.exposure.tls.suites import DEFAULT_GROUPS, PROTOCOL_NAMES, TLS12, TLS13

EXT_HEARTBEAT = 0x000F
EXT_EXTENDED_MASTER_SECRET = 0x0017
CONTENT_HEARTBEAT = 24
FALLBACK_SCSV = 0x5600
ALERT_INAPPROPRIATE_FALLBACK = 86
HEARTBEAT_CLAIMED = 0x4000  # the payload length the request claims (and does not carry)
CONTENT_CCS = 20
ALERT_UNEXPECTED_MESSAGE = 10
ALERT_BAD_RECORD_MAC = 20
ALERT_DECRYPTION_FAILED = 21


def heartbeat_request(version: int) -> bytes:
    """A heartbeat request record whose payload_length lies (RFC 6520 §4: 1 type, 2 length)."""
    message = struct.pack("!BH", 1, HEARTBEAT_CLAIMED)
    return struct.pack("!BHH", CONTENT_HEARTBEAT, version, len(message)) + message


def heartbeat_answered(data: bytes) -> bool:
    """Do ``data`` (what came back after the request) start with a heartbeat record?"""
    return len(data) >= 5 and data[0] == CONTENT_HEARTBEAT and data[1] == 3


async def _heartbleed(scan: Any, version: int, suites: list[int]) -> bool | None:
    """True: vulnerable; False: not; None: the probe could not tell (no flight, an error)."""
    ctx = scan.ctx
    hello = build_client_hello(
        version, suites, scan.server_name, groups=DEFAULT_GROUPS,
        extra_extensions=extension(EXT_HEARTBEAT, b"\x01"),
    )  # fmt: skip
    scan.probes += 1
    try:
        async with ctx.slot(scan.target):
            reader, writer = await scan.connect()
            try:
                writer.write(hello)
                await asyncio.wait_for(writer.drain(), ctx.config.read_timeout)
                records = RecordReader(max_bytes=ctx.config.max_read_bytes)
                while records.find(HS_SERVER_HELLO_DONE) is None:
                    chunk = await asyncio.wait_for(reader.read(16384), ctx.config.read_timeout)
                    if not chunk:
                        return None
                    records.feed(chunk)
                    if records.alerts:
                        return None
                writer.write(heartbeat_request(version))
                await asyncio.wait_for(writer.drain(), ctx.config.read_timeout)
                try:
                    answer = await asyncio.wait_for(reader.read(16), ctx.config.read_timeout)
                except TimeoutError:
                    return False  # silence: the request was ignored
                return heartbeat_answered(answer)
            finally:
                writer.transport.abort()
    except BudgetExceeded:
        raise
    except (TLSParseError, TimeoutError, OSError, ConnectionError):
        return None


def early_ccs(version: int) -> bytes:
    """Two ChangeCipherSpec records (RFC 5246 §7.1: one byte, 1), as the CCS probe sends them."""
    return struct.pack("!BHHB", CONTENT_CCS, version, 1, 1) * 2


def ccs_verdict(data: bytes) -> bool | None:
    """After the early CCS records: True vulnerable (the second failed its MAC), False (the
    first refused), None (no alert, garbage, anything else)."""
    records = RecordReader(max_bytes=64 * 1024)
    try:
        records.feed(data)
    except TLSParseError:
        return None
    if not records.alerts:
        return None
    description = records.alerts[0].description
    if description in (ALERT_BAD_RECORD_MAC, ALERT_DECRYPTION_FAILED):
        return True
    return False if description == ALERT_UNEXPECTED_MESSAGE else None


async def _read_until_alert(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """What the server sends until it alerts or closes (a reset ends the reading, keeping what
    came before it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    data = b""
    while len(data) < 64 * 1024:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), max(0.0, deadline - loop.time()))
        except (TimeoutError, ConnectionError, OSError):
            break
        if not chunk:
            break
        data += chunk
        if any(data[i] == 21 for i in _record_starts(data)):
            break
    return data


def _record_starts(data: bytes) -> list[int]:
    starts, offset = [], 0
    while offset + 5 <= len(data):
        starts.append(offset)
        offset += 5 + struct.unpack("!H", data[offset + 3 : offset + 5])[0]
    return starts


async def _ccs_injection(scan: Any, version: int, suites: list[int]) -> bool | None:
    """True: vulnerable; False: the early CCS is refused; None: the probe could not tell."""
    ctx = scan.ctx
    hello = build_client_hello(version, suites, scan.server_name, groups=DEFAULT_GROUPS)
    scan.probes += 1
    try:
        async with ctx.slot(scan.target):
            reader, writer = await scan.connect()
            try:
                writer.write(hello)
                await asyncio.wait_for(writer.drain(), ctx.config.read_timeout)
                records = RecordReader(max_bytes=ctx.config.max_read_bytes)
                while records.find(HS_SERVER_HELLO_DONE) is None:
                    chunk = await asyncio.wait_for(reader.read(16384), ctx.config.read_timeout)
                    if not chunk:
                        return None
                    records.feed(chunk)
                    if records.alerts:
                        return None
                writer.write(early_ccs(version))
                await asyncio.wait_for(writer.drain(), ctx.config.read_timeout)
                return ccs_verdict(await _read_until_alert(reader, ctx.config.read_timeout))
            finally:
                writer.transport.abort()
    except BudgetExceeded:
        raise
    except (TLSParseError, TimeoutError, OSError, ConnectionError):
        return None


async def _first_hello(scan: Any, wire: bytes) -> tuple[Any, int | None]:
    """(ServerHello or None, first alert description or None) for one crafted ClientHello."""
    result = await scan.probe(wire, want_flight=False)
    return result.hello, result.alert


async def run(
    scan: Any, result: TargetResult, evidence: dict[str, Any], accepted: dict[int, list[int]]
) -> None:
    """Run the attack probes a port's accepted versions make meaningful; record evidence."""
    legacy = sorted(version for version in accepted if version < TLS13)
    port = scan.port
    attacks: dict[str, Any] = {}
    later: list[Coroutine[Any, Any, None]] = []  # the independent probes, run together
    if legacy:
        best = legacy[-1]
        try:
            vulnerable, ems = await asyncio.gather(
                _heartbleed(scan, best, accepted[best]),
                _first_hello(
                    scan,
                    build_client_hello(
                        best, accepted[best], scan.server_name, groups=DEFAULT_GROUPS,
                        extra_extensions=extension(EXT_EXTENDED_MASTER_SECRET, b""),
                    ),
                ),
            )  # fmt: skip
        except BudgetExceeded:
            return
        attacks["heartbleed"] = vulnerable
        if vulnerable:
            result.observations.append(
                TLS_HEARTBLEED.observe(port, "réponse « heartbeat » à une requête malformée",
                                       {"protocol": PROTOCOL_NAMES[best]})
            )  # fmt: skip
        server_hello = ems[0]
        if server_hello is not None and server_hello.negotiated_version == best:
            supported = EXT_EXTENDED_MASTER_SECRET in server_hello.extensions
            attacks["extended_master_secret"] = supported
            if not supported:
                result.observations.append(
                    TLS_EMS_MISSING.observe(port, f"extension absente en {PROTOCOL_NAMES[best]}")
                )
        order = await _server_order(scan, best, accepted[best])
        if order is not None:
            attacks["server_cipher_order"] = order
        later.append(_ccs(scan, result, attacks, best, accepted[best]))
    if TLS12 in accepted:
        later.append(renegotiation.run(scan, result, evidence, attacks, accepted[TLS12]))
    later.append(robot.run(scan, result, evidence, {v: accepted[v] for v in legacy}))
    if TLS13 in accepted:
        later.append(early_data.run(scan, result, attacks))
    await asyncio.gather(*later)  # each handles its own errors and a spent budget
    versions = sorted(accepted)
    if len(versions) >= 2:
        await _fallback(scan, result, attacks, accepted, versions)
    evidence["attacks"] = attacks


async def _ccs(
    scan: Any, result: TargetResult, attacks: dict[str, Any], version: int, suites: list[int]
) -> None:
    try:
        vulnerable = await _ccs_injection(scan, version, suites)
    except BudgetExceeded:
        return
    if vulnerable is None:
        return  # no alert either way: the probe says nothing (as for EMS without a hello)
    attacks["ccs_injection"] = vulnerable
    if vulnerable:
        result.observations.append(
            TLS_CCS_INJECTION.observe(
                scan.port, "ChangeCipherSpec prématuré accepté (bad_record_mac ensuite)",
                {"protocol": PROTOCOL_NAMES[version]},
            )
        )  # fmt: skip


async def _server_order(scan: Any, version: int, suites: list[int]) -> bool | None:
    """Does the server impose its own suite order? The accepted suites offered in reverse: a
    server that follows the client picks the (new) first. Evidence only, as SSLyze reports it."""
    if len(suites) < 2:
        return None
    reverse = list(reversed(suites))
    wire = build_client_hello(version, reverse, scan.server_name, groups=DEFAULT_GROUPS)
    try:
        hello, _alert = await _first_hello(scan, wire)
    except BudgetExceeded:
        return None
    if hello is None or hello.negotiated_version != version:
        return None
    if hello.cipher_suite == suites[0] and suites[0] != reverse[0]:
        return True
    return False if hello.cipher_suite == reverse[0] else None


async def _fallback(
    scan: Any,
    result: TargetResult,
    attacks: dict[str, Any],
    accepted: dict[int, list[int]],
    versions: list[int],
) -> None:
    lower = versions[-2]  # one below the best the server accepts
    wire = build_client_hello(
        lower, [*accepted[lower], FALLBACK_SCSV], scan.server_name, groups=DEFAULT_GROUPS
    )
    try:
        hello, alert = await _first_hello(scan, wire)
    except BudgetExceeded:
        return
    if hello is not None and hello.negotiated_version == lower:
        attacks["fallback_scsv"] = False
        result.observations.append(
            TLS_FALLBACK_SCSV_MISSING.observe(
                scan.port, f"repli accepté vers {PROTOCOL_NAMES[lower]} malgré le signal"
            )
        )
    elif alert == ALERT_INAPPROPRIATE_FALLBACK:
        attacks["fallback_scsv"] = True
