"""Exchange with CERT Santé and peers: exports (STIX 2.1, MISP) and the MISP feed import.

Exports (the centre only, audited): the published bulletins and the vulnerabilities matched in
the region. What leaves Carbet is built here from plain values (``BulletinExport`` of the
engine), never from a structure: no structure's name, id, host or version goes out, only the
CVE, whether it is actively exploited (KEV) and the products as CPE names cut to vendor and
product. A bulletin marked TLP:RED is never exported (named recipients only).

Import (the centre only, audited): a MISP feed (``manifest.json`` and one ``<uuid>.json`` per
event) from a ``.zip`` uploaded on the page or a directory (``carbet community import-misp``).
The archive is untrusted input: its size, the number of its members and their total
uncompressed size are limited (zip bombs), member names that leave the archive's folder are
refused, each file must be JSON of the expected shape (the engine's ``parse_misp_feed``). Any
problem is one :class:`ExchangeImportError` with a French sentence, and nothing is saved: the
events are written in one transaction, updated by uuid when a feed is imported again.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import lzma
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.community import selectors_exchange as selectors
from carbet.community.choices import Severity, Tlp
from carbet.community.models import Bulletin, FeedImport, SharedEvent, Vulnerability
from carbet.community.service import CommunityPerm
from carbet.core import uploads
from carbet.core.access import require_centre
from carbet.core.tenancy import Actor
from carbet.engines.community import exchange as engine

MB = 1024 * 1024
# The uploaded archive, what it may expand to, and how many files it may hold.
MAX_ARCHIVE_BYTES = 20 * MB
MAX_TOTAL_BYTES = 100 * MB
MAX_FILE_BYTES = engine.MAX_FILE_BYTES
MAX_MEMBERS = engine.MAX_EVENTS + 10
# The most rows one export carries (bulletins and vulnerabilities together).
MAX_EXPORT_ITEMS = 5000

MANIFEST = "manifest.json"
# Files a MISP feed may hold beside its events; they are read (limits) but not used.
IGNORED_MEMBERS = frozenset({"hashes.csv"})
_EVENT_FILE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                         r"[0-9a-fA-F]{12}\.json$")  # fmt: skip
_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a compression method zipfile cannot read
    RuntimeError,  # an encrypted member
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
)

FORMATS = ("stix", "misp", "misp_feed")


class ExchangeImportError(Exception):
    """Why a MISP feed was refused, in one French sentence; nothing was saved."""


# --- Export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    """A file to hand to the person (or the API): its name, type and bytes."""

    filename: str
    content_type: str
    data: bytes
    bulletins: int
    vulnerabilities: int


@dataclass(frozen=True)
class ExportRequest:
    """What the centre asks to export. ``bulletin_ids`` chosen one by one win over the dates,
    which select bulletins by publication and vulnerabilities by first match."""

    fmt: str = "stix"
    bulletin_ids: tuple[int, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    vulnerabilities: bool = True
    vulnerability_tlp: str = Tlp.AMBER


def _severity_of(vulnerability: Vulnerability) -> str:
    if vulnerability.kev or (vulnerability.cvss or 0) >= 9:
        return Severity.CRITICAL
    if vulnerability.cvss is None:
        return Severity.MEDIUM
    if vulnerability.cvss >= 7:
        return Severity.HIGH
    if vulnerability.cvss >= 4:
        return Severity.MEDIUM
    return Severity.LOW if vulnerability.cvss > 0 else Severity.INFO


def _advisory_url(advisory: str) -> str | None:
    match = re.fullmatch(r"CERTFR-\d{4}-(ALE|AVI)-\d{3,}", advisory)
    if not match:
        return None
    folder = "alerte" if match.group(1) == "ALE" else "avis"
    return f"https://www.cert.ssi.gouv.fr/{folder}/{advisory}/"


def _vulnerability_text(vulnerability: Vulnerability) -> str:
    parts = [vulnerability.description.strip()]
    if vulnerability.kev:
        parts.append(_("Exploitée activement (catalogue KEV de la CISA)."))
    if vulnerability.ransomware:
        parts.append(_("Utilisée par des rançongiciels."))
    if vulnerability.required_action:
        parts.append(_("Action demandée : %(action)s") % {"action": vulnerability.required_action})
    if vulnerability.fixed_in:
        parts.append(_("Corrigée en version %(version)s.") % {"version": vulnerability.fixed_in})
    if vulnerability.cvss is not None:
        parts.append(_("Score CVSS : %(score)s.") % {"score": vulnerability.cvss})
    return "\n\n".join(p for p in parts if p)


def vulnerability_export(
    vulnerability: Vulnerability, products: Iterable[str], level: str
) -> engine.BulletinExport:
    """A vulnerability matched in the region, as shared: the CVE, KEV, the products; never a
    structure."""
    references = [f"https://nvd.nist.gov/vuln/detail/{vulnerability.vuln_id}"] if _CVE.match(
        vulnerability.vuln_id
    ) else []  # fmt: skip
    references += [url for a in vulnerability.advisories if (url := _advisory_url(str(a)))]
    return engine.BulletinExport(
        id=f"vulnerability:{vulnerability.vuln_id}",
        title=f"{vulnerability.vuln_id} — {vulnerability.title}"[:250],
        body_markdown=_vulnerability_text(vulnerability),
        severity=_severity_of(vulnerability),
        tlp=level,
        published=vulnerability.first_matched_at,
        references=tuple(references),
        cves=(vulnerability.vuln_id,) if _CVE.match(vulnerability.vuln_id) else (),
        products=tuple(sorted(set(products))),
    )


def bulletin_export(bulletin: Bulletin) -> engine.BulletinExport:
    """A published bulletin as shared: its title, text, severity, TLP, references and CVEs;
    never whom it was targeted at."""
    if bulletin.tlp == Tlp.RED or bulletin.published_at is None:
        raise ValueError("a TLP:RED or unpublished bulletin is never exported")
    body = "\n\n".join(p for p in (bulletin.summary.strip(), bulletin.body) if p)
    return engine.BulletinExport(
        id=f"bulletin:{bulletin.pk}",
        title=bulletin.title,
        body_markdown=body,
        severity=bulletin.severity,
        tlp=bulletin.tlp,
        published=bulletin.published_at,
        references=tuple(str(r) for r in bulletin.references if isinstance(r, str) and r),
        cves=tuple(
            c.upper() for c in bulletin.cves if isinstance(c, str) and _CVE.match(c.upper())
        ),
    )


def export_items(
    actor: Actor, request: ExportRequest
) -> tuple[list[engine.BulletinExport], int, int]:
    """The items an export carries, the number of bulletins and of vulnerabilities."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    if request.fmt not in FORMATS:
        raise ValidationError({"fmt": [_("Format d'export inconnu.")]})
    bulletins = list(
        selectors.bulletins_for_export(
            actor, ids=request.bulletin_ids, since=request.since, until=request.until
        )[: MAX_EXPORT_ITEMS + 1]
    )
    vulnerabilities: list[Vulnerability] = []
    if request.vulnerabilities:
        if request.vulnerability_tlp not in Tlp.values or request.vulnerability_tlp == Tlp.RED:
            raise ValidationError({"vulnerability_tlp": [_("Choisissez une diffusion TLP.")]})
        vulnerabilities = list(
            selectors.vulnerabilities_for_export(actor, since=request.since, until=request.until)[
                : MAX_EXPORT_ITEMS + 1
            ]
        )
    if len(bulletins) + len(vulnerabilities) > MAX_EXPORT_ITEMS:
        raise ValidationError(
            _("Plus de %(n)s éléments : resserrez les dates.") % {"n": MAX_EXPORT_ITEMS}
        )
    if not bulletins and not vulnerabilities:
        raise ValidationError(_("Rien à exporter : aucun bulletin publié ni vulnérabilité suivie "
                                "sur cette période."))  # fmt: skip
    products = selectors.products_of(vulnerabilities)
    items = [bulletin_export(b) for b in bulletins if b.tlp != Tlp.RED]
    items += [
        vulnerability_export(v, products.get(v.pk, ()), request.vulnerability_tlp)
        for v in vulnerabilities
    ]
    return items, len(bulletins), len(vulnerabilities)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()


