"""The demo lab's services: small asyncio servers that answer the exposure engine's
identification probes the way the real software would (and nothing more).

Each handler speaks just enough of its protocol for the scan to identify the service and see
the weakness the demo tells about: a web site without security headers, a TLS server that still
accepts TLS 1.0 or shows an expired certificate, a mail server without STARTTLS, a Windows remote
desktop (RDP X.224 connection confirm), a PACS answering a DICOM association, a Windows file
share (SMB2 negotiate), an FTP greeting. They hold no data and accept no login.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
READ_TIMEOUT = 5.0


async def _exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(size), READ_TIMEOUT)


# --- Web ----------------------------------------------------------------------------------------

SOUND_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@dataclass
class Site:
    """What a lab web server answers: its headers and, if any, a page it should not show."""

    title: str
    sound: bool
    admin_page: bool = False
    redirect_to_https: str = ""  # plain HTTP sends people to this https:// address
    server: str = "nginx/1.18.0"
    extra: dict[str, str] = field(default_factory=dict)


def _page(title: str, text: str) -> bytes:
    return (
        f"<!doctype html><html lang=fr><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{text}</p></body></html>"
    ).encode()


def http(site: Site) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            chunk = await asyncio.wait_for(reader.read(4096), READ_TIMEOUT)
            if not chunk:
                return
            head += chunk
        parts = head.split(b" ", 2)
        path = parts[1].decode("latin-1") if len(parts) > 2 else "/"
        headers = {"Content-Type": "text/html; charset=utf-8", **site.extra}
        if site.sound:
            headers.update(SOUND_HEADERS)
            headers["Server"] = "nginx"
        else:
            headers["Server"] = site.server  # the version shown is a weakness of its own
        if site.redirect_to_https:
            status, body = "301 Moved Permanently", b""
            headers["Location"] = site.redirect_to_https + path
        elif path == "/":
            status, body = "200 OK", _page(site.title, "Site de démonstration Carbet.")
        elif site.admin_page and path.rstrip("/") in ("/admin", "/administrator", "/wp-admin"):
            status = "200 OK"
            body = _page("Administration", "<form method=post>Identifiant, mot de passe</form>")
        else:
            status, body = "404 Not Found", _page("Introuvable", "Page inconnue.")
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    return handler


# --- TLS ----------------------------------------------------------------------------------------


def certificate(
    directory: Path, label: str, names: list[str], *, not_after: dt.datetime
) -> tuple[Path, Path]:
    """A self-signed certificate for ``names`` (no authority: the lab has none to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Carbet - laboratoire de demonstration"),
        ]
    )
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(not_after, dt.datetime.now(dt.UTC)) - dt.timedelta(days=365))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / f"{label}.pem"
    key_file = directory / f"{label}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def tls_context(cert_file: Path, key_file: Path, *, old_protocols: bool) -> ssl.SSLContext:
    """A server context; ``old_protocols`` also accepts TLS 1.0 and 1.1, as an old appliance
    would (OpenSSL only offers them at security level 0)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    if old_protocols:
        with contextlib.suppress(ValueError, ssl.SSLError):
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


# --- Mail, remote access, files, imaging --------------------------------------------------------


def smtp(hostname: str, starttls: bool) -> Handler:
    """An SMTP server that says hello and lists its extensions; without STARTTLS, mail to it
    travels in clear."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"220 {hostname} ESMTP Postfix (Debian/GNU)\r\n".encode())
        await writer.drain()
        for _command in range(8):
            line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
            verb = line[:4].upper()
            if not line or verb == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                break
            if verb in (b"EHLO", b"HELO"):
                lines = [f"250-{hostname}".encode(), b"250-PIPELINING", b"250-SIZE 10240000"]
                if starttls:
                    lines.append(b"250-STARTTLS")
                lines.append(b"250 8BITMIME")
                writer.write(b"\r\n".join(lines) + b"\r\n")
            else:
                writer.write(b"502 5.5.2 Error: command not recognized\r\n")
            await writer.drain()

    return handler


async def rdp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Windows remote desktop: an X.224 connection confirm choosing TLS (protocol 1)."""
    header = await _exactly(reader, 4)
    await _exactly(reader, max(int.from_bytes(header[2:4], "big") - 4, 0))
    negotiation = struct.pack("<BBHI", 0x02, 0x00, 8, 1)
    x224 = bytes((6 + len(negotiation), 0xD0, 0, 0, 0x12, 0x34, 0)) + negotiation
    writer.write(struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224)
    await writer.drain()


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


async def dicom(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A PACS that accepts an association from anyone (A-ASSOCIATE-AC), then releases."""
    header = await _exactly(reader, 6)
    request = await _exactly(reader, int.from_bytes(header[2:6], "big"))
    if header[0] != 0x01:
        return
    user = _item(
        0x50,
        _item(0x51, struct.pack(">I", 16384))
        + _item(0x52, b"1.2.276.0.7230010.3.0.3.6.4")
        + _item(0x55, b"OFFIS_DCMTK_364"),
    )
    context = _item(0x21, b"\x01\x00\x00\x00" + _item(0x40, b"1.2.840.10008.1.2"))
    body = request[:68] + _item(0x10, b"1.2.840.10008.3.1.1.1") + context + user
    writer.write(struct.pack(">BBI", 0x02, 0, len(body)) + body)
    await writer.drain()
    with contextlib.suppress(asyncio.IncompleteReadError, TimeoutError):
        release = await _exactly(reader, 10)
        if release[0] == 0x05:
            writer.write(struct.pack(">BBI", 0x06, 0, 4) + bytes(4))
            await writer.drain()


async def smb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A Windows file share answering SMB2 negotiate, signing not required."""
    header = await _exactly(reader, 4)
    message = await _exactly(reader, int.from_bytes(header[1:4], "big"))
    if message.startswith(b"\xffSMB"):
        return  # SMBv1 disabled: dropped, as Windows does
    smb_header = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, b"")
    body = struct.pack(
        "<HHHH16sIIII", 65, 1, 0x0302, 0, b"DEMOLABGUID01234", 0x7F, 65536, 65536, 65536
    ) + bytes(24)
    reply = smb_header + body
    writer.write(b"\x00" + len(reply).to_bytes(3, "big") + reply)
    await writer.drain()


def greeting(text: bytes) -> Handler:
    """Server-first protocols (FTP): a banner, then the line the client sends is ignored."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(text)
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(1024), READ_TIMEOUT)

    return handler
