"""Issue 19 item 4: STARTTLS on IMAP, POP3, FTP, LDAP, PostgreSQL and XMPP, through the runner.

Real servers where one runs here: Debian's dovecot (IMAP, with and without TLS; its POP3 side
is not installed here) and the PostgreSQL of the test machine (127.0.0.1:5432, ``ssl = off``:
the real refusal). Crafted responders elsewhere (no POP3, slapd, FTP or XMPP server is
installed): each plays its protocol's plaintext opening, then hands the very socket to Python's
OpenSSL as a real TLS server, deliberately old (TLS 1.0 accepted) so the TLS checks have
something to find. Each proves that the whole TLS scan (protocols, suites, certificate chain
against the test CA, attack probes) ran behind the opening.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from carbet.engines.exposure import runner
from carbet.engines.exposure.core import ScanConfig, TargetResult
from carbet.engines.exposure.tls.starttls import LDAP_STARTTLS_OID, XMPP_TLS_NS

from .servers import Issued, LoopbackServers, make_ca, make_leaf

pytestmark = pytest.mark.realserver
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    TLS1 = ssl.TLSVersion.TLSv1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dovecot(root: Path, ca_leaf: Issued | None) -> tuple[subprocess.Popen[bytes], int]:
    """dovecot's IMAP on an ephemeral port; STARTTLS with ``ca_leaf``, or no TLS at all."""
    root.mkdir(parents=True)
    os.chmod(root, 0o755)
    imap = _free_port()
    if ca_leaf is not None:
        (root / "cert.pem").write_bytes(ca_leaf.cert_pem)
        (root / "key.pem").write_bytes(ca_leaf.key_pem)
        # Without DH parameters dovecot picks a DHE suite and then fails the handshake.
        dh = subprocess.run(
            ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
             "dh_param:ffdhe2048"], capture_output=True, check=True, timeout=30,
        ).stdout  # fmt: skip
        (root / "dh.pem").write_bytes(dh)
        tls = (
            f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"
            f"ssl_dh = <{root}/dh.pem\n"
        )
    else:
        tls = "ssl = no\n"
    users = ""
    if os.geteuid() != 0:
        import pwd

        name = pwd.getpwuid(os.getuid()).pw_name
        users = f"default_internal_user = {name}\ndefault_login_user = {name}\n"
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{tls}disable_plaintext_auth = no
mail_location = maildir:{root}/mail/%u
{users}passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", imap), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                message = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(message) from None
            time.sleep(0.1)
    return process, imap


async def _line(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readline(), 5)


async def _tls_then_wait(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, context: ssl.SSLContext
) -> None:
    """Hand the socket to OpenSSL (server side), then wait for the scanner to leave."""
    with contextlib.suppress(Exception):
        await writer.start_tls(context, ssl_handshake_timeout=5)
        await asyncio.wait_for(reader.read(1024), 2)


def ftp(context: ssl.SSLContext, accept: bool = True) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220-Carbet test FTP server\r\n220 Bienvenue\r\n")
        command = await _line(reader)
        if command.strip().upper() != b"AUTH TLS" or not accept:
            writer.write(b"502 Command not implemented\r\n")
            await writer.drain()
            await _line(reader)
            return
        writer.write(b"234 AUTH TLS successful\r\n")
        await writer.drain()
        await _tls_then_wait(reader, writer, context)

    return handle


def pop3(context: ssl.SSLContext, accept: bool = True) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK Carbet test POP3 ready.\r\n")
        command = await _line(reader)
        if command.strip().upper() != b"STLS" or not accept:
            writer.write(b"-ERR Unknown command.\r\n")
            await writer.drain()
            await _line(reader)
            return
        writer.write(b"+OK Begin TLS negotiation now.\r\n")
        await writer.drain()
        await _tls_then_wait(reader, writer, context)

    return handle


