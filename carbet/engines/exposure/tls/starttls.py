"""STARTTLS: the plaintext exchange that turns a mail, directory, file or database connection
into a TLS one, so that every TLS check (protocols, suites, certificate, attack probes) runs on
IMAP, POP3, FTP, LDAP, PostgreSQL and XMPP as on HTTPS.

Each TLS probe opens its own connection: ``open_starttls`` connects through the connect policy,
plays the protocol's opening (RFC 3501 §6.2.1 IMAP STARTTLS, RFC 2595 §4 POP3 STLS, RFC 4217
§4 FTP AUTH TLS, RFC 4511 §4.14 LDAP StartTLS extended operation, PostgreSQL's SSLRequest,
RFC 6120 §5.4 XMPP <starttls/>) and hands back the stream, ready for the first TLS byte. The
server's replies are parsed by pure functions (property-tested): a refusal, or bytes that are
not the protocol's, raise ``StartTLSError`` (a ``ConnectionError``: a probe that meets one
says nothing about TLS).

Nothing is ever authenticated: no user name, no password, only the commands that precede it.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from carbet.engines.exposure.core import BudgetExceeded, ScanContext, ServiceInfo, TargetResult
from carbet.engines.exposure.tls.checks import TLS_STARTTLS_MISSING

MAX_PLAINTEXT = 16 * 1024  # never read more than this before TLS starts
LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
POSTGRES_SSL_REQUEST = struct.pack(">II", 8, 80877103)
XMPP_TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"

# Protocol names as ServiceInfo.service spells them; ports where an unnamed service is assumed
# to speak the protocol (the client-first ones, which say nothing on connect).
PROTOCOLS = ("imap", "pop3", "ftp", "ldap", "postgresql", "xmpp")
PROTOCOL_LABELS = {
    "imap": "IMAP",
    "pop3": "POP3",
    "ftp": "FTP",
    "ldap": "LDAP",
    "postgresql": "PostgreSQL",
    "xmpp": "XMPP",
}


class StartTLSError(ConnectionError):
    """The server refused STARTTLS or answered something else than its protocol."""

    def __init__(self, message: str, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused  # a clear refusal (not garbage, not a timeout)


def protocol_for(service: ServiceInfo) -> str | None:
    """The STARTTLS protocol an identified plaintext service speaks, else None."""
    if service.tls:
        return None
    return service.service if service.service in PROTOCOLS else None


# -- parsers of the server's plaintext replies (pure) -----------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if line.strip()]


def text_reply_complete(kind: str, data: bytes) -> bool:
    """Has a whole reply arrived (a final line, CRLF-terminated)?"""
    if not data.endswith(b"\n"):
        return False
    last = _lines(data)[-1] if _lines(data) else b""
    if kind == "ftp":  # "234-..." continues, "234 ..." ends (RFC 959 §4.2)
        return len(last) >= 4 and last[:3].isdigit() and last[3:4] == b" "
    if kind == "imap":  # untagged lines start with "*"; the tagged one ends the reply
        return not last.startswith(b"*") and not last.startswith(b"+")
    return True  # POP3: one line


def parse_greeting(kind: str, data: bytes) -> None:
    """Check a server greeting (IMAP "* OK", POP3 "+OK", FTP "220"); raise when it is not."""
    lines = _lines(data)
    first = lines[0].strip() if lines else b""
    if kind == "imap":
        if first.upper().startswith(b"* BYE"):
            raise StartTLSError("IMAP: le serveur refuse la connexion (BYE)", refused=True)
        ok = first.upper().startswith((b"* OK", b"* PREAUTH"))
    elif kind == "pop3":
        ok = first.startswith(b"+OK")
    else:
        ok = bool(lines) and lines[-1][:3] == b"220"
    if not ok:
        raise StartTLSError(f"{PROTOCOL_LABELS[kind]}: accueil inattendu")


def parse_starttls_reply(kind: str, data: bytes, tag: bytes = b"C1") -> None:
    """Did the server accept STARTTLS (IMAP "C1 OK", POP3 "+OK", FTP "234")? Raise if not."""
    lines = _lines(data)
    label = PROTOCOL_LABELS[kind]
    if not lines:
        raise StartTLSError(f"{label}: aucune réponse à STARTTLS")
    last = lines[-1].strip()
    if kind == "imap":
        parts = last.split(b" ", 2)
        if len(parts) < 2 or parts[0] != tag:
            raise StartTLSError(f"{label}: réponse inattendue à STARTTLS")
        accepted = parts[1].upper() == b"OK"
        refused = parts[1].upper() in (b"NO", b"BAD")
    elif kind == "pop3":
        accepted = last.startswith(b"+OK")
        refused = last.startswith(b"-ERR")
    else:
        code = last[:3]
        accepted = code == b"234"
        refused = code.isdigit() and code[:1] in (b"4", b"5")
    if not accepted:
        if refused:
            raise StartTLSError(f"{label}: STARTTLS refusé", refused=True)
        raise StartTLSError(f"{label}: réponse inattendue à STARTTLS")


def ldap_starttls_request(message_id: int = 1) -> bytes:
    """LDAPMessage { messageID, extendedReq [APPLICATION 23] { requestName [0] OID } }."""
    name = b"\x80" + bytes([len(LDAP_STARTTLS_OID)]) + LDAP_STARTTLS_OID
    operation = b"\x77" + bytes([len(name)]) + name
    identifier = b"\x02\x01" + bytes([message_id])
    body = identifier + operation
    return b"\x30" + bytes([len(body)]) + body


def _ber(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the BER element at ``offset``; raises ValueError."""
    if offset + 2 > len(data):
        raise ValueError("élément BER tronqué")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        size = first & 0x7F
        if size == 0 or size > 4 or offset + size > len(data):
            raise ValueError("longueur BER invalide")
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    end = offset + length
    if end > len(data):
        raise ValueError("élément BER tronqué")
    return tag, offset, end


