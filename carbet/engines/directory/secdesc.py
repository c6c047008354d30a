"""Binary Windows structures the directory returns: SIDs, GUIDs, security descriptors and DNS
zone properties, decoded without trusting a byte of them.

The directory (or something pretending to be one) is an untrusted peer: every decoder checks
lengths and raises ``FormatError`` on anything malformed instead of reading past a buffer or
looping, so the collector can record a gap and carry on.
"""

from __future__ import annotations

import struct
import uuid

from carbet.engines.directory.model import Ace, Descriptor


class FormatError(ValueError):
    """A binary value from the directory does not have the expected structure."""


# ACE types the audit reads (MS-DTYP 2.4.4.1); others (callback, audit, alarm) are skipped.
_ACE_KINDS = {0x00: "allow", 0x01: "deny", 0x05: "allow_object", 0x06: "deny_object"}
_INHERIT_ONLY_ACE = 0x08
_INHERITED_ACE = 0x10
_ACE_OBJECT_TYPE_PRESENT = 0x1
_ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x2
_SE_DACL_PRESENT = 0x0004


def sid_to_str(data: bytes) -> str:
    """Binary SID (MS-DTYP 2.4.2.2) → "S-1-5-21-...". Raises FormatError."""
    sid, _ = _read_sid(data, 0)
    return sid


def _read_sid(data: bytes, offset: int) -> tuple[str, int]:
    if offset < 0 or len(data) < offset + 8:
        raise FormatError("SID truncated")
    revision, count = data[offset], data[offset + 1]
    if revision != 1 or count > 15:
        raise FormatError("not a SID")
    end = offset + 8 + 4 * count
    if len(data) < end:
        raise FormatError("SID truncated")
    authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
    subs = struct.unpack_from(f"<{count}I", data, offset + 8)
    return "S-1-" + "-".join([str(authority), *map(str, subs)]), end


def sid_to_bytes(sid: str) -> bytes:
    """ "S-1-5-21-..." → binary SID (for LDAP filters on objectSid)."""
    parts = sid.split("-")
    if len(parts) < 3 or parts[0] != "S" or parts[1] != "1":
        raise FormatError(f"not a SID: {sid[:60]!r}")
    try:
        authority = int(parts[2])
        subs = [int(p) for p in parts[3:]]
    except ValueError:
        raise FormatError(f"not a SID: {sid[:60]!r}") from None
    if len(subs) > 15:
        raise FormatError("SID with too many sub-authorities")
    return (
        bytes([1, len(subs)]) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)
    )


def guid_to_str(data: bytes) -> str:
    """Binary GUID as Windows stores it (mixed endian) → lower-case canonical form."""
    if len(data) != 16:
        raise FormatError("GUID must be 16 bytes")
    return str(uuid.UUID(bytes_le=bytes(data)))


def parse_descriptor(data: bytes) -> Descriptor:
    """Self-relative security descriptor (MS-DTYP 2.4.6) → owner SID and DACL.

    Inherit-only ACEs are left out: they do not grant anything on the object itself, and the
    rules ask "who holds which right on this object". ACE types the audit does not use
    (audit, callback...) are skipped.
    """
    if len(data) < 20:
        raise FormatError("security descriptor truncated")
    revision, _sbz1, control, off_owner, _off_group, _off_sacl, off_dacl = struct.unpack_from(
        "<BBHIIII", data, 0
    )
    if revision != 1:
        raise FormatError("unknown security descriptor revision")
    owner = _read_sid(data, off_owner)[0] if off_owner else ""
    dacl: list[Ace] = []
    if control & _SE_DACL_PRESENT and off_dacl:
        dacl = _parse_acl(data, off_dacl)
    return Descriptor(owner=owner, dacl=dacl)


def _parse_acl(data: bytes, offset: int) -> list[Ace]:
    if len(data) < offset + 8:
        raise FormatError("ACL truncated")
    _rev, _sbz, acl_size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    end = offset + acl_size
    if acl_size < 8 or end > len(data):
        raise FormatError("ACL size out of bounds")
    aces: list[Ace] = []
    position = offset + 8
    for _ in range(count):
        if position + 4 > end:
            raise FormatError("ACE header truncated")
        ace_type, ace_flags, ace_size = struct.unpack_from("<BBH", data, position)
        if ace_size < 4 or position + ace_size > end:
            raise FormatError("ACE size out of bounds")
        body = data[position + 4 : position + ace_size]
        position += ace_size
        kind = _ACE_KINDS.get(ace_type)
        if kind is None or ace_flags & _INHERIT_ONLY_ACE:
            continue
        aces.append(_parse_ace(kind, ace_flags, body))
    return aces


def _parse_ace(kind: str, flags: int, body: bytes) -> Ace:
    if len(body) < 4:
        raise FormatError("ACE truncated")
    (mask,) = struct.unpack_from("<I", body, 0)
    cursor = 4
    object_type = ""
    if kind.endswith("_object"):
        if len(body) < 8:
            raise FormatError("object ACE truncated")
        (object_flags,) = struct.unpack_from("<I", body, 4)
        cursor = 8
        if object_flags & _ACE_OBJECT_TYPE_PRESENT:
            object_type = (
                guid_to_str(body[cursor : cursor + 16]) if len(body) >= cursor + 16 else ""
            )
            if not object_type:
                raise FormatError("object ACE type truncated")
            cursor += 16
        if object_flags & _ACE_INHERITED_OBJECT_TYPE_PRESENT:
            cursor += 16
    trustee, _ = _read_sid(body, cursor)
    return Ace(
        trustee=trustee,
        kind=kind,
        mask=mask,
        object_type=object_type,
        inherited=bool(flags & _INHERITED_ACE),
    )


# dNSProperty (MS-DNSP 2.3.2.1): DataLength, NameLength, Flag, Version, Id, Data, Name.
DSPROPERTY_ZONE_ALLOW_UPDATE = 0x02
_ALLOW_UPDATE = {0: "none", 1: "nonsecure_and_secure", 2: "secure"}


def zone_dynamic_update(properties: list[bytes]) -> str:
    """The zone's dynamic update setting from its dNSProperty values ("" when absent)."""
    for value in properties:
        if len(value) < 20:
            continue
        data_length, _name_len, _flag, _version, prop_id = struct.unpack_from("<IIIII", value, 0)
        if prop_id != DSPROPERTY_ZONE_ALLOW_UPDATE or data_length < 1 or len(value) < 21:
            continue
        return _ALLOW_UPDATE.get(value[20], "")
    return ""
