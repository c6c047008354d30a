"""Pure builders and parsers of the protocol bytes the service probes exchange.

Everything here takes bytes a peer sent (untrusted: garbage, truncated, huge) and returns a
small dict or ``None``; nothing raises on bad input, nothing does I/O. The async probes in
``services`` send what the builders make and hand the replies to the parsers.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

from carbet.engines.exposure.web import appliances

PRINTABLE = re.compile(rb"[^\x20-\x7e\t]")


def printable(data: bytes, limit: int = 300) -> str:
    """A banner as a short, printable, single-line text for evidence."""
    text = PRINTABLE.sub(b" ", data[: limit * 2]).decode("ascii", "replace")
    return " ".join(text.split())[:limit]


def cpe(vendor: str, product: str, version: str) -> str:
    if not (vendor and product and version):
        return ""
    safe = re.sub(r"[^A-Za-z0-9._\-~]", "_", version)
    return f"cpe:2.3:a:{vendor}:{product}:{safe}:*:*:*:*:*:*:*"


# --- server-first banners (SSH, SMTP, FTP, MySQL, VNC, telnet, POP/IMAP) -----------------------

SSH_PRODUCTS: tuple[tuple[re.Pattern[str], str, str, str], ...] = (
    (re.compile(r"OpenSSH_([0-9][\w.]*)"), "OpenSSH", "openbsd", "openssh"),
    (re.compile(r"dropbear_([0-9][\w.]*)"), "Dropbear SSH", "dropbear_ssh_project", "dropbear_ssh"),
    (re.compile(r"libssh[_-]([0-9][\w.]*)"), "libssh", "libssh", "libssh"),
    (re.compile(r"Cisco-([0-9][\w.]*)"), "Cisco SSH", "cisco", "ios"),
    (re.compile(r"mod_sftp/?([0-9][\w.]*)?"), "ProFTPD mod_sftp", "proftpd", "proftpd"),
)


def parse_ssh_banner(data: bytes) -> dict[str, Any] | None:
    """``SSH-protoversion-softwareversion [comments]`` (RFC 4253 §4.2)."""
    for raw in data.split(b"\n")[:20]:
        line = raw.rstrip(b"\r").decode("latin-1")
        if not line.startswith("SSH-"):
            continue
        parts = line.split("-", 2)
        if len(parts) < 3 or not re.fullmatch(r"\d+\.\d+", parts[1]):
            return None
        software = parts[2].split(" ", 1)[0]
        info: dict[str, Any] = {
            "service": "ssh",
            "protocol": parts[1],
            "software": software,
            "banner": printable(line.encode("latin-1")),
        }
        for pattern, product, vendor, cpe_product in SSH_PRODUCTS:
            match = pattern.search(software)
            if match:
                version = match.group(1) or ""
                info.update(product=product, version=version, vendor=vendor)
                info["cpe"] = cpe(vendor, cpe_product, version)
                break
        return info
    return None


SMTP_PRODUCTS: tuple[tuple[re.Pattern[str], str, str, str], ...] = (
    (re.compile(r"Postfix(?:[ /]([0-9][\w.]*))?", re.I), "Postfix", "postfix", "postfix"),
    (re.compile(r"Exim ([0-9][\w.]*)", re.I), "Exim", "exim", "exim"),
    (re.compile(r"Sendmail ([0-9][\w.]*)", re.I), "Sendmail", "sendmail", "sendmail"),
    (
        re.compile(r"Microsoft ESMTP MAIL Service(?:, Version: ([0-9][\w.]*))?", re.I),
        "Microsoft Exchange",
        "microsoft",
        "exchange_server",
    ),
    (re.compile(r"OpenSMTPD", re.I), "OpenSMTPD", "openbsd", "opensmtpd"),
    (re.compile(r"Zimbra", re.I), "Zimbra", "zimbra", "collaboration_suite"),
)

FTP_PRODUCTS: tuple[tuple[re.Pattern[str], str, str, str], ...] = (
    (re.compile(r"vsFTPd ([0-9][\w.]*)", re.I), "vsftpd", "beasts", "vsftpd"),
    (re.compile(r"ProFTPD ([0-9][\w.]*)", re.I), "ProFTPD", "proftpd", "proftpd"),
    (re.compile(r"Pure-FTPd", re.I), "Pure-FTPd", "pureftpd", "pure-ftpd"),
    (
        re.compile(r"FileZilla Server(?: version)? ([0-9][\w.]*)", re.I),
        "FileZilla Server",
        "filezilla-project",
        "filezilla_server",
    ),
    (re.compile(r"Microsoft FTP Service", re.I), "Microsoft IIS FTP", "microsoft", "iis"),
)


def _match_products(
    text: str, table: tuple[tuple[re.Pattern[str], str, str, str], ...]
) -> dict[str, str]:
    for pattern, product, vendor, cpe_product in table:
        match = pattern.search(text)
        if match:
            version = (match.group(1) or "") if match.groups() else ""
            return {
                "product": product,
                "version": version,
                "vendor": vendor,
                "cpe": cpe(vendor, cpe_product, version),
            }
    return {}


def parse_reply_lines(data: bytes) -> list[tuple[int, str]]:
    """SMTP/FTP reply lines ``NNN-text`` / ``NNN text`` as (code, text); junk lines skipped."""
    lines: list[tuple[int, str]] = []
    for raw in data.split(b"\n")[:200]:
        line = raw.rstrip(b"\r").decode("latin-1")
        if len(line) >= 3 and line[:3].isdigit() and (len(line) == 3 or line[3] in " -"):
            lines.append((int(line[:3]), line[4:]))
    return lines


def parse_smtp_greeting(data: bytes, port: int) -> dict[str, Any] | None:
    lines = parse_reply_lines(data)
    if not lines or lines[0][0] not in (220, 421, 554):
        return None
    text = " ".join(text for _, text in lines)
    looks_smtp = bool(re.search(r"E?SMTP|mail|Postfix|Exim|Sendmail", text, re.I))
    if not looks_smtp and port not in (25, 465, 587, 2525):
        return None
    return {"service": "smtp", "banner": printable(data), **_match_products(text, SMTP_PRODUCTS)}


def parse_ehlo(data: bytes) -> dict[str, Any]:
    """Extensions announced in a 250 EHLO reply."""
    extensions = [
        text.split(" ", 1)[0].upper()
        for code, text in parse_reply_lines(data)[1:]
        if code == 250 and text.strip()
    ]
    return {"extensions": extensions, "starttls": "STARTTLS" in extensions}


def parse_ftp_greeting(data: bytes, port: int) -> dict[str, Any] | None:
    lines = parse_reply_lines(data)
    if not lines or lines[0][0] not in (220, 421):
        return None
    text = " ".join(text for _, text in lines)
    products = _match_products(text, FTP_PRODUCTS)
    if not products and not re.search(r"FTP", text, re.I) and port not in (21, 990, 2121):
        return None
    return {"service": "ftp", "banner": printable(data), **products}


IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


def split_telnet(data: bytes) -> tuple[bytes, bytes, int]:
    """Split telnet bytes into (text, our refusals, number of IAC commands seen).

    We refuse every option (DO → WONT, WILL → DONT): enough to get a login prompt, and
    nothing is negotiated that could change how the peer behaves.
    """
    text = bytearray()
    answer = bytearray()
    commands = 0
    index = 0
    while index < len(data):
        byte = data[index]
        if byte != IAC:
            text.append(byte)
            index += 1
            continue
        if index + 1 >= len(data):
            break
        command = data[index + 1]
        if command == IAC:  # escaped 0xff data byte
            text.append(IAC)
            index += 2
            continue
        commands += 1
        if command in (DO, DONT, WILL, WONT):
            if index + 2 >= len(data):
                break
            option = data[index + 2]
            if command == DO:
                answer += bytes((IAC, WONT, option))
            elif command == WILL:
                answer += bytes((IAC, DONT, option))
            index += 3
        elif command == SB:
            end = data.find(bytes((IAC, SE)), index + 2)
            index = len(data) if end < 0 else end + 2
        else:
            index += 2
    return bytes(text), bytes(answer), commands


def parse_mysql_handshake(data: bytes) -> dict[str, Any] | None:
    """MySQL/MariaDB's first packet: a v10 handshake or an error packet (host not allowed)."""
    if len(data) < 5:
        return None
    length = int.from_bytes(data[:3], "little")
    payload = data[4 : 4 + length]
    if length < 2 or len(payload) < 2 or data[3] != 0:
        return None
    if payload[0] == 0xFF and len(payload) >= 3:
        message = payload[3:]
        if message[:1] == b"#":
            message = message[6:]
        return {"service": "mysql", "product": "MySQL", "error": printable(message)}
    if payload[0] != 10:
        return None
    end = payload.find(b"\x00", 1)
    if end < 2 or end > 80:
        return None
    version = payload[1:end].decode("latin-1")
    if not re.match(r"\d+\.\d+", version):
        return None
    maria = re.search(r"(\d+\.\d+\.\d+)-MariaDB", version)
    if maria:
        return {
            "service": "mysql",
            "product": "MariaDB",
            "version": maria.group(1),
            "vendor": "mariadb",
            "cpe": cpe("mariadb", "mariadb", maria.group(1)),
            "banner": version,
        }
    plain = re.match(r"\d+\.\d+(?:\.\d+)?", version)
    number = plain.group(0) if plain else ""
    return {
        "service": "mysql",
        "product": "MySQL",
        "version": number,
        "vendor": "oracle",
        "cpe": cpe("oracle", "mysql", number),
        "banner": version,
    }


