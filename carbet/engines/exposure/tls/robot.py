"""ROBOT (Return Of Bleichenbacher's Oracle Threat, CVE-2017-13099 and vendor CVEs): does the
server answer differently to RSA key exchanges whose PKCS#1 v1.5 padding is right or wrong?

Five ClientKeyExchange messages, each on its own connection after the server's first flight
(Böck, Somorovsky and Young's method): a well-formed premaster secret, then the same with wrong
leading bytes, a 0x00 in the wrong place, no 0x00 separator, and a wrong version inside; each
followed by ChangeCipherSpec and a Finished that cannot decrypt. A fixed server treats all five
alike (a random premaster on bad padding: the same bad_record_mac every time). An oracle shows
in the *kind* of answer: which alert, or a close without one. (Oracles that differ only by
timing, or by closing after the same alert, are not looked for.)

No timing is judged: an answer is an alert or a close. A probe that met silence (the read
timeout) or an error makes the whole verdict "could not tell", never "vulnerable".
"""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from carbet.engines.exposure.core import BudgetExceeded, TargetResult
from carbet.engines.exposure.tls.checks import TLS_ROBOT
from carbet.engines.exposure.tls.hello import (
    HS_SERVER_HELLO_DONE,
    RecordReader,
    TLSParseError,
    build_client_hello,
)
from carbet.engines.exposure.tls.suites import PROTOCOL_NAMES

RSA_SUITES = (0x002F, 0x0035, 0x003C, 0x003D, 0x009C, 0x009D, 0x000A)
_Accepted = dict[int, list[int]]
VARIANTS = ("correct", "wrong_first_bytes", "zero_in_padding", "no_separator", "wrong_version")


def premaster_variants(key_bytes: int, version: int) -> dict[str, bytes]:
    """The five encoded messages (before RSA) of the ROBOT method, each ``key_bytes`` long."""
    secret = struct.pack("!H", version) + os.urandom(46)
    padding_size = key_bytes - 3 - len(secret)
    padding = bytes(b % 255 + 1 for b in os.urandom(padding_size))  # no zero byte
    correct = b"\x00\x02" + padding + b"\x00" + secret
    zero_early = b"\x00\x02" + padding[:-10] + b"\x00" + padding[-9:] + b"\x00" + secret
    return {
        "correct": correct,
        "wrong_first_bytes": b"\x41\x17" + correct[2:],
        "zero_in_padding": zero_early[:key_bytes],
        "no_separator": b"\x00\x02" + padding + b"\x11" + secret,
        "wrong_version": b"\x00\x02" + padding + b"\x00\x02\x02" + secret[2:],
    }


def encrypt_raw(public: rsa.RSAPublicKey, message: bytes) -> bytes:
    """Textbook RSA of an already-padded message (the variants are the point)."""
    numbers = public.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    value = pow(int.from_bytes(message, "big"), numbers.e, numbers.n)
    return value.to_bytes(size, "big")


def answer_kind(data: bytes, closed: bool) -> str:
    """What the server did after our key exchange: "alert:<description>" or "closed"; "" when
    nothing readable came (silence or garbage: no verdict)."""
    if data:
        records = RecordReader(max_bytes=64 * 1024)
        try:
            records.feed(data)
        except TLSParseError:
            return ""
        if not records.alerts:
            return ""
        return f"alert:{records.alerts[0].description}"
    return "closed" if closed else ""


def robot_verdict(answers: dict[str, str]) -> bool | None:
    """True: the answers differ (an oracle); False: all alike; None: one could not be read."""
    if len(answers) != len(VARIANTS) or not all(answers.values()):
        return None
    return len(set(answers.values())) > 1


async def _read_answer(reader: asyncio.StreamReader, timeout: float) -> tuple[bytes, bool]:
    """(bytes until the first complete alert or the close, did the server close first?)."""
    data = b""
    while len(data) < 16384:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), timeout)
        except (ConnectionError, OSError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
        if data[:1] == b"\x15" and len(data) >= 7:
            return data, False
    return data, False


async def _one(
    scan: Any, version: int, suite: int, public: rsa.RSAPublicKey, message: bytes
) -> str:
    ctx = scan.ctx
    timeout = ctx.config.read_timeout
    hello = build_client_hello(version, [suite], scan.server_name)
    scan.probes += 1
    async with ctx.slot(scan.target):
        reader, writer = await scan.connect()
        try:
            writer.write(hello)
            await asyncio.wait_for(writer.drain(), timeout)
            records = RecordReader(max_bytes=ctx.config.max_read_bytes)
            while records.find(HS_SERVER_HELLO_DONE) is None:
                chunk = await asyncio.wait_for(reader.read(16384), timeout)
                if not chunk or records.alerts:
                    return ""
                records.feed(chunk)
            encrypted = encrypt_raw(public, message)
            body = struct.pack("!H", len(encrypted)) + encrypted
            key_exchange = b"\x10" + len(body).to_bytes(3, "big") + body
            flight = struct.pack("!BHH", 22, version, len(key_exchange)) + key_exchange
            flight += struct.pack("!BHHB", 20, version, 1, 1)
            flight += struct.pack("!BHH", 22, version, 64) + os.urandom(64)  # cannot decrypt
            writer.write(flight)
            await asyncio.wait_for(writer.drain(), timeout)
            data, closed = await _read_answer(reader, timeout)
            return answer_kind(data, closed)
        except TimeoutError:
            return ""  # silence is not judged
        finally:
            writer.transport.abort()


def _rsa_key(leaf: bytes) -> rsa.RSAPublicKey | None:
    try:
        key = x509.load_der_x509_certificate(leaf).public_key()
    except ValueError:
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


async def _server_key(scan: Any, version: int, suite: int) -> rsa.RSAPublicKey | None:
    result = await scan.probe(build_client_hello(version, [suite], scan.server_name), True)
    hello = result.hello
    if hello is None or hello.cipher_suite != suite or not result.certificates:
        return None
    return _rsa_key(result.certificates[0])


async def run(
    scan: Any, result: TargetResult, evidence: dict[str, Any], accepted: _Accepted
) -> None:
    """The ROBOT probe of a port accepting an RSA key exchange suite (``attacks.run``); the
    verdict and the five answers go to ``evidence["robot"]``."""
    chosen = [
        (v, s) for v in sorted(accepted, reverse=True) for s in accepted[v] if s in RSA_SUITES
    ]
    if not chosen:
        return
    version, suite = chosen[0]
    try:
        public = await _server_key(scan, version, suite)
        if public is None:
            return
        size = (public.public_numbers().n.bit_length() + 7) // 8
        messages = premaster_variants(size, version)
        kinds = await asyncio.gather(
            *(_one(scan, version, suite, public, messages[name]) for name in VARIANTS),
            return_exceptions=True,
        )
    except BudgetExceeded:
        return
    if any(isinstance(kind, BudgetExceeded) for kind in kinds):
        return
    answers = {
        name: kind if isinstance(kind, str) else ""
        for name, kind in zip(VARIANTS, kinds, strict=True)
    }
    verdict = robot_verdict(answers)
    evidence["robot"] = {"vulnerable": verdict, "answers": answers}
    if verdict:
        detail = f"réponses différentes selon le bourrage RSA ({PROTOCOL_NAMES[version]})"
        result.observations.append(TLS_ROBOT.observe(scan.port, detail, {"answers": answers}))
