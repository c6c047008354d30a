"""Pure builders and parsers of the medical protocols: DICOM upper layer and HL7 v2 over MLLP.

Untrusted bytes in, a small dict or ``None`` out, never an exception, no I/O.
"""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime
from typing import Any

from carbet.engines.exposure.ports.parsers import cpe, printable

# --- DICOM upper layer (PS3.8 §9.3) -----------------------------------------------------------

DICOM_APP_CONTEXT = b"1.2.840.10008.3.1.1.1"
VERIFICATION_SOP = b"1.2.840.10008.1.1"
IMPLICIT_LITTLE_ENDIAN = b"1.2.840.10008.1.2"
DICOM_CALLING_AE = "CARBET-SCAN"
DICOM_CALLED_AE = "ANY-SCP"  # an arbitrary title: a server that accepts it checks no title
CARBET_IMPLEMENTATION_UID = b"1.2.826.0.1.3680043.10.1337.1"


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


def _ae_title(title: str) -> bytes:
    return title.encode("ascii", "replace")[:16].ljust(16, b" ")


def dicom_associate_request(calling: str, called: str) -> bytes:
    """An A-ASSOCIATE-RQ proposing only Verification (C-ECHO): a handshake, nothing more."""
    presentation = _item(
        0x20,
        b"\x01\x00\x00\x00" + _item(0x30, VERIFICATION_SOP) + _item(0x40, IMPLICIT_LITTLE_ENDIAN),
    )
    user = _item(
        0x50,
        _item(0x51, struct.pack(">I", 16384))
        + _item(0x52, CARBET_IMPLEMENTATION_UID)
        + _item(0x55, b"CARBET_SCAN"),
    )
    body = (
        struct.pack(">HH", 1, 0)
        + _ae_title(called)
        + _ae_title(calling)
        + bytes(32)
        + _item(0x10, DICOM_APP_CONTEXT)
        + presentation
        + user
    )
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


DICOM_RELEASE_REQUEST = struct.pack(">BBI", 0x05, 0, 4) + bytes(4)
DICOM_REJECT_REASONS = {
    (1, 1): "no-reason",
    (1, 2): "application-context-not-supported",
    (1, 3): "calling-ae-not-recognized",
    (1, 7): "called-ae-not-recognized",
    (2, 1): "no-reason",
    (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion",
    (3, 2): "local-limit-exceeded",
}


def parse_dicom_pdu(data: bytes) -> dict[str, Any] | None:
    """A-ASSOCIATE-AC (accepted), -RJ (rejected) or A-ABORT; the implementation names if given."""
    if len(data) < 6 or data[0] not in (0x02, 0x03, 0x07) or data[1] != 0:
        return None
    length = int.from_bytes(data[2:6], "big")
    body = data[6 : 6 + length]
    kind = data[0]
    if kind == 0x03:
        if length != 4 or len(body) < 4:
            return None
        result, source, reason = body[1], body[2], body[3]
        return {
            "service": "dicom",
            "association": "rejected",
            "permanent": result == 1,
            "reason": DICOM_REJECT_REASONS.get((source, reason), f"{source}/{reason}"),
        }
    if kind == 0x07:
        return {"service": "dicom", "association": "aborted"} if length == 4 else None
    if length < 68 or len(body) < 68 or body[:2] != b"\x00\x01":
        return None
    info: dict[str, Any] = {"service": "dicom", "association": "accepted"}
    offset = 68
    while offset + 4 <= len(body):
        item_type = body[offset]
        item_length = int.from_bytes(body[offset + 2 : offset + 4], "big")
        value = body[offset + 4 : offset + 4 + item_length]
        if item_type == 0x21 and len(value) >= 4:
            info["context_accepted"] = value[2] == 0
        elif item_type == 0x50:
            _parse_dicom_user_info(value, info)
        offset += 4 + item_length
    return info


def _parse_dicom_user_info(value: bytes, info: dict[str, Any]) -> None:
    offset = 0
    while offset + 4 <= len(value):
        sub_type = value[offset]
        sub_length = int.from_bytes(value[offset + 2 : offset + 4], "big")
        sub_value = value[offset + 4 : offset + 4 + sub_length]
        if sub_type == 0x52:
            info["implementation_uid"] = printable(sub_value.rstrip(b"\x00"), 64)
        elif sub_type == 0x55:
            name = printable(sub_value, 16)
            info["implementation_version"] = name
            match = re.match(r"OFFIS_DCMTK_(\d)(\d)(\d)", name)
            if match:
                info.update(product="DCMTK", vendor="offis", version=".".join(match.groups()))
                info["cpe"] = cpe("offis", "dcmtk", info["version"])
            elif name:
                info["product"] = name
        offset += 4 + sub_length


# --- HL7 v2 over MLLP ------------------------------------------------------------------------

MLLP_START, MLLP_END = b"\x0b", b"\x1c\x0d"


def hl7_probe_message(now: datetime | None = None) -> bytes:
    """A bare MSH whose processing id is T(raining): it asks the engine for an ACK, nothing more."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    msh = f"MSH|^~\\&|CARBET|CARBET-SCAN|||{stamp}||ACK|CARBET{stamp}|T|2.5\r"
    return MLLP_START + msh.encode("ascii") + MLLP_END


def parse_mllp_reply(data: bytes) -> dict[str, Any] | None:
    start = data.find(MLLP_START)
    if start < 0:
        return None
    end = data.find(b"\x1c", start)
    message = data[start + 1 : end if end >= 0 else len(data)]
    segments = [segment for segment in re.split(rb"[\r\n]+", message) if segment]
    if not segments or not segments[0].startswith(b"MSH") or len(segments[0]) < 8:
        return None
    separator = segments[0][3:4]
    fields = segments[0].decode("latin-1").split(separator.decode("latin-1"))
    info: dict[str, Any] = {
        "service": "hl7",
        "framed": end >= 0,
        "sending_application": printable(fields[2].encode("latin-1"), 60)
        if len(fields) > 2
        else "",
        "sending_facility": printable(fields[3].encode("latin-1"), 60) if len(fields) > 3 else "",
        "message_type": printable(fields[8].encode("latin-1"), 30) if len(fields) > 8 else "",
        "hl7_version": printable(fields[11].encode("latin-1"), 10) if len(fields) > 11 else "",
    }
    for segment in segments[1:20]:
        if segment.startswith(b"MSA"):
            parts = segment.decode("latin-1").split(separator.decode("latin-1"))
            info["ack_code"] = printable(parts[1].encode("latin-1"), 4) if len(parts) > 1 else ""
    if info["sending_application"]:
        info["product"] = info["sending_application"].split("^")[0]
    return info
