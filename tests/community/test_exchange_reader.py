"""The MISP feed reader on untrusted input (hypothesis): whatever the bytes, the archive, the
member names or the JSON, reading ends in events or in :class:`ExchangeImportError`, never in
another exception. No database: the reader is pure."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.community import services_exchange as services

UID = "6f1c3c2e-0d4b-4f5a-9a51-0c8e4c7f1a01"
CHECKS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
# Values shaped like parts of a MISP event, so the reader goes past its first checks.
event_fields = st.fixed_dictionaries(
    {"uuid": st.just(UID) | st.text(max_size=40), "info": st.text(max_size=40) | json_values},
    optional={
        "date": st.sampled_from(["2026-11-30", "2026-13-45", "", "x"]) | json_values,
        "threat_level_id": st.sampled_from(["1", "4", "9", 2, None]) | json_values,
        "Attribute": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["vulnerability", "domain", "cpe"]) | json_values},
                optional={"value": st.text(max_size=20) | json_values},
            ),
            max_size=4,
        )
        | json_values,
        "Tag": st.lists(st.fixed_dictionaries({"name": st.text(max_size=15)}), max_size=3)
        | json_values,
        "Orgc": st.fixed_dictionaries({"name": st.text(max_size=15)}) | json_values,
        "Object": json_values,
    },
)
member_names = st.sampled_from(
    ["manifest.json", f"{UID}.json", "hashes.csv", f"feed/{UID}.json", "../x.json", "a\\b",
     "/abs.json", "dir/", "C:/x.json", "feed/manifest.json", "x.txt"]
) | st.text(max_size=20)  # fmt: skip


def _reads(data: bytes) -> None:
    try:
        events = services.parse_archive(data)
    except services.ExchangeImportError as exc:
        assert str(exc)
    else:
        assert isinstance(events, list)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


@CHECKS
@given(st.binary(max_size=2000))
def test_any_bytes(data):
    _reads(data)


@CHECKS
@given(st.binary(max_size=600))
def test_bytes_that_open_like_a_zip(tail):
    _reads(b"PK\x03\x04" + tail)


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the same name twice is refused
@CHECKS
@given(st.lists(st.tuples(member_names, st.binary(max_size=200)), max_size=5))
def test_any_members(members):
    _reads(_zip(members))


@CHECKS
@given(json_values, st.dictionaries(st.just(f"{UID}.json"), json_values, max_size=1))
def test_any_json(manifest, events):
    members = [("manifest.json", json.dumps(manifest).encode())]
    members += [(name, json.dumps(value).encode()) for name, value in events.items()]
    _reads(_zip(members))


@CHECKS
@given(event_fields)
def test_event_like_json(event):
    members = [
        ("manifest.json", json.dumps({UID: {}}).encode()),
        (f"{UID}.json", json.dumps({"Event": event}).encode()),
    ]
    _reads(_zip(members))


VALID = _zip(
    [
        ("manifest.json", json.dumps({UID: {"info": "x"}}).encode()),
        (
            f"{UID}.json",
            json.dumps(
                {"Event": {"uuid": UID, "info": "Événement", "date": "2026-11-30"}}
            ).encode(),
        ),
    ]
)


@CHECKS
@given(st.data())
def test_a_valid_feed_damaged_anywhere(data):
    damaged = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    _reads(bytes(damaged))


def test_the_valid_feed_reads():
    [event] = services.parse_archive(VALID)
    assert event.uuid == UID and event.info == "Événement"
