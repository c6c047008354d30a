"""A small reader for the plain answers that make up most of a mail scan (A, AAAA, MX, TXT, CAA).

dnspython's full message parser is the largest CPU cost of a regional mail scan; these answers
need a fraction of it. :func:`read_plain_answer` handles only the simple shape — every answer
record of the asked type, owned by the asked name, class IN — and returns None for anything
else (CNAMEs, DNSSEC records, odd compression, truncation, garbage), so the caller falls back
to dnspython. It never raises and never loops: every offset is bounds-checked and compression
pointers must point backwards.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

TYPE_A, TYPE_MX, TYPE_TXT, TYPE_AAAA, TYPE_CAA = 1, 15, 16, 28, 257
PLAIN_TYPES = frozenset({TYPE_A, TYPE_MX, TYPE_TXT, TYPE_AAAA, TYPE_CAA})
MAX_RECORDS = 512


@dataclass(frozen=True)
class LightName:
    text: str  # with the final dot

    def to_text(self, omit_final_dot: bool = False) -> str:
        return self.text[:-1] if omit_final_dot and self.text != "." else self.text

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Address:
    address: str


@dataclass(frozen=True)
class Mx:
    preference: int
    exchange: LightName


@dataclass(frozen=True)
class Txt:
    strings: tuple[bytes, ...]


@dataclass(frozen=True)
class Caa:
    flags: int
    tag: bytes
    value: bytes

    def to_text(self) -> str:
        value = self.value.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.flags} {self.tag.decode("latin-1")} "{value}"'


# The record data a plain answer can hold (one class per record type read here).
Rdata = Address | Mx | Txt | Caa


class LightRRset(list[Rdata]):
    """The records of one answer, with the owner ``name`` like a dnspython RRset."""

    def __init__(self, name: LightName, rdtype: int, items: list[Rdata]) -> None:
        super().__init__(items)
        self.name = name
        self.rdtype = rdtype


def _read_name(data: bytes, offset: int) -> tuple[str, int] | None:
    """(name with final dot, offset after it) or None. Pointers must go backwards."""
    labels: list[str] = []
    end = None
    position = offset
    for _hop in range(128):
        if position >= len(data):
            return None
        length = data[position]
        if length == 0:
            text = ".".join(labels) + "."
            return text.lower(), (end if end is not None else position + 1)
        if length & 0xC0 == 0xC0:
            if position + 1 >= len(data):
                return None
            target = ((length & 0x3F) << 8) | data[position + 1]
            if target >= position:
                return None
            if end is None:
                end = position + 2
            position = target
            continue
        if length & 0xC0 or position + 1 + length > len(data):
            return None
        label = data[position + 1 : position + 1 + length]
        if b"." in label or b"\\" in label:
            return None  # escapes: leave it to dnspython
        labels.append(label.decode("latin-1"))
        position += 1 + length
    return None


def _rdata(rdtype: int, data: bytes, start: int, length: int) -> Rdata | None:
    chunk = data[start : start + length]
    if rdtype == TYPE_A:
        return Address(socket.inet_ntop(socket.AF_INET, chunk)) if length == 4 else None
    if rdtype == TYPE_AAAA:
        return Address(socket.inet_ntop(socket.AF_INET6, chunk)) if length == 16 else None
    if rdtype == TYPE_TXT:
        strings: list[bytes] = []
        position = 0
        while position < length:
            size = chunk[position]
            if position + 1 + size > length:
                return None
            strings.append(chunk[position + 1 : position + 1 + size])
            position += 1 + size
        return Txt(tuple(strings)) if strings else None
    if rdtype == TYPE_MX:
        if length < 3:
            return None
        name = _read_name(data, start + 2)
        if name is None or name[1] != start + length:
            return None
        return Mx(int.from_bytes(chunk[:2], "big"), LightName(name[0]))
    if rdtype == TYPE_CAA:
        if length < 2 or 2 + chunk[1] > length or chunk[1] == 0:
            return None
        return Caa(chunk[0], chunk[2 : 2 + chunk[1]], chunk[2 + chunk[1] :])
    return None


def read_plain_answer(data: bytes, qtype: int) -> LightRRset | None:
    """The answer records of a plain answer to ``qtype``, or None to let dnspython read it."""
    if qtype not in PLAIN_TYPES or len(data) < 12:
        return None
    qdcount = int.from_bytes(data[4:6], "big")
    ancount = int.from_bytes(data[6:8], "big")
    if qdcount != 1 or not 0 < ancount <= MAX_RECORDS:
        return None
    question = _read_name(data, 12)
    if question is None or question[1] + 4 > len(data):
        return None
    owner, position = question[0], question[1] + 4
    items: list[Rdata] = []
    for _index in range(ancount):
        name = _read_name(data, position)
        if name is None or name[0] != owner or name[1] + 10 > len(data):
            return None
        position = name[1]
        rdtype = int.from_bytes(data[position : position + 2], "big")
        rdclass = int.from_bytes(data[position + 2 : position + 4], "big")
        length = int.from_bytes(data[position + 8 : position + 10], "big")
        position += 10
        if rdtype != qtype or rdclass != 1 or position + length > len(data):
            return None
        rdata = _rdata(rdtype, data, position, length)
        if rdata is None:
            return None
        if rdata not in items:  # an RRset is a set: duplicates collapse, as in dnspython
            items.append(rdata)
        position += length
    return LightRRset(LightName(owner), qtype, items)
