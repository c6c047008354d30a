"""STIX 2.1 and MISP exports, read back by the libraries that read them; MISP feeds read safely."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import stix2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent

from carbet.engines import tlp
from carbet.engines.community.exchange import (
    BulletinExport,
    ExchangeError,
    event_uuid,
    misp_event,
    misp_feed,
    parse_misp_feed,
    stix_bundle,
)

PUBLISHED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
FORTIOS = BulletinExport(
    id="BUL-2026-014",
    title="FortiOS : contournement d'authentification activement exploité",
    body_markdown="**Appliquez** la version 7.0.17 ou 7.2.13.\n\n- coupez l'interface d'admin",
    severity="critical",
    tlp="amber+strict",
    published=PUBLISHED,
    references=("https://fortiguard.fortinet.com/psirt/FG-IR-24-535",),
    cves=("CVE-2024-55591", "CVE-2025-24472"),
    products=("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*", "Pare-feu FortiGate"),
)
NEWS = BulletinExport(
    id="BUL-2026-015",
    title="Lettre de la communauté",
    body_markdown="Rien d'urgent.",
    severity="info",
    tlp="clear",
    published=PUBLISHED + dt.timedelta(days=1),
)


def test_stix_bundle_parses_back_with_markings_and_refs():
    bundle = stix2.parse(stix_bundle([FORTIOS, NEWS, FORTIOS]), allow_custom=False)
    by_type: dict[str, list] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    assert len(by_type["report"]) == 2  # the same bulletin twice is one report
    report = next(r for r in by_type["report"] if r.name.startswith("FortiOS"))
    assert report.id == "report--" + event_uuid(FORTIOS)
    assert set(report.object_marking_refs) == {stix2.TLP_AMBER.id, tlp.AMBER_STRICT.id}
    assert report.labels == ["severity:critical"] and report.published == PUBLISHED
    names = {v.name for v in by_type["vulnerability"]}
    assert names == {"CVE-2024-55591", "CVE-2025-24472"}
    cpes = {s.get("cpe") for s in by_type["software"]}
    assert "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*" in cpes
    assert set(report.object_refs) == {o.id for o in by_type["vulnerability"] + by_type["software"]}
    statement = next(m for m in by_type["marking-definition"])
    assert statement.definition.statement == "TLP:AMBER+STRICT"
    news = next(r for r in by_type["report"] if r.name.startswith("Lettre"))
    assert news.object_marking_refs == [stix2.TLP_WHITE.id]
    assert news.object_refs == [by_type["identity"][0].id]


def test_stix_ids_are_stable():
    first, second = json.loads(stix_bundle([FORTIOS])), json.loads(stix_bundle([FORTIOS]))
    assert sorted(o["id"] for o in first["objects"]) == sorted(o["id"] for o in second["objects"])


@pytest.mark.parametrize("level", tlp.LEVELS)
def test_every_tlp_level_exports(level):
    item = BulletinExport("B", "t", "", "low", level, PUBLISHED)
    bundle = stix2.parse(stix_bundle([item]))
    report = next(o for o in bundle.objects if o.type == "report")
    assert report.object_marking_refs[0] == tlp.STIX_MARKINGS[level].id
    event = MISPEvent()
    event.load(misp_event(item))
    assert next(t.name for t in event.tags) == f"tlp:{level}"


def test_bad_bulletins_are_refused():
    with pytest.raises(ValueError, match="TLP"):
        stix_bundle([BulletinExport("B", "t", "", "low", "white", PUBLISHED)])
    with pytest.raises(ValueError, match="severity"):
        misp_event(BulletinExport("B", "t", "", "urgent", "clear", PUBLISHED))
    with pytest.raises(ValueError, match="aware"):
        misp_event(BulletinExport("B", "t", "", "low", "clear", PUBLISHED.replace(tzinfo=None)))


def test_misp_event_loads_in_pymisp():
    event = MISPEvent()
    event.load(json.dumps(misp_event(FORTIOS, organisation="CRC Santé")))
    assert event.info == FORTIOS.title and event.uuid == event_uuid(FORTIOS)
    assert int(event.threat_level_id) == 1 and event.date == PUBLISHED.date()
    assert int(event.distribution) == 0  # AMBER+STRICT: this organisation only
    values = {(a.type, a.value) for a in event.attributes}
    assert ("vulnerability", "CVE-2025-24472") in values
    assert ("link", FORTIOS.references[0]) in values
    assert ("cpe", FORTIOS.products[0]) in values
    assert ("text", FORTIOS.body_markdown) in values
    assert event.Orgc.name == "CRC Santé"


def test_misp_feed_round_trip():
    files = misp_feed([FORTIOS, NEWS], organisation="CRC Santé")
    assert set(files) == {
        "manifest.json",
        f"{event_uuid(FORTIOS)}.json",
        f"{event_uuid(NEWS)}.json",
    }
    shared = parse_misp_feed(files["manifest.json"], files)
    assert [e.uuid for e in shared] == [event_uuid(FORTIOS), event_uuid(NEWS)]
    first = shared[0]
    assert first.tlp == "amber+strict" and first.threat_level == 1
    assert first.cves == FORTIOS.cves and first.references == FORTIOS.references
    assert first.products == FORTIOS.products[:1] and first.organisation == "CRC Santé"
    assert shared[1].tlp == "clear" and shared[1].threat_level == 4
    bare = {key.removesuffix(".json"): value for key, value in files.items()}  # keyed by uuid
    assert parse_misp_feed(files["manifest.json"].decode(), bare) == shared


def test_a_peer_feed_with_objects_and_tlp_white():
    uid = "5e8f4a4e-1c2b-4d3a-9f0e-7a6b5c4d3e2f"
    event = {"Event": {
        "uuid": uid, "info": "Campagne contre des CHU", "date": "2026-02-27",
        "threat_level_id": "2", "analysis": "1",
        "Orgc": {"name": "CERT Santé", "uuid": "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e"},
        "Tag": [{"name": "tlp:white"}, {"name": "tlp:green"}],
        "Attribute": [{"type": "vulnerability", "category": "External analysis",
                       "value": "cve-2024-3400", "uuid": "1c2b3a49-5d6e-4f70-8a9b-0c1d2e3f4a5b"}],
        "Object": [{"name": "vulnerability", "Attribute": [
            {"type": "link", "object_relation": "references", "value": "https://example.org/a",
             "uuid": "2c2b3a49-5d6e-4f70-8a9b-0c1d2e3f4a5b", "category": "External analysis"}]}],
    }}  # fmt: skip
    manifest = {uid: {"info": "Campagne contre des CHU", "date": "2026-02-27"}}
    (shared,) = parse_misp_feed(json.dumps(manifest), {f"{uid}.json": json.dumps(event).encode()})
    assert shared.tlp == "green" and shared.organisation == "CERT Santé"
    assert shared.cves == ("CVE-2024-3400",) and shared.references == ("https://example.org/a",)
    assert shared.threat_level == 2 and shared.date == dt.date(2026, 2, 27)


GOOD = misp_feed([FORTIOS])
UID = event_uuid(FORTIOS)


@pytest.mark.parametrize(
    ("manifest", "events", "message"),
    [
        (b"\xff\xfe", {}, "manifest.json: "),
        (b"[1, 2]", {}, "manifest.json: not a JSON object"),
        (b'{"x": {}}', {}, "manifest.json: 'x' is not a UUID"),
        (GOOD["manifest.json"], {}, f"{UID}.json: listed in manifest.json but missing"),
        (GOOD["manifest.json"], {f"{UID}.json": b"{"}, f"{UID}.json: invalid JSON"),
        (GOOD["manifest.json"], {f"{UID}.json": b"[" * 100000 + b"]" * 100000},
         f"{UID}.json: "),
        (GOOD["manifest.json"], {f"{UID}.json": b'{"Event": []}'}, "not a MISP event"),
        (GOOD["manifest.json"], {f"{UID}.json": json.dumps({"Event": {
            "uuid": "5e8f4a4e-1c2b-4d3a-9f0e-7a6b5c4d3e2f", "info": "x"}}).encode()},
         "is not the manifest's"),
        (GOOD["manifest.json"], {f"{UID}.json": json.dumps({"Event": {
            "uuid": UID, "info": "x", "date": "not a date"}}).encode()}, "not a valid MISP event"),
        (GOOD["manifest.json"], {f"{UID}.json": json.dumps({"Event": {
            "uuid": UID, "info": "x", "Attribute": [{"type": "ip-dst"}]}}).encode()},
         "has no value"),
    ],
)  # fmt: skip
def test_hostile_feeds_raise_exchange_error_naming_the_file(manifest, events, message):
    with pytest.raises(ExchangeError) as raised:
        parse_misp_feed(manifest, events)
    text = str(raised.value)
    assert text.startswith(("manifest.json: ", f"{UID}.json: ")) and message in text
    if "manifest" not in message and events:
        assert text.startswith(f"{UID}.json: ")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
EVENT_KEYS = st.sampled_from(
    ["uuid", "info", "date", "threat_level_id", "Tag", "Attribute", "Object", "Orgc", "timestamp",
     "analysis", "published", "distribution"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_manifest_bytes_raise_only_exchange_error(data):
    try:
        parse_misp_feed(data, {})
    except ExchangeError as error:
        assert str(error).startswith("manifest.json: ") or ".json: " in str(error)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(EVENT_KEYS, JSON, max_size=8), st.booleans())
def test_any_event_shape_raises_only_exchange_error(fields, keep_valid_core):
    event = dict(fields)
    if keep_valid_core:
        event.update({"uuid": UID, "info": "x"})
    try:
        result = parse_misp_feed(
            GOOD["manifest.json"], {f"{UID}.json": json.dumps({"Event": event}).encode()}
        )
    except ExchangeError as error:
        assert str(error).startswith(f"{UID}.json: ")
    else:
        assert result[0].uuid == UID


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2000), st.binary(min_size=1, max_size=3))
def test_corrupted_valid_event_raises_only_exchange_error(position, garbage):
    data = bytearray(GOOD[f"{UID}.json"])
    position = position % len(data)
    data[position : position + len(garbage)] = garbage
    try:
        parse_misp_feed(GOOD["manifest.json"], {f"{UID}.json": bytes(data)})
    except ExchangeError as error:
        assert str(error).startswith(f"{UID}.json: ")