def ldap_message_complete(data: bytes) -> bool:
    """Is a whole LDAPMessage (SEQUENCE) in ``data``? Garbage counts as complete (to stop)."""
    try:
        _ber(data, 0)
    except ValueError:
        return len(data) >= 6 and data[0] != 0x30
    return True


def parse_ldap_extended_response(data: bytes) -> int:
    """The resultCode of an LDAP ExtendedResponse (RFC 4511 §4.12); ValueError when ``data``
    is not one. 0 is success; anything else a refusal (2 protocolError from old servers)."""
    tag, start, end = _ber(data, 0)
    if tag != 0x30:
        raise ValueError("pas un message LDAP")
    tag, _id_start, offset = _ber(data[:end], start)
    if tag != 0x02:
        raise ValueError("identifiant de message absent")
    tag, start, op_end = _ber(data[:end], offset)
    if tag != 0x78:  # [APPLICATION 24] ExtendedResponse
        raise ValueError("pas une réponse d'opération étendue")
    tag, code_start, code_end = _ber(data[:op_end], start)
    if tag != 0x0A or not 1 <= code_end - code_start <= 4:
        raise ValueError("code de résultat absent")
    return int.from_bytes(data[code_start:code_end], "big")


def parse_ldap_service(data: bytes) -> dict[str, Any] | None:
    """Identification from the answer to the StartTLS request (ports/ uses it on port 389)."""
    try:
        code = parse_ldap_extended_response(data)
    except ValueError:
        return None
    return {"service": "ldap", "starttls": code == 0, "ldap_result": code}


def parse_postgres_answer(data: bytes) -> bool:
    """PostgreSQL's one-byte answer to SSLRequest: True "S", False "N"; else ValueError."""
    if data == b"S":
        return True
    if data == b"N":
        return False
    raise ValueError("réponse inattendue à SSLRequest")