def parse_rfb_version(data: bytes) -> dict[str, Any] | None:
    """``RFB xxx.yyy\\n`` (RFC 6143 §7.1.1)."""
    match = re.match(rb"RFB (\d{3})\.(\d{3})\n", data)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    product = "Apple Remote Desktop" if (major, minor) == (3, 889) else "VNC"
    return {"service": "vnc", "protocol": f"{major}.{minor}", "product": product}


RFB_SECURITY = {
    1: "none",
    2: "vnc-auth",
    5: "ra2",
    16: "tight",
    18: "tls",
    19: "vencrypt",
    30: "apple-ard",
    113: "mslogon-ii",
}


def parse_rfb_security(data: bytes, protocol: str) -> dict[str, Any] | None:
    """The security types a VNC server offers after the version exchange (RFC 6143 §7.1.2)."""
    if protocol == "3.3":  # the server picks one type and sends it as a u32
        if len(data) < 4:
            return None
        kind = int.from_bytes(data[:4], "big")
        if kind == 0:
            return {"security_types": [], "no_auth": False, "refused": printable(data[8:])}
        return {
            "security_types": [kind],
            "security_names": [RFB_SECURITY.get(kind, str(kind))],
            "no_auth": kind == 1,
        }
    if not data:
        return None
    count = data[0]
    if count == 0:
        return {"security_types": [], "no_auth": False, "refused": printable(data[5:])}
    types = list(data[1 : 1 + count])
    if len(types) < count:
        return None
    return {
        "security_types": types,
        "security_names": [RFB_SECURITY.get(kind, str(kind)) for kind in types],
        "no_auth": 1 in types,
    }


