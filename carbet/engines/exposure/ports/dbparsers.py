"""Pure builders and parsers of the database protocols the service probes speak.

Redis (RESP), PostgreSQL (SSLRequest), Microsoft SQL Server (TDS PRELOGIN), Oracle (TNS
CONNECT) and MongoDB (OP_MSG with a minimal BSON codec). Like ``services_parsers``: untrusted
bytes in, a small dict or ``None`` out, never an exception, no I/O.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

from carbet.engines.exposure.ports.parsers import cpe

REDIS_PROBE = b"PING\r\nINFO server\r\n"


def parse_redis_replies(data: bytes) -> dict[str, Any] | None:
    """Replies to PING then INFO server: +PONG (open), -NOAUTH (auth), -DENIED (protected)."""
    if not data or data[:1] not in (b"+", b"-", b"$"):
        return None
    first, _, rest = data.partition(b"\r\n")
    text = first.decode("latin-1")
    info: dict[str, Any] = {"service": "redis", "product": "Redis", "vendor": "redis"}
    if text == "+PONG":
        info["auth_required"] = False
    elif text.startswith(("-NOAUTH", "-ERR operation not permitted", "-WRONGPASS")):
        info["auth_required"] = True
    elif text.startswith("-DENIED"):
        info["auth_required"] = True
        info["protected_mode"] = True
    else:
        return None
    match = re.search(rb"redis_version:([0-9][\w.]*)", rest)
    if match:
        info["version"] = match.group(1).decode()[:40]
        info["cpe"] = cpe("redis", "redis", info["version"])
    return info


POSTGRES_SSL_REQUEST = struct.pack(">II", 8, 80877103)


def parse_postgres_ssl_reply(data: bytes) -> dict[str, Any] | None:
    if data not in (b"S", b"N"):
        return None
    return {
        "service": "postgresql",
        "product": "PostgreSQL",
        "vendor": "postgresql",
        "ssl": data == b"S",
    }


def tds_prelogin_request() -> bytes:
    """A TDS PRELOGIN (MS-TDS §2.2.6.5) with the VERSION and ENCRYPTION options."""
    options_length = 2 * 5 + 1
    payload = (
        struct.pack(">BHH", 0x00, options_length, 6)
        + struct.pack(">BHH", 0x01, options_length + 6, 1)
        + b"\xff"
        + bytes(6)
        + b"\x02"
    )
    return struct.pack(">BBHHBB", 0x12, 0x01, 8 + len(payload), 0, 0, 0) + payload


SQLSERVER_RELEASES = {
    8: "2000",
    9: "2005",
    10: "2008",
    11: "2012",
    12: "2014",
    13: "2016",
    14: "2017",
    15: "2019",
    16: "2022",
    17: "2025",
}


def parse_tds_prelogin(data: bytes) -> dict[str, Any] | None:
    if len(data) < 8 + 5 or data[0] != 0x04:
        return None
    payload = data[8 : int.from_bytes(data[2:4], "big")]
    offset = 0
    while offset + 5 <= len(payload) and payload[offset] != 0xFF:
        token, position, length = struct.unpack(">BHH", payload[offset : offset + 5])
        if token == 0x00 and length >= 6 and position + 6 <= len(payload):
            major, minor, build = struct.unpack(">BBH", payload[position : position + 4])
            version = f"{major}.{minor}.{build}"
            return {
                "service": "mssql",
                "product": "Microsoft SQL Server",
                "version": version,
                "vendor": "microsoft",
                "release": SQLSERVER_RELEASES.get(major, ""),
                "cpe": cpe("microsoft", "sql_server", version),
            }
        offset += 5
    return None


def tns_connect_request() -> bytes:
    """An Oracle TNS CONNECT asking the listener for its version (no login involved)."""
    data = b"(CONNECT_DATA=(COMMAND=version))"
    header = struct.pack(">HHBBH", 58 + len(data), 0, 1, 0, 0)
    body = struct.pack(
        ">HHHHHHHHHHIBB",
        0x013A,
        0x012C,
        0,
        0x0800,
        0x7FFF,
        0x7F08,
        0,
        0x0100,
        len(data),
        58,
        0,
        0x41,
        0x41,
    )
    return header + body + bytes(58 - len(header) - len(body)) + data


def parse_tns_reply(data: bytes) -> dict[str, Any] | None:
    if len(data) < 8 or data[4] not in (2, 4, 5, 11, 12) or data[2:4] != b"\x00\x00":
        return None
    if int.from_bytes(data[:2], "big") < 8:
        return None
    info: dict[str, Any] = {
        "service": "oracle",
        "product": "Oracle Database TNS listener",
        "vendor": "oracle",
    }
    match = re.search(rb"VSNNUM=(\d{1,12})", data)
    if match:
        number = int(match.group(1))
        info["version"] = ".".join(
            str(part)
            for part in (
                number >> 24,
                (number >> 20) & 0xF,
                (number >> 12) & 0xFF,
                (number >> 8) & 0xF,
                number & 0xFF,
            )
        )
    elif not (b"DESCRIPTION" in data or (data[4] == 11 and len(data) == 8)):
        return None
    return info


# --- MongoDB: OP_MSG (wire protocol opcode 2013) with a minimal BSON codec --------------------

OP_MSG = 2013


class _BsonError(ValueError):
    pass


def bson_encode(document: dict[str, Any]) -> bytes:
    """Encode a flat document of str/int/bool values (all our commands need)."""
    body = bytearray()
    for key, value in document.items():
        name = key.encode() + b"\x00"
        if isinstance(value, bool):
            body += b"\x08" + name + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            body += b"\x10" + name + struct.pack("<i", value)
        else:
            text = str(value).encode() + b"\x00"
            body += b"\x02" + name + struct.pack("<i", len(text)) + text
    return struct.pack("<i", len(body) + 5) + bytes(body) + b"\x00"


_FIXED_SIZES = {0x01: 8, 0x07: 12, 0x09: 8, 0x0A: 0, 0x11: 8, 0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}


def _bson_decode(data: bytes, depth: int = 0) -> tuple[dict[str, Any], int]:
    if depth > 16 or len(data) < 5:
        raise _BsonError("too deep or too short")
    size = struct.unpack("<i", data[:4])[0]
    if size < 5 or size > len(data):
        raise _BsonError("bad size")
    document: dict[str, Any] = {}
    offset = 4
    while offset < size - 1:
        kind = data[offset]
        end = data.find(b"\x00", offset + 1, size)
        if end < 0:
            raise _BsonError("unterminated name")
        key = data[offset + 1 : end].decode("utf-8", "replace")
        offset = end + 1
        reader = _BSON_READERS.get(kind)
        if reader is not None:
            value, offset = reader(data, offset, size, depth)
            if value is not _SKIPPED:
                document[key] = value
        elif kind in _FIXED_SIZES:
            offset += _FIXED_SIZES[kind]  # values no probe reads (ObjectId, dates, ...)
        else:
            raise _BsonError(f"unsupported type {kind}")
        if offset > size:
            raise _BsonError("overrun")
    return document, size


# A reader gets (data, offset of the value, document size, depth) and gives (value, offset
# after it); _SKIPPED for values kept out of the document.
_BsonReader = Callable[[bytes, int, int, int], tuple[Any, int]]
_SKIPPED = object()


def _bson_length(data: bytes, offset: int, size: int) -> int:
    return struct.unpack("<i", data[offset : offset + 4])[0] if offset + 4 <= size else -1


def _bson_string(data: bytes, offset: int, size: int, depth: int) -> tuple[Any, int]:
    length = _bson_length(data, offset, size)
    if length < 1 or offset + 4 + length > size:
        raise _BsonError("bad string")
    return data[offset + 4 : offset + 3 + length].decode("utf-8", "replace"), offset + 4 + length


def _bson_document(data: bytes, offset: int, size: int, depth: int) -> tuple[Any, int]:
    child, used = _bson_decode(data[offset:size], depth + 1)
    return child, offset + used


def _bson_array(data: bytes, offset: int, size: int, depth: int) -> tuple[Any, int]:
    child, used = _bson_decode(data[offset:size], depth + 1)
    return list(child.values()), offset + used


def _bson_binary(data: bytes, offset: int, size: int, depth: int) -> tuple[Any, int]:
    length = _bson_length(data, offset, size)
    if length < 0:
        raise _BsonError("bad binary")
    return _SKIPPED, offset + 5 + length


def _bson_fixed(code: str, width: int) -> _BsonReader:
    """A little-endian number of ``width`` bytes (struct ``code``); short data reads as zeros."""

    def read(data: bytes, offset: int, size: int, depth: int) -> tuple[Any, int]:
        value = struct.unpack(code, data[offset : offset + width].ljust(width, b"\x00"))[0]
        return value, offset + width

    return read


def _bson_bool(data: bytes, offset: int, size: int, depth: int) -> tuple[Any, int]:
    return data[offset : offset + 1] == b"\x01", offset + 1


_BSON_READERS: dict[int, _BsonReader] = {
    0x01: _bson_fixed("<d", 8),  # double
    0x02: _bson_string,
    0x03: _bson_document,
    0x04: _bson_array,
    0x05: _bson_binary,
    0x08: _bson_bool,
    0x10: _bson_fixed("<i", 4),  # int32
    0x12: _bson_fixed("<q", 8),  # int64
}


def bson_decode(data: bytes) -> dict[str, Any] | None:
    try:
        return _bson_decode(data)[0]
    except (_BsonError, struct.error, RecursionError):
        return None


def mongo_op_msg(command: dict[str, Any], request_id: int) -> bytes:
    payload = struct.pack("<I", 0) + b"\x00" + bson_encode(command)
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, OP_MSG) + payload


def parse_mongo_reply(data: bytes) -> dict[str, Any] | None:
    """The body document of one OP_MSG reply, or None."""
    if len(data) < 21:
        return None
    length, _request, _response_to, opcode = struct.unpack("<iiii", data[:16])
    if opcode != OP_MSG or length < 21 or length > len(data) or data[20] != 0:
        return None
    return bson_decode(data[21:length])


def mongo_fingerprint(
    hello: dict[str, Any] | None, build: dict[str, Any] | None, databases: dict[str, Any] | None
) -> dict[str, Any] | None:
    """What ``hello``, ``buildInfo`` and ``listDatabases`` (nameOnly) say about a server."""
    if not hello or not (
        "maxWireVersion" in hello or "ismaster" in hello or "isWritablePrimary" in hello
    ):
        return None
    info: dict[str, Any] = {"service": "mongodb", "product": "MongoDB", "vendor": "mongodb"}
    version = build.get("version") if build else None
    if isinstance(version, str) and re.match(r"\d+\.\d+", version):
        info["version"] = version[:40]
        info["cpe"] = cpe("mongodb", "mongodb", info["version"])
    if databases is not None:
        opened = databases.get("ok") in (1, 1.0, True) and "databases" in databases
        info["auth_required"] = not opened
        if opened and isinstance(databases["databases"], list):
            info["database_count"] = len(databases["databases"])
    return info
