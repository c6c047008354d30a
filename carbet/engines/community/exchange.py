"""Sharing with CERT Santé and peers: bulletins and matched alerts as STIX 2.1 and MISP, and a
MISP feed read back.

- :func:`stix_bundle`: a STIX 2.1 bundle (the ``stix2`` library) with, per bulletin, a
  ``report`` whose refs are its ``vulnerability`` objects (one per CVE) and ``software``
  objects (one per product, with its CPE), TLP markings (:mod:`carbet.engines.tlp`); parsed
  back with ``stix2.parse`` before it leaves.
- :func:`misp_event` / :func:`misp_feed`: MISP event JSON (the ``pymisp`` library) and a MISP
  feed (``manifest.json`` plus one ``<uuid>.json`` per event), TLP as ``tlp:`` tags.
- :func:`parse_misp_feed`: a MISP feed as received (untrusted) into :class:`SharedEvent`\\ s;
  anything wrong raises :class:`ExchangeError` naming the file, nothing else.

Ids are stable: the same bulletin gives the same STIX ids and MISP uuid in every export.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import stix2
from pymisp import MISPEvent, MISPOrganisation

from carbet.engines import tlp

NAMESPACE = uuid.UUID("3c1f7a52-8e0b-4d6e-b3f4-5a2d9c7e1b15")
SEVERITIES = ("info", "low", "medium", "high", "critical")
_THREAT_LEVEL = {"critical": 1, "high": 1, "medium": 2, "low": 3, "info": 4}
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
MAX_EVENTS = 5000
MAX_FILE_BYTES = 20 << 20
MAX_ATTRIBUTES = 20000


class ExchangeError(ValueError):
    """A file that cannot be read as what it claims; the message starts with the file name."""


@dataclass(frozen=True)
class BulletinExport:
    """A bulletin or a matched alert as shared outside Carbet (nothing of any structure)."""

    id: str
    title: str
    body_markdown: str
    severity: str  # one of SEVERITIES
    tlp: str  # one of carbet.engines.tlp.LEVELS
    published: dt.datetime  # aware
    references: tuple[str, ...] = ()
    cves: tuple[str, ...] = ()
    products: tuple[str, ...] = ()  # CPE 2.3 strings or product names


@dataclass(frozen=True)
class SharedEvent:
    """One event of a MISP feed, as far as Carbet uses it."""

    uuid: str
    info: str
    date: dt.date
    threat_level: int  # MISP: 1 high, 2 medium, 3 low, 4 undefined
    tlp: str  # "" when the event carries no TLP tag
    organisation: str
    tags: tuple[str, ...]
    cves: tuple[str, ...]
    references: tuple[str, ...]
    products: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]  # every (type, value), objects' included
    # (category, comment) of each attribute, in the order of ``attributes``
    notes: tuple[tuple[str, str], ...] = ()


def _check(item: BulletinExport) -> None:
    if item.severity not in SEVERITIES:
        raise ValueError(f"{item.id}: unknown severity {item.severity!r}")
    if item.tlp not in tlp.LEVELS:
        raise ValueError(f"{item.id}: unknown TLP {item.tlp!r}")
    if item.published.tzinfo is None:
        raise ValueError(f"{item.id}: published must be an aware datetime")


def event_uuid(item: BulletinExport) -> str:
    return str(uuid.uuid5(NAMESPACE, f"bulletin:{item.id}"))


# ---------------------------------------------------------------------- STIX 2.1


def _identity(author: str) -> Any:
    return stix2.Identity(
        id="identity--" + str(uuid.uuid5(NAMESPACE, f"identity:{author}")),
        name=author,
        identity_class="organization",
        sectors=["healthcare"],
        created="2026-01-01T00:00:00.000Z",
        modified="2026-01-01T00:00:00.000Z",
    )


def _vulnerability(cve: str, created: dt.datetime, identity: Any, markings: list[str]) -> Any:
    return stix2.Vulnerability(
        id="vulnerability--" + str(uuid.uuid5(NAMESPACE, f"cve:{cve}")),
        name=cve,
        created=created,
        modified=created,
        created_by_ref=identity.id,
        external_references=[{"source_name": "cve", "external_id": cve}],
        object_marking_refs=markings,
    )


def _software(product: str, markings: list[str]) -> Any:
    if product.startswith("cpe:2.3:"):
        parts = product.split(":")
        name = " ".join(p for p in parts[3:6] if p not in ("*", "-", "")) or product
        return stix2.Software(name=name, cpe=product, object_marking_refs=markings)
    return stix2.Software(name=product, object_marking_refs=markings)


def _report(item: BulletinExport, identity: Any, objects: dict[str, Any]) -> Any:
    markings = [m.id for m in tlp.stix_markings(item.tlp)]
    refs: list[str] = []
    for cve in dict.fromkeys(item.cves):
        vulnerability = objects.get("vulnerability--" + str(uuid.uuid5(NAMESPACE, f"cve:{cve}")))
        if vulnerability is None:
            vulnerability = _vulnerability(cve, item.published, identity, markings)
            objects[vulnerability.id] = vulnerability
        refs.append(vulnerability.id)
    for product in dict.fromkeys(item.products):
        software = _software(product, markings)
        objects.setdefault(software.id, software)
        refs.append(software.id)
    references = [{"source_name": "carbet", "external_id": item.id}]
    references += [{"source_name": "reference", "url": url} for url in item.references]
    return stix2.Report(
        id="report--" + event_uuid(item),
        name=item.title[:250] or item.id,
        description=item.body_markdown,
        published=item.published,
        created=item.published,
        modified=item.published,
        report_types=["vulnerability"] if item.cves else ["threat-report"],
        object_refs=refs or [identity.id],
        created_by_ref=identity.id,
        labels=[f"severity:{item.severity}"],
        external_references=references,
        object_marking_refs=markings,
    )


def stix_bundle(items: Iterable[BulletinExport], *, author: str = "Carbet") -> str:
    """The bulletins as a serialised STIX 2.1 bundle, checked by parsing it back."""
    identity = _identity(author)
    objects: dict[str, Any] = {identity.id: identity}
    reports: dict[str, Any] = {}
    strict = False
    for item in items:
        _check(item)
        report = _report(item, identity, objects)
        reports[report.id] = report
        strict = strict or item.tlp == "amber+strict"
    if strict:
        objects[tlp.AMBER_STRICT.id] = tlp.AMBER_STRICT
    bundle = stix2.Bundle(objects=[*objects.values(), *reports.values()], allow_custom=False)
    text: str = bundle.serialize(pretty=True)
    stix2.parse(text, allow_custom=False)
    return text


# ---------------------------------------------------------------------- MISP


def _misp(item: BulletinExport, organisation: str) -> MISPEvent:
    _check(item)
    event = MISPEvent()
    event.uuid = event_uuid(item)
    event.info = item.title[:1000] or item.id
    event.date = item.published.astimezone(dt.UTC).date()
    event.threat_level_id = _THREAT_LEVEL[item.severity]
    event.analysis = 2
    event.distribution = 0 if item.tlp in ("red", "amber+strict") else 1
    event.timestamp = item.published
    event.publish_timestamp = item.published
    event.published = True
    org = MISPOrganisation()
    org.name = organisation
    org.uuid = str(uuid.uuid5(NAMESPACE, f"organisation:{organisation}"))
    event.Orgc = org
    event.add_tag(tlp.misp_tag(item.tlp))
    event.add_tag(f'carbet:bulletin="{item.id}"')
    values = [("vulnerability", cve) for cve in item.cves]
    values += [("link", url) for url in item.references]
    values += [("cpe" if p.startswith("cpe:2.3:") else "text", p) for p in item.products]
    if item.body_markdown:
        values.append(("text", item.body_markdown))
    for kind, value in dict.fromkeys(values):
        event.add_attribute(
            kind,
            value,
            category="Other" if kind == "text" else "External analysis",
            uuid=str(uuid.uuid5(NAMESPACE, f"{event.uuid}:{kind}:{value}")),
            timestamp=item.published,
            to_ids=False,
            distribution=5,  # the event's
        )
    return event


def misp_event(item: BulletinExport, *, organisation: str = "Carbet") -> dict[str, Any]:
    """A bulletin as MISP event JSON (``{"Event": {...}}``, the feed form)."""
    feed: dict[str, Any] = _misp(item, organisation).to_feed(with_distribution=True)
    return feed


def misp_feed(items: Iterable[BulletinExport], *, organisation: str = "Carbet") -> dict[str, bytes]:
    """A MISP feed: ``manifest.json`` and one ``<uuid>.json`` per bulletin."""
    files: dict[str, bytes] = {}
    manifest: dict[str, Any] = {}
    for item in items:
        event = _misp(item, organisation)
        files[f"{event.uuid}.json"] = json.dumps(event.to_feed(), ensure_ascii=False).encode()
        manifest.update(event.manifest)
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
    return files


# ---------------------------------------------------------------------- MISP feed, read


def _load(name: str, data: bytes | str) -> Any:
    if not isinstance(data, bytes | str):
        raise ExchangeError(f"{name}: not a file's content")
    if len(data) > MAX_FILE_BYTES:
        raise ExchangeError(f"{name}: larger than {MAX_FILE_BYTES >> 20} MB")
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ExchangeError(f"{name}: JSON nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ExchangeError(f"{name}: not UTF-8 text") from exc
    except ValueError as exc:
        raise ExchangeError(f"{name}: invalid JSON ({exc})") from exc


def _uuid(name: str, value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise ExchangeError(f"{name}: {str(value)[:60]!r} is not a UUID") from exc


def _attributes(name: str, items: Any) -> list[tuple[str, str]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ExchangeError(f"{name}: Attribute is not a list")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ExchangeError(f"{name}: an attribute has no type")
        value = item.get("value")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ExchangeError(f"{name}: attribute {item['type'][:40]!r} has no value")
        found.append((item["type"][:100], str(value)))
    return found


def _shape(name: str, data: Any, expected: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The event object and its (type, value) attributes, objects' included, checked."""
    event = data.get("Event") if isinstance(data, dict) else None
    if not isinstance(event, dict):
        raise ExchangeError(f"{name}: not a MISP event (no Event object)")
    if _uuid(name, event.get("uuid")) != expected:
        raise ExchangeError(f"{name}: the event's uuid is not the manifest's {expected}")
    if not isinstance(event.get("info"), str):
        raise ExchangeError(f"{name}: the event has no info")
    attributes = _attributes(name, event.get("Attribute"))
    objects = event.get("Object") or []
    if not isinstance(objects, list):
        raise ExchangeError(f"{name}: Object is not a list")
    for item in objects:
        if not isinstance(item, dict):
            raise ExchangeError(f"{name}: an object is not a JSON object")
        attributes += _attributes(name, item.get("Attribute"))
    tags = event.get("Tag") or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) for t in tags
    ):
        raise ExchangeError(f"{name}: Tag must be a list of tags with a name")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ExchangeError(f"{name}: more than {MAX_ATTRIBUTES} attributes")
    return event, attributes