def classify_banner(data: bytes, port: int) -> dict[str, Any] | None:
    """Recognise what a server says first, whatever the port."""
    if not data:
        return None
    for parser in (parse_ssh_banner, parse_rfb_version, parse_mysql_handshake):
        info = parser(data)
        if info:
            return info
    if data[0] == IAC:
        text, _, commands = split_telnet(data)
        if commands:
            return {"service": "telnet", "banner": printable(text)}
    if data.startswith(b"220"):
        if port in (21, 990, 2121):
            return parse_ftp_greeting(data, port) or parse_smtp_greeting(data, port)
        return parse_smtp_greeting(data, port) or parse_ftp_greeting(data, port)
    if data.startswith(b"+OK"):
        return {"service": "pop3", "banner": printable(data)}
    if data.startswith(b"* OK"):
        return {"service": "imap", "banner": printable(data)}
    if port == 23 and re.search(rb"(login|username|password)\s*:", data, re.I):
        return {"service": "telnet", "banner": printable(data)}
    return None


# --- HTTP -------------------------------------------------------------------------------------


def http_request(path: str, host: str, user_agent: str, accept: str = "*/*") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
        f"Accept: {accept}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1", "replace")


def parse_http_response(data: bytes) -> dict[str, Any] | None:
    """Status line, headers (lower-cased names, repeated ones joined) and the body read so far."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    match = re.match(rb"HTTP/(\d(?:\.\d)?) (\d{3})(?: (.*))?$", lines[0].rstrip(b"\r"))
    if not match:
        return None
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for raw in lines[1:200]:
        name, colon, value = raw.rstrip(b"\r").partition(b":")
        if not colon or not name or not re.fullmatch(rb"[!-9;-~]+", name):
            continue
        key = name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        if key == "set-cookie":
            cookies.append(text)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return {
        "version": match.group(1).decode(),
        "status": int(match.group(2)),
        "reason": (match.group(3) or b"").decode("latin-1")[:100],
        "headers": headers,
        "cookies": cookies,
        "body": body,
        "complete_head": bool(separator),
    }


HTTP_PRODUCTS: tuple[tuple[re.Pattern[str], str, str, str], ...] = (
    (re.compile(r"nginx/([0-9][\w.]*)", re.I), "nginx", "f5", "nginx"),
    (re.compile(r"Apache/([0-9][\w.]*)", re.I), "Apache httpd", "apache", "http_server"),
    (re.compile(r"Microsoft-IIS/([0-9][\w.]*)", re.I), "Microsoft IIS", "microsoft", "iis"),
    (re.compile(r"lighttpd/([0-9][\w.]*)", re.I), "lighttpd", "lighttpd", "lighttpd"),
    (re.compile(r"Apache-Coyote/([0-9][\w.]*)", re.I), "Apache Tomcat", "apache", "tomcat"),
    (re.compile(r"Jetty\(([0-9][\w.]*)", re.I), "Jetty", "eclipse", "jetty"),
    (re.compile(r"openresty/([0-9][\w.]*)", re.I), "OpenResty", "openresty", "openresty"),
    (re.compile(r"Caddy", re.I), "Caddy", "caddyserver", "caddy"),
    (re.compile(r"(?:nginx|Apache|Microsoft-IIS)$", re.I), "", "", ""),
)


def http_product(response: dict[str, Any]) -> dict[str, str]:
    server = response["headers"].get("server", "")
    info: dict[str, str] = {"server": server[:200]} if server else {}
    for pattern, product, vendor, cpe_product in HTTP_PRODUCTS:
        match = pattern.search(server)
        if match:
            version = match.group(1) if match.groups() else ""
            name = product or server.split("/")[0]
            info.update(product=name, version=version, vendor=vendor)
            info["cpe"] = cpe(vendor, cpe_product, version)
            break
    else:
        if server:
            info["product"] = server.split(" ")[0].split("/")[0][:60]
    # Remote-access portals (VPN, OWA, RD Web): the version comes later, from their own paths.
    portal = appliances.identify(response)
    if portal is not None:
        info.update(product=portal.name, vendor=portal.vendor, version="", cpe="")
        info.update(appliance=portal.kind, appliance_family=portal.family)
    return info


def parse_json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


def parse_elasticsearch(body: bytes) -> dict[str, Any] | None:
    document = parse_json_body(body)
    if not isinstance(document, dict) or not isinstance(document.get("version"), dict):
        return None
    version = document["version"].get("number")
    flavour = document["version"].get("distribution") or "elasticsearch"
    if not isinstance(version, str) or not ("tagline" in document or "cluster_name" in document):
        return None
    product = "OpenSearch" if flavour == "opensearch" else "Elasticsearch"
    vendor = "amazon" if flavour == "opensearch" else "elastic"
    cluster = document.get("cluster_name")
    return {
        "service": "elasticsearch",
        "product": product,
        "version": version[:40],
        "vendor": vendor,
        "cpe": cpe(vendor, product.lower(), version[:40]),
        "cluster_name": str(cluster)[:100] if cluster else "",
    }


def parse_fhir_capability(body: bytes) -> dict[str, Any] | None:
    """A FHIR CapabilityStatement (R3+) or Conformance (DSTU2): software and declared security."""
    document = parse_json_body(body)
    if not isinstance(document, dict):
        return None
    if document.get("resourceType") not in ("CapabilityStatement", "Conformance"):
        return None
    raw_software, raw_rest = document.get("software"), document.get("rest")
    software: dict[str, Any] = raw_software if isinstance(raw_software, dict) else {}
    rest: list[Any] = raw_rest if isinstance(raw_rest, list) else []
    security: list[str] = []
    for entry in rest[:10]:
        block = entry.get("security") if isinstance(entry, dict) else None
        if not isinstance(block, dict):
            continue
        for service in block.get("service") or []:
            codings = service.get("coding") if isinstance(service, dict) else None
            for coding in codings or []:
                if isinstance(coding, dict) and coding.get("code"):
                    security.append(str(coding["code"])[:40])
        if block.get("extension") and not security:
            security.append("extension")
    return {
        "service": "fhir",
        "fhir_version": str(document.get("fhirVersion", ""))[:20],
        "product": str(software.get("name", "") or "FHIR server")[:80],
        "version": str(software.get("version", ""))[:40],
        "security": security,
    }


# --- RDP (X.224 over TPKT, MS-RDPBCGR §2.2.1.1/2.2.1.2) ---------------------------------------

RDP_PROTOCOLS = {0: "rdp", 1: "ssl", 2: "hybrid", 4: "rdstls", 8: "hybrid_ex"}
RDP_FAILURES = {
    1: "ssl_required",
    2: "ssl_not_allowed",
    3: "ssl_cert_not_on_server",
    4: "inconsistent_flags",
    5: "hybrid_required",
    6: "ssl_with_user_auth_required",
}


def rdp_connection_request(requested: int = 0x0B) -> bytes:
    """TPKT + X.224 Connection Request + RDP_NEG_REQ asking for TLS and CredSSP (NLA)."""
    negotiation = struct.pack("<BBHI", 0x01, 0x00, 8, requested)
    x224 = bytes((6 + len(negotiation), 0xE0, 0, 0, 0, 0, 0)) + negotiation
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


def parse_x224_confirm(data: bytes) -> dict[str, Any] | None:
    if len(data) < 11 or data[0] != 3 or data[1] != 0:
        return None
    length = int.from_bytes(data[2:4], "big")
    if length < 11 or length > len(data) or data[5] & 0xF0 != 0xD0:
        return None
    info: dict[str, Any] = {"service": "rdp", "product": "Remote Desktop Protocol"}
    negotiation = data[11:length]
    if len(negotiation) >= 8:
        kind, _flags, _size, value = struct.unpack("<BBHI", negotiation[:8])
        if kind == 0x02:
            info["selected_protocol"] = RDP_PROTOCOLS.get(value, str(value))
            info["nla"] = value in (2, 8)
        elif kind == 0x03:
            info["failure"] = RDP_FAILURES.get(value, str(value))
            info["nla"] = value in (5, 6)
    else:
        info["selected_protocol"] = "rdp"  # a pre-negotiation server: classic RDP security
        info["nla"] = False
    return info


# --- SMB (MS-SMB2 §2.2.3/2.2.4, MS-SMB §2.2.4.52 for SMB1) -----------------------------------

SMB2_DIALECTS = (0x0202, 0x0210, 0x0300, 0x0302)


def smb2_negotiate_request() -> bytes:
    header = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, b"")
    body = struct.pack("<HHHHI16sQ", 36, len(SMB2_DIALECTS), 1, 0, 0, b"CARBET-SCAN-0001", 0)
    body += b"".join(struct.pack("<H", dialect) for dialect in SMB2_DIALECTS)
    message = header + body
    return b"\x00" + len(message).to_bytes(3, "big") + message


def parse_smb2_negotiate(data: bytes) -> dict[str, Any] | None:
    if len(data) < 4 + 64 + 8 or data[4:8] != b"\xfeSMB":
        return None
    body = data[4 + 64 :]
    size, security_mode, dialect = struct.unpack("<HHH", body[:6])
    if size != 65:
        status = int.from_bytes(data[12:16], "little")
        return {"service": "smb", "product": "SMB", "status": f"0x{status:08x}"}
    guid = body[8:24].hex() if len(body) >= 24 else ""
    names = {
        0x0202: "2.0.2",
        0x0210: "2.1",
        0x0300: "3.0",
        0x0302: "3.0.2",
        0x0311: "3.1.1",
        0x02FF: "2.x",
    }
    return {
        "service": "smb",
        "product": "SMB",
        "dialect": names.get(dialect, f"0x{dialect:04x}"),
        "signing_required": bool(security_mode & 0x02),
        "server_guid": guid,
    }


def smb1_negotiate_request() -> bytes:
    dialects = b"\x02NT LM 0.12\x00"
    header = b"\xffSMB" + struct.pack(
        "<BIBH12sHHHHB", 0x72, 0, 0x18, 0xC853, b"", 0, 0xFFFE, 0, 0, 0
    )
    message = header + struct.pack("<H", len(dialects)) + dialects
    return b"\x00" + len(message).to_bytes(3, "big") + message


def parse_smb1_negotiate(data: bytes) -> bool:
    """True when the server accepted our SMB1-only dialect: SMBv1 is enabled.

    A server with SMBv1 disabled either drops the connection or answers with DialectIndex
    0xFFFF ("none of those"), as Samba does.
    """
    if len(data) < 4 + 32 + 3 or data[4:8] != b"\xffSMB" or data[8] != 0x72:
        return False
    if data[9:13] != bytes(4) or data[36] < 1:
        return False
    return int.from_bytes(data[37:39], "little") != 0xFFFF
