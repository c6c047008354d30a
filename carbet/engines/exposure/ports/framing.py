"""When a reply is complete: framing predicates for the probes' reads (pure, on peer bytes).

Each takes the bytes read so far and says whether the message they frame has fully arrived;
the probes stop reading there instead of waiting for their read timeout.
"""

from __future__ import annotations


def _tpkt_done(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= int.from_bytes(data[2:4], "big")


def _netbios_done(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[1:4], "big")


def _pdu_done(data: bytes) -> bool:
    return len(data) >= 6 and len(data) >= 6 + int.from_bytes(data[2:6], "big")


def _tds_done(data: bytes) -> bool:
    return len(data) >= 8 and len(data) >= int.from_bytes(data[2:4], "big")


def _tns_done(data: bytes) -> bool:
    return len(data) >= 8 and len(data) >= int.from_bytes(data[0:2], "big")


def _mongo_done(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= int.from_bytes(data[0:4], "little", signed=True)


def _redis_done(data: bytes) -> bool:
    # PING's one-line reply, then INFO's bulk string (or its one-line error).
    _first, _, rest = data.partition(b"\r\n")
    if not rest:
        return False
    if rest.startswith(b"$"):
        size_text, _, body = rest[1:].partition(b"\r\n")
        return size_text.isdigit() and len(body) >= int(size_text)
    return rest.endswith(b"\r\n")