def xmpp_stream_header(domain: str) -> bytes:
    domain = re.sub(r"[^A-Za-z0-9.:\-\[\]]", "", domain)[:253] or "localhost"
    return (
        f"<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    ).encode("ascii")


XMPP_STARTTLS = f"<starttls xmlns='{XMPP_TLS_NS}'/>".encode("ascii")
_XMPP_FEATURES_END = re.compile(rb"</stream:features\s*>|<stream:features[^>]*/>")
_XMPP_STARTTLS = re.compile(
    rb"<starttls\s[^>]*xmlns\s*=\s*['\"]" + XMPP_TLS_NS.encode() + rb"['\"]"
)
_XMPP_REQUIRED = re.compile(rb"<required\s*/>")
_XMPP_PROCEED = re.compile(rb"<proceed\s[^>]*xmlns\s*=\s*['\"]" + XMPP_TLS_NS.encode() + rb"['\"]")
_XMPP_FAILURE = re.compile(rb"<failure\s[^>]*xmlns\s*=\s*['\"]" + XMPP_TLS_NS.encode() + rb"['\"]")


def xmpp_features_complete(data: bytes) -> bool:
    return bool(_XMPP_FEATURES_END.search(data)) or b"</stream:stream>" in data


def parse_xmpp_features(data: bytes) -> dict[str, Any] | None:
    """From the server's stream header and <stream:features/>: is it XMPP, does it offer
    STARTTLS, does it require it? Read by patterns, never by an XML parser (no entity is ever
    expanded from a server's bytes). None when ``data`` is not an XMPP stream."""
    if b"<stream:stream" not in data or b"http://etherx.jabber.org/streams" not in data:
        return None
    if not xmpp_features_complete(data):
        return None
    offered = bool(_XMPP_STARTTLS.search(data))
    return {
        "service": "xmpp",
        "starttls": offered,
        "starttls_required": offered and bool(_XMPP_REQUIRED.search(data)),
    }


def parse_xmpp_proceed(data: bytes) -> None:
    if _XMPP_PROCEED.search(data):
        return
    if _XMPP_FAILURE.search(data):
        raise StartTLSError("XMPP: STARTTLS refusé", refused=True)
    raise StartTLSError("XMPP: réponse inattendue à STARTTLS")


def xmpp_proceed_complete(data: bytes) -> bool:
    return b"/>" in data or b"</" in data


# -- the dances ---------------------------------------------------------------------------------


_Reader = asyncio.StreamReader
_Writer = asyncio.StreamWriter


async def _read(reader: _Reader, done: Callable[[bytes], bool], timeout: float) -> bytes:
    """Read until ``done`` or EOF under one deadline, never more than MAX_PLAINTEXT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    data = b""
    while not done(data):
        if len(data) >= MAX_PLAINTEXT:
            raise StartTLSError("réponse en clair trop longue")
        chunk = await asyncio.wait_for(
            reader.read(MAX_PLAINTEXT - len(data)), deadline - loop.time()
        )
        if not chunk:
            break
        data += chunk
    return data


async def _send(writer: _Writer, payload: bytes, timeout: float) -> None:
    writer.write(payload)
    await asyncio.wait_for(writer.drain(), timeout)


async def _text(kind: str, reader: _Reader, writer: _Writer, timeout: float, _name: str) -> None:
    greeting_kind = "ftp" if kind == "ftp" else "pop3"  # IMAP and POP3 greet in one line
    greeting = await _read(reader, lambda d: text_reply_complete(greeting_kind, d), timeout)
    parse_greeting(kind, greeting)
    command = {"imap": b"C1 STARTTLS\r\n", "pop3": b"STLS\r\n", "ftp": b"AUTH TLS\r\n"}[kind]
    await _send(writer, command, timeout)
    reply = await _read(reader, lambda d: text_reply_complete(kind, d), timeout)
    parse_starttls_reply(kind, reply)


async def _ldap(reader: _Reader, writer: _Writer, timeout: float, _name: str) -> None:
    await _send(writer, ldap_starttls_request(), timeout)
    reply = await _read(reader, ldap_message_complete, timeout)
    try:
        code = parse_ldap_extended_response(reply)
    except ValueError as exc:
        raise StartTLSError(f"LDAP: {exc}") from None
    if code != 0:
        raise StartTLSError(f"LDAP: StartTLS refusé (code {code})", refused=True)


async def _postgresql(reader: _Reader, writer: _Writer, timeout: float, _name: str) -> None:
    await _send(writer, POSTGRES_SSL_REQUEST, timeout)
    answer = await asyncio.wait_for(reader.read(1), timeout)
    try:
        accepted = parse_postgres_answer(answer)
    except ValueError:
        raise StartTLSError("PostgreSQL: réponse inattendue à SSLRequest") from None
    if not accepted:
        raise StartTLSError("PostgreSQL: chiffrement refusé (ssl = off)", refused=True)


async def _xmpp(reader: _Reader, writer: _Writer, timeout: float, name: str) -> None:
    await _send(writer, xmpp_stream_header(name), timeout)
    features = parse_xmpp_features(await _read(reader, xmpp_features_complete, timeout))
    if features is None:
        raise StartTLSError("XMPP: flux inattendu")
    if not features["starttls"]:
        raise StartTLSError("XMPP: STARTTLS non proposé", refused=True)
    await _send(writer, XMPP_STARTTLS, timeout)
    parse_xmpp_proceed(await _read(reader, xmpp_proceed_complete, timeout))


_Dance = Callable[[_Reader, _Writer, float, str], Awaitable[None]]


def _dance(protocol: str) -> _Dance:
    if protocol in ("imap", "pop3", "ftp"):

        async def text(reader: _Reader, writer: _Writer, timeout: float, name: str) -> None:
            await _text(protocol, reader, writer, timeout, name)

        return text
    dances: dict[str, _Dance] = {"ldap": _ldap, "postgresql": _postgresql, "xmpp": _xmpp}
    return dances[protocol]


async def open_starttls(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    protocol: str,
    server_name: str | None,
    **kwargs: Any,
) -> tuple[_Reader, _Writer]:
    """Connect (through the policy), play ``protocol``'s opening; the stream, ready for TLS.
    The caller holds a slot. Raises StartTLSError, TimeoutError, OSError; closes on failure."""
    reader, writer = await ctx.open_connection(target, address, port, **kwargs)
    try:
        await _dance(protocol)(reader, writer, ctx.config.read_timeout, server_name or address)
    except BaseException:
        writer.transport.abort()
        raise
    return reader, writer


async def starttls_offered(scan: Any, result: TargetResult, evidence: dict[str, Any]) -> bool:
    """One opening before the TLS scan: does the server switch to TLS at all? A clear refusal
    is a finding (passwords in clear) — except FTP, whose clear text ``port.ftp`` already
    reports —; garbage or silence is an error of the scan, not a verdict."""
    protocol, port = scan.starttls, scan.port
    label = PROTOCOL_LABELS[protocol]
    evidence["starttls"] = {"protocol": protocol}
    scan.probes += 1
    try:
        async with scan.ctx.slot(scan.target):
            _reader, writer = await scan.connect()
            writer.transport.abort()
    except BudgetExceeded:
        result.complete = False
        result.errors.append(f"tls:{port}: budget de requêtes épuisé, STARTTLS non testé")
        return False
    except StartTLSError as exc:
        evidence["starttls"].update(offered=False, error=str(exc))
        if not exc.refused:
            result.errors.append(f"tls:{port}: STARTTLS {label} impossible ({exc})"[:300])
        elif protocol != "ftp":
            result.observations.append(
                TLS_STARTTLS_MISSING.observe(port, str(exc), {"protocol": label})
            )
        return False
    except (TimeoutError, OSError) as exc:
        reason = "délai dépassé" if isinstance(exc, TimeoutError) else type(exc).__name__
        evidence["starttls"].update(offered=None, error=reason)
        result.errors.append(f"tls:{port}: STARTTLS {label} impossible ({reason})")
        return False
    evidence["starttls"]["offered"] = True
    return True