def render(items: list[engine.BulletinExport], fmt: str, organisation: str) -> tuple[str, bytes]:
    """The export's content type and bytes (the engine checks what it builds)."""
    if fmt == "stix":
        return "application/stix+json;version=2.1", engine.stix_bundle(
            items, author=organisation
        ).encode()
    if fmt == "misp":
        events = [engine.misp_event(item, organisation=organisation) for item in items]
        text = json.dumps({"response": events}, ensure_ascii=False, indent=1)
        return "application/json", text.encode()
    return "application/zip", _zip(engine.misp_feed(items, organisation=organisation))


def export(actor: Actor, request: ExportRequest, *, ip: str | None = None) -> Download:
    """The chosen bulletins and vulnerabilities as a file, recorded in the audit trail."""
    items, bulletins, vulnerabilities = export_items(actor, request)
    content_type, data = render(items, request.fmt, selectors.organisation_name())
    stamp = f"{timezone.localdate():%Y%m%d}"
    suffix = {"stix": "stix.json", "misp": "misp.json", "misp_feed": "misp-feed.zip"}[request.fmt]
    audit.record(
        actor,
        "community.exchange.export",
        ip=ip,
        label=request.fmt,
        changes={
            "format": request.fmt,
            "bulletins": bulletins,
            "vulnerabilities": vulnerabilities,
            "bulletin_ids": list(request.bulletin_ids),
            "since": request.since.isoformat() if request.since else None,
            "until": request.until.isoformat() if request.until else None,
            "vulnerability_tlp": request.vulnerability_tlp if request.vulnerabilities else None,
        },
    )
    return Download(
        filename=f"carbet-echange-{stamp}.{suffix}",
        content_type=content_type,
        data=data,
        bulletins=bulletins,
        vulnerabilities=vulnerabilities,
    )