def ldap(context: ssl.SSLContext, result_code: int = 0) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await asyncio.wait_for(reader.read(4096), 5)
        if LDAP_STARTTLS_OID not in request:
            return
        # ExtendedResponse { resultCode, matchedDN "", diagnosticMessage "", responseName }
        body = b"\x0a\x01" + bytes([result_code]) + b"\x04\x00\x04\x00"
        body += b"\x8a" + bytes([len(LDAP_STARTTLS_OID)]) + LDAP_STARTTLS_OID
        operation = b"\x78" + bytes([len(body)]) + body
        message = b"\x02\x01\x01" + operation
        writer.write(b"\x30" + bytes([len(message)]) + message)
        await writer.drain()
        if result_code == 0:
            await _tls_then_wait(reader, writer, context)

    return handle


def postgres(context: ssl.SSLContext) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await asyncio.wait_for(reader.readexactly(8), 5)
        if request != b"\x00\x00\x00\x08\x04\xd2\x16\x2f":
            return
        writer.write(b"S")
        await writer.drain()
        await _tls_then_wait(reader, writer, context)

    return handle


def xmpp(context: ssl.SSLContext, offer: bool = True) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header = await asyncio.wait_for(reader.readuntil(b"version='1.0'>"), 5)
        if b"jabber:client" not in header:
            return
        features = f"<starttls xmlns='{XMPP_TLS_NS}'><required/></starttls>" if offer else ""
        writer.write(
            b"<?xml version='1.0'?><stream:stream from='im.example.test' id='c1' "
            b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            b"version='1.0'><stream:features>" + features.encode() + b"<mechanisms "
            b"xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
            b"</mechanisms></stream:features>"
        )
        await writer.drain()
        if not offer:
            await asyncio.wait_for(reader.read(1024), 2)
            return
        await asyncio.wait_for(reader.readuntil(b"/>"), 5)
        writer.write(f"<proceed xmlns='{XMPP_TLS_NS}'/>".encode())
        await writer.drain()
        await _tls_then_wait(reader, writer, context)

    return handle


CRAFTED = {  # name: (address, port hint)
    "ftp": ("127.23.0.10", ""),
    "ftp_refused": ("127.23.0.11", ""),
    "ldap": ("127.23.0.12", "ldap"),
    "ldap_refused": ("127.23.0.13", "ldap"),
    "postgres": ("127.23.0.14", "postgresql"),
    "xmpp": ("127.23.0.15", "xmpp"),
    "xmpp_plain": ("127.23.0.16", "xmpp"),
    "pop3": ("127.23.0.17", ""),
    "pop3_refused": ("127.23.0.18", ""),
}


@pytest.fixture(scope="module")
def scanned():
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed")
    loopback = LoopbackServers()
    ca = make_ca()
    ca_file = loopback.write("ca.pem", ca.cert_pem)
    root = Path(tempfile.mkdtemp(prefix="carbet-starttls-"))
    processes = []
    try:
        handlers: dict[str, Handler] = {}
        for name, (address, _hint) in CRAFTED.items():
            context = loopback.tls_context(
                make_leaf(ca, [address]), minimum=TLS1, ciphers="ECDHE+AESGCM:ECDHE+AES"
            )
            kind = name.split("_")[0]
            if kind == "ftp":
                handlers[name] = ftp(context, accept=name == "ftp")
            elif kind == "ldap":
                handlers[name] = ldap(context, 0 if name == "ldap" else 2)
            elif kind == "pop3":
                handlers[name] = pop3(context, accept=name == "pop3")
            elif kind == "postgres":
                handlers[name] = postgres(context)
            else:
                handlers[name] = xmpp(context, offer=name == "xmpp")
        ports = {}
        for name, handler in handlers.items():
            ports[name] = loopback.add(name, CRAFTED[name][0], handler).port
        tls_dovecot, imap = _dovecot(root / "tls", make_leaf(ca, ["127.0.0.1"]))
        processes.append(tls_dovecot)
        plain_dovecot, plain_imap = _dovecot(root / "plain", None)
        processes.append(plain_dovecot)
        # POP3 is server-first: its greeting identifies it, no hint.
        hints = tuple((ports[name], CRAFTED[name][1]) for name in CRAFTED if CRAFTED[name][1])
        config = ScanConfig(
            ports=(*ports.values(), imap, 5432),
            port_hints=hints, ca_file=ca_file, mail_dns=False, web_paths=False,
        )  # fmt: skip
        targets = [CRAFTED[name][0] for name in CRAFTED] + ["127.0.0.1"]
        results = runner.scan(targets, config)
        by_name = dict(zip(CRAFTED, results, strict=False))
        local = results[-1]
        plain_config = ScanConfig(
            ports=(plain_imap,), ca_file=ca_file, mail_dns=False, web_paths=False
        )
        [plain] = runner.scan(["127.0.0.1"], plain_config)
        yield {
            "crafted": by_name, "ports": ports, "local": local, "imap": imap,
            "plain": plain, "plain_imap": plain_imap,
        }  # fmt: skip
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        loopback.close()
        shutil.rmtree(root, ignore_errors=True)