def _note(value: Any) -> str:
    return value[:500] if isinstance(value, str) else ""


def _notes(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(category, comment) of each attribute checked by :func:`_shape`, in the same order."""
    items = list(event.get("Attribute") or [])
    for item in event.get("Object") or []:
        items += item.get("Attribute") or []
    return [(_note(i.get("category")), _note(i.get("comment"))) for i in items]


def _event(name: str, data: Any, expected: str) -> SharedEvent:
    event, attributes = _shape(name, data, expected)
    try:  # pymisp reads what passed the checks above; it raises its own errors on the rest
        misp = MISPEvent()
        misp.load({"Event": copy.deepcopy(event)})  # load consumes what it is given
        date = misp.date if isinstance(misp.date, dt.date) else dt.date.fromisoformat(misp.date)
        threat = int(getattr(misp, "threat_level_id", 4) or 4)
        org = getattr(misp, "Orgc", None)
        organisation = str(getattr(org, "name", "") or "") if org is not None else ""
        tags = tuple(str(t.name) for t in misp.tags)
    except Exception as exc:  # any library error on hostile input is the file's
        raise ExchangeError(f"{name}: not a valid MISP event ({type(exc).__name__})") from exc
    if threat not in (1, 2, 3, 4):
        raise ExchangeError(f"{name}: threat_level_id must be 1 to 4")
    return SharedEvent(
        uuid=expected,
        info=str(event["info"])[:1000],
        date=date,
        threat_level=threat,
        tlp=tlp.from_misp_tags(list(tags)),
        organisation=organisation[:200],
        tags=tags,
        cves=tuple(dict.fromkeys(v.upper() for k, v in attributes if k == "vulnerability"
                                 and _CVE.match(v.upper()))),
        references=tuple(dict.fromkeys(v for k, v in attributes if k in ("link", "url"))),
        products=tuple(dict.fromkeys(v for k, v in attributes if k == "cpe")),
        attributes=tuple(attributes),
        notes=tuple(_notes(event)),
    )  # fmt: skip


def parse_misp_feed(manifest: bytes | str, events: Mapping[str, bytes]) -> list[SharedEvent]:
    """The events a MISP feed's ``manifest.json`` lists, read from ``events`` (keyed
    ``<uuid>.json`` or ``<uuid>``), in the manifest's order. Raises :class:`ExchangeError`
    only."""
    listed = _load("manifest.json", manifest)
    if not isinstance(listed, dict):
        raise ExchangeError("manifest.json: not a JSON object of events by uuid")
    if len(listed) > MAX_EVENTS:
        raise ExchangeError(f"manifest.json: more than {MAX_EVENTS} events")
    shared = []
    for key in listed:
        expected = _uuid("manifest.json", key)
        name = f"{key}.json"
        data = events.get(name, events.get(key))
        if data is None:
            raise ExchangeError(f"{name}: listed in manifest.json but missing from the feed")
        shared.append(_event(name, _load(name, data), expected))
    return shared