# --- Import: reading the feed (untrusted) -------------------------------------------------------


@dataclass(frozen=True)
class FeedFiles:
    """A MISP feed as read: its manifest and its event files by name, not yet checked."""

    manifest: bytes
    events: dict[str, bytes]


def _unreadable() -> ExchangeImportError:
    return ExchangeImportError(
        _("Cette archive ZIP est illisible ou abîmée : exportez de nouveau le flux MISP.")
    )


def _too_big() -> ExchangeImportError:
    return ExchangeImportError(
        _("Le flux décompressé dépasse %(mb)s Mo ou %(n)s fichiers : découpez-le.")
        % {"mb": MAX_TOTAL_BYTES // MB, "n": MAX_MEMBERS}
    )


def _archive_too_big() -> str:
    return _("L'archive dépasse %(mb)s Mo : découpez le flux.") % {"mb": MAX_ARCHIVE_BYTES // MB}


def _shown(name: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in name)[:80]


def _member_base(name: str) -> str | None:
    """The file name of a member (``None`` for a folder), refusing names that leave the
    archive's folder or that no MISP feed holds."""
    parts = name.split("/")
    dangerous = (
        not name
        or "\\" in name
        or "\x00" in name
        or name.startswith("/")
        or re.match(r"^[A-Za-z]:", name)
        or any(p in ("..", ".") for p in parts)
        or len(parts) > 3
    )
    if dangerous:
        raise ExchangeImportError(
            _("Nom de fichier refusé dans l'archive : « %(name)s ». Un flux MISP ne contient "
              "que manifest.json et des fichiers <uuid>.json.") % {"name": _shown(name)}
        )  # fmt: skip
    if name.endswith("/"):
        return None
    base = parts[-1]
    if base != MANIFEST and base not in IGNORED_MEMBERS and not _EVENT_FILE.match(base):
        raise ExchangeImportError(
            _("Fichier inattendu dans l'archive : « %(name)s ». Un flux MISP ne contient que "
              "manifest.json et des fichiers <uuid>.json.") % {"name": _shown(name)}
        )  # fmt: skip
    return base


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> bytes:
    """A member's bytes, counted as they expand: never more than ``room`` nor a file's limit,
    whatever the archive declares."""
    limit = min(room, MAX_FILE_BYTES)
    chunks = []
    size = 0
    with archive.open(info) as handle:
        while chunk := handle.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise _too_big()
            chunks.append(chunk)
    return b"".join(chunks)


def _collect(files: dict[str, bytes]) -> FeedFiles:
    manifest = files.pop(MANIFEST, None)
    if manifest is None:
        raise ExchangeImportError(
            _("Le flux ne contient pas de fichier manifest.json : ce n'est pas un flux MISP.")
        )
    return FeedFiles(manifest=manifest, events=files)


def read_archive(data: bytes) -> FeedFiles:
    """The files of a MISP feed ``.zip``, within the limits; :class:`ExchangeImportError`."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ExchangeImportError(_archive_too_big())
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
                raise _too_big()
            total = 0
            for info in infos:
                base = _member_base(info.filename)
                if base is None:
                    continue
                if base in files:
                    raise ExchangeImportError(
                        _("L'archive contient deux fois « %(name)s ».") % {"name": _shown(base)}
                    )
                files[base] = _read_member(archive, info, MAX_TOTAL_BYTES - total)
                total += len(files[base])
    except ExchangeImportError:
        raise
    except _ZIP_ERRORS as exc:
        raise _unreadable() from exc
    for name in IGNORED_MEMBERS:
        files.pop(name, None)
    return _collect(files)


def read_directory(path: str | os.PathLike[str]) -> FeedFiles:
    """The files of a MISP feed directory: ``manifest.json`` and the ``<uuid>.json`` beside it
    (other files are left alone), within the same limits as an archive."""
    folder = Path(path)
    if not folder.is_dir():
        raise ExchangeImportError(
            _("« %(path)s » n'est pas un dossier lisible.") % {"path": _shown(str(path))}
        )
    files: dict[str, bytes] = {}
    total = 0
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
        for entry in entries:
            if entry.name != MANIFEST and not _EVENT_FILE.match(entry.name):
                continue
            if not entry.is_file():
                raise _unreadable_file(entry.name)
            if len(files) >= MAX_MEMBERS:
                raise _too_big()
            with open(entry.path, "rb") as handle:
                data = handle.read(min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - total) + 1)
            if len(data) > min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - total):
                raise _too_big()
            files[entry.name] = data
            total += len(data)
    except OSError as exc:
        raise ExchangeImportError(
            _("Lecture du dossier impossible : %(error)s") % {"error": exc.strerror or exc}
        ) from exc
    return _collect(files)


def _unreadable_file(name: str) -> ExchangeImportError:
    return ExchangeImportError(
        _("« %(name)s » n'est pas un fichier ordinaire.") % {"name": _shown(name)}
    )


def parse_feed(files: FeedFiles) -> list[engine.SharedEvent]:
    """The feed's events, checked by the engine; :class:`ExchangeImportError` otherwise."""
    try:
        return engine.parse_misp_feed(files.manifest, files.events)
    except engine.ExchangeError as exc:
        raise ExchangeImportError(
            _("Ce flux MISP n'a pas la forme attendue, rien n'a été importé. Détail : %(detail)s")
            % {"detail": _shown(str(exc))[:300]}
        ) from exc


def parse_archive(data: bytes) -> list[engine.SharedEvent]:
    """A ``.zip`` MISP feed read and checked: events, or :class:`ExchangeImportError`."""
    return parse_feed(read_archive(data))


# --- Import: saving -----------------------------------------------------------------------------


def _attributes(event: engine.SharedEvent) -> list[dict[str, str]]:
    """The event's attributes as the model keeps them: type, value, category, comment."""
    notes = list(event.notes) + [("", "")] * (len(event.attributes) - len(event.notes))
    return [
        {"type": kind, "value": value, "category": category, "comment": comment}
        for (kind, value), (category, comment) in zip(event.attributes, notes, strict=False)
    ]


def _values(event: engine.SharedEvent, feed: FeedImport, now: dt.datetime) -> dict[str, Any]:
    return {
        "info": event.info[:500],
        "date": event.date,
        "threat_level": event.threat_level,
        "tlp": event.tlp if event.tlp in Tlp.values else Tlp.AMBER,
        "org": event.organisation[:200],
        "attributes": _attributes(event),
        "cves": list(event.cves),
        "feed": feed,
        "imported_at": now,
    }


def save_events(
    actor: Actor, name: str, events: list[engine.SharedEvent], *, ip: str | None = None
) -> FeedImport:
    """Write the events of one feed at once (all or nothing), each updated by its uuid."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    if not events:
        raise ExchangeImportError(_("Ce flux MISP ne contient aucun événement."))
    now = timezone.now()
    unique = {event.uuid: event for event in events}
    person = getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None)
    user = actor if person else None
    with transaction.atomic():
        feed = FeedImport.objects.create(
            name=name[:200] or _("flux MISP"),
            imported_at=now,
            events=len(unique),
            attributes=sum(len(e.attributes) for e in unique.values()),
            imported_by=user,
        )
        created = 0
        for uuid, event in unique.items():
            _row, new = SharedEvent.objects.update_or_create(
                uuid=uuid, defaults=_values(event, feed, now)
            )
            created += int(new)
        audit.record(
            actor,
            "community.exchange.import",
            feed,
            ip=ip,
            changes={
                "events": feed.events,
                "new": created,
                "updated": feed.events - created,
                "attributes": feed.attributes,
            },
        )
    return feed


def import_misp_archive(actor: Actor, upload: Any, *, ip: str | None = None) -> FeedImport:
    """A MISP feed uploaded as a ``.zip``: checked (size, type), read, saved at once."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    try:
        loaded = uploads.load(
            upload,
            {uploads.Kind.ZIP},
            max_bytes=MAX_ARCHIVE_BYTES,
            type_message=_("Déposez l'archive .zip d'un flux MISP."),
            size_message=_archive_too_big(),
        )
    except ValidationError as exc:
        raise ExchangeImportError(" ".join(exc.messages)) from exc
    events = parse_archive(loaded.data)
    return save_events(actor, loaded.original_name, events, ip=ip)


def import_misp_directory(
    actor: Actor, path: str | os.PathLike[str], *, ip: str | None = None
) -> FeedImport:
    """A MISP feed directory (``carbet community import-misp DIR``), saved at once."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    events = parse_feed(read_directory(path))
    return save_events(actor, Path(path).resolve().name or str(path), events, ip=ip)


__all__ = [
    "Download",
    "ExchangeImportError",
    "ExportRequest",
    "FeedFiles",
    "export",
    "import_misp_archive",
    "import_misp_directory",
    "parse_archive",
    "parse_feed",
    "read_archive",
    "read_directory",
    "save_events",
]