def _tls(result: TargetResult, port: int) -> dict:
    return result.evidence["tls"][str(port)]


def _checks(result: TargetResult, port: int) -> set[str]:
    return {o.check for o in result.observations if o.port == port}


@pytest.mark.parametrize("name", ["ftp", "pop3", "ldap", "postgres", "xmpp"])
def test_the_whole_tls_scan_runs_behind_each_crafted_opening(scanned, name):
    result = scanned["crafted"][name]
    port = scanned["ports"][name]
    evidence = _tls(result, port)
    assert evidence["starttls"]["offered"] is True, result.errors
    protocols = evidence["protocols"]
    assert protocols["tls10"] and protocols["tls12"] and not protocols["ssl3"]
    assert evidence["certificate"]["trusted"] is True  # chain verified by OpenSSL, after STARTTLS
    assert evidence["suites"]["tls12"]  # suites enumerated behind the opening
    assert {"tls.protocol.tls10", "tls.protocol.tls11"} <= _checks(result, port)
    assert "tls.cert.untrusted" not in _checks(result, port)
    assert "attacks" in evidence  # the attack probes ran on the same path


def test_real_dovecot_imap_starttls_is_scanned(scanned):
    result, port = scanned["local"], scanned["imap"]
    evidence = _tls(result, port)
    assert evidence["starttls"]["offered"] is True, result.errors
    assert evidence["protocols"]["tls12"] is True and evidence["protocols"]["tls10"] is False
    assert evidence["certificate"]["trusted"] is True, evidence["certificate"]
    assert "tls.starttls.missing" not in _checks(result, port)
    assert {service.port: service.service for service in result.services}[port] == "imap"


def test_real_dovecot_without_tls_is_reported(scanned):
    result, port = scanned["plain"], scanned["plain_imap"]
    assert "tls.starttls.missing" in _checks(result, port), result.observations
    assert _tls(result, port)["starttls"]["offered"] is False
    assert "protocols" not in _tls(result, port)


def test_real_postgresql_without_ssl_is_reported(scanned):
    result = scanned["local"]
    services = {service.port: service.service for service in result.services}
    if services.get(5432) != "postgresql":
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    evidence = _tls(result, 5432)
    if evidence["starttls"].get("offered"):
        pytest.skip("this PostgreSQL has ssl = on: the refusal cannot be shown on it")
    assert "tls.starttls.missing" in _checks(result, 5432)


@pytest.mark.parametrize("name", ["pop3_refused", "ldap_refused", "xmpp_plain"])
def test_a_refused_starttls_is_a_finding(scanned, name):
    result = scanned["crafted"][name]
    port = scanned["ports"][name]
    assert "tls.starttls.missing" in _checks(result, port), result.observations
    assert _tls(result, port)["starttls"]["offered"] is False


def test_ftp_without_auth_tls_is_left_to_the_ftp_check(scanned):
    result = scanned["crafted"]["ftp_refused"]
    port = scanned["ports"]["ftp_refused"]
    assert _tls(result, port)["starttls"]["offered"] is False
    assert "tls.starttls.missing" not in _checks(result, port)
    assert "port.ftp" in _checks(result, port)
