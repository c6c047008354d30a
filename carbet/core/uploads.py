"""One path for every uploaded file: validate, store, open.

Why one module: a file a person deposits is untrusted input. Before this module, five places
each had their own rules (one checked nothing although its form promised PDF/image/office
only). Here, for every upload:

* **size** — at most ``settings.CARBET_MAX_UPLOAD_BYTES`` unless the caller declares its own
  limit (directory snapshots are larger), counted while reading, never trusted from the client;
* **type by content** — the caller declares the kinds it accepts; the name's suffix must be one
  of theirs and the first bytes (or, for office documents, the zip's declared content type)
  must really be that kind: an ``.exe`` renamed ``.pdf`` is refused;
* **safe names** — stored under a random name (``<area>/<year>/<32 hex>.<ext>``); the person's
  file name is kept only as metadata, never on disk;
* **outside the web root** — under ``MEDIA_ROOT`` (in the data directory; ``MEDIA_URL`` is not
  served: downloads go through views that check rights), files 0600, folders 0700;
* **SHA-256** computed while streaming, kept so one can later show a document is unchanged;
* ``open_upload`` refuses any name that would resolve outside the storage root.

A refused file leaves nothing behind, and the refusal is a ``ValidationError`` keyed by the
form field with a plain French sentence.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The bytes that open a file of each binary kind.
PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls/.doc, or an encrypted .xlsx
AD_SNAPSHOT_MAGIC = b"CARBETAD"  # carbet.engines.directory.snapshot.MAGIC
# How much of the head is kept for sniffing, and the largest zip member read to check a type.
HEAD_BYTES = 4096
_MAX_MANIFEST_BYTES = 1024 * 1024
_BOMS = (b"\xef\xbb\xbf",)
_STORED_NAME = re.compile(r"^[a-z][a-z0-9_/-]*/[0-9a-f]{32}\.[a-z0-9]{1,5}$")


class Kind(StrEnum):
    """What a caller may accept. Text kinds are told apart by suffix, binary ones by content."""

    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    DOCX = "docx"
    XLSX = "xlsx"
    ODT = "odt"
    ODS = "ods"
    TEXT = "text"
    CSV = "csv"
    JSON = "json"
    XML = "xml"
    EML = "eml"
    # Read by engines.tabular, whatever the name: CSV (UTF-8), JSON or XLSX. The reader gives
    # the precise reason for a table it cannot read; here only what is not a table is refused.
    TABLE = "table"
    # Files of the directory service, whatever their name.
    AD_SNAPSHOT = "ad_snapshot"
    PINGCASTLE = "pingcastle"
    # A zip archive read by its caller (a MISP feed): only the signature is checked here.
    ZIP = "zip"


@dataclass(frozen=True)
class _Spec:
    label: Any  # lazy French name, for the refusal sentence
    suffixes: tuple[str, ...]  # empty: any name (the content alone decides)
    stored_suffix: str
    text: bool = False  # no NUL byte anywhere


SPECS: dict[Kind, _Spec] = {
    Kind.PDF: _Spec(gettext_lazy("PDF"), (".pdf",), ".pdf"),
    Kind.PNG: _Spec(gettext_lazy("image PNG"), (".png",), ".png"),
    Kind.JPEG: _Spec(gettext_lazy("image JPEG"), (".jpg", ".jpeg"), ".jpg"),
    Kind.DOCX: _Spec(gettext_lazy("document Word (.docx)"), (".docx",), ".docx"),
    Kind.XLSX: _Spec(gettext_lazy("classeur Excel (.xlsx)"), (".xlsx",), ".xlsx"),
    Kind.ODT: _Spec(gettext_lazy("texte OpenDocument (.odt)"), (".odt",), ".odt"),
    Kind.ODS: _Spec(gettext_lazy("classeur OpenDocument (.ods)"), (".ods",), ".ods"),
    Kind.TEXT: _Spec(gettext_lazy("texte (.txt)"), (".txt",), ".txt", text=True),
    Kind.CSV: _Spec(gettext_lazy("CSV"), (".csv",), ".csv", text=True),
    Kind.JSON: _Spec(gettext_lazy("JSON"), (".json",), ".json", text=True),
    Kind.XML: _Spec(gettext_lazy("XML"), (".xml",), ".xml", text=True),
    Kind.EML: _Spec(gettext_lazy("message (.eml)"), (), ".eml", text=True),
    Kind.TABLE: _Spec(gettext_lazy("CSV ou classeur Excel (.xlsx)"), (), ".csv"),
    Kind.AD_SNAPSHOT: _Spec(gettext_lazy("instantané « carbet ad collect »"), (), ".carbetad"),
    Kind.PINGCASTLE: _Spec(gettext_lazy("rapport PingCastle (XML)"), (), ".xml", text=True),
    Kind.ZIP: _Spec(gettext_lazy("archive ZIP"), (".zip",), ".zip"),
}

# The sets the services accept (kept as they were before this module).
IMAGES_AND_PDF = frozenset({Kind.PDF, Kind.PNG, Kind.JPEG})
OFFICE = frozenset({Kind.DOCX, Kind.XLSX, Kind.ODT, Kind.ODS})

_OFFICE_TYPES = {
    Kind.DOCX: b"wordprocessingml.document.main+xml",
    Kind.XLSX: b"spreadsheetml.sheet.main+xml",
}
_ODF_TYPES = {
    Kind.ODT: b"application/vnd.oasis.opendocument.text",
    Kind.ODS: b"application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass(frozen=True)
class Received:
    """What a checked upload is: its kind, fingerprint, size and the name the person gave."""

    kind: Kind
    sha256: str
    size: int
    original_name: str


@dataclass(frozen=True)
class Stored(Received):
    """A checked upload kept on disk: ``name`` is relative to the storage root."""

    name: str


@dataclass(frozen=True)
class Loaded(Received):
    """A checked upload read into memory, for parsers that work on bytes."""

    data: bytes


# --- Names --------------------------------------------------------------------------------------


def original_name(upload: Any, default: str = "document") -> str:
    """The name the person gave, as metadata only: last path part, no control chars, ≤ 255."""
    raw = str(getattr(upload, "name", "") or "")
    base = re.split(r"[\\/]", raw)[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return (clean or default)[-255:]


def _suffix(name: str) -> str:
    name = name.lower()
    return name[name.rfind(".") :] if "." in name else ""


def _formats(kinds: Iterable[Kind]) -> str:
    return ", ".join(str(SPECS[k].label) for k in kinds)


def _refuse(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def refusal_code(exc: ValidationError) -> str | None:
    """Why an upload was refused: ``type``, ``content``, ``size`` or ``empty``."""
    errors = [e for group in getattr(exc, "error_dict", {}).values() for e in group]
    return errors[0].code if errors else getattr(exc, "code", None)


def _candidates(name: str, kinds: frozenset[Kind]) -> list[Kind]:
    """The kinds ``name`` may be, among those accepted: by suffix, else those with any name."""
    suffix = _suffix(name)
    by_suffix = [k for k in kinds if suffix and suffix in SPECS[k].suffixes]
    if by_suffix:
        return by_suffix
    return [k for k in _ordered(kinds) if not SPECS[k].suffixes]


def _ordered(kinds: Iterable[Kind]) -> list[Kind]:
    order = list(Kind)
    return sorted(kinds, key=order.index)


# --- Content ------------------------------------------------------------------------------------


def _strip_text_head(head: bytes) -> bytes:
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
    return head.lstrip(b" \t\r\n")


def _zip_member(opener: Callable[[], IO[bytes]], member: str) -> bytes | None:
    """A small member of the zip, or None when the file is no zip or lacks it."""
    try:
        with zipfile.ZipFile(opener()) as archive:
            info = archive.getinfo(member)
            if info.file_size > _MAX_MANIFEST_BYTES:
                return None
            return archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, RuntimeError):
        return None
    except NotImplementedError:  # a compression method zipfile cannot read
        return None


def content_matches(kind: Kind, head: bytes, opener: Callable[[], IO[bytes]]) -> bool:
    """Whether a file whose first bytes are ``head`` (whole file through ``opener``) is ``kind``.

    Text kinds are also checked chunk by chunk for NUL bytes while streaming (see ``_stream``).
    """
    if kind is Kind.PDF:
        return head.startswith(PDF_MAGIC)
    if kind is Kind.PNG:
        return head.startswith(PNG_MAGIC)
    if kind is Kind.JPEG:
        return head.startswith(JPEG_MAGIC)
    if kind in _OFFICE_TYPES:
        if not head.startswith(ZIP_MAGIC):
            return False
        manifest = _zip_member(opener, "[Content_Types].xml")
        return manifest is not None and _OFFICE_TYPES[kind] in manifest
    if kind in _ODF_TYPES:
        if not head.startswith(ZIP_MAGIC):
            return False
        mimetype = _zip_member(opener, "mimetype")
        return mimetype is not None and mimetype.strip() == _ODF_TYPES[kind]
    if kind is Kind.AD_SNAPSHOT:
        return head.startswith(AD_SNAPSHOT_MAGIC)
    if kind is Kind.ZIP:
        return head.startswith(ZIP_MAGIC)
    if kind is Kind.TABLE:
        # XLSX (and the legacy formats engines.tabular explains) or text: checked for NULs.
        return head.startswith((ZIP_MAGIC, OLE2_MAGIC)) or b"\x00" not in head
    text = _strip_text_head(head)
    if kind in (Kind.XML, Kind.PINGCASTLE):
        return text.startswith(b"<") and b"\x00" not in head
    if kind is Kind.JSON:
        return text[:1] in (b"{", b"[") and b"\x00" not in head
    return b"\x00" not in head  # TEXT, CSV, EML


def _must_stay_text(kind: Kind, head: bytes) -> bool:
    if SPECS[kind].text:
        return True
    return kind is Kind.TABLE and not head.startswith((ZIP_MAGIC, OLE2_MAGIC))


@dataclass
class _Messages:
    field: str
    max_bytes: int
    type_message: str | None
    size_message: str | None

    def type(self, kinds: frozenset[Kind]) -> ValidationError:
        message = self.type_message or _("Format refusé : déposez un fichier %(formats)s.") % {
            "formats": _formats(_ordered(kinds))
        }
        return _refuse(self.field, message, "type")

    def size(self) -> ValidationError:
        message = self.size_message or _(
            "Le fichier dépasse la taille maximale de %(mb)s Mo : réduisez-le (par exemple en "
            "l'enregistrant en PDF compressé) ou découpez-le."
        ) % {"mb": max(1, self.max_bytes // (1024 * 1024))}
        return _refuse(self.field, message, "size")

    def content(self, kind: Kind) -> ValidationError:
        if kind is Kind.AD_SNAPSHOT:
            message = _(
                "Instantané illisible : ce fichier n'est pas un instantané produit par "
                "« carbet ad collect »."
            )
        elif kind is Kind.PINGCASTLE:
            message = _("Rapport PingCastle illisible : ce fichier n'est pas un rapport XML.")
        elif kind in (Kind.TEXT, Kind.CSV, Kind.EML):
            message = _(
                "Ce fichier n'est pas un simple texte (%(format)s attendu) : déposez plutôt un PDF."
            ) % {"format": SPECS[kind].label}
        elif kind is Kind.TABLE:
            message = _("Ce fichier n'est ni un CSV ni un classeur Excel (XLSX) lisible.")
        else:
            message = _(
                "Le contenu du fichier ne correspond pas à son extension (%(format)s attendu) : "
                "il a peut-être été renommé. Déposez le document d'origine."
            ) % {"format": SPECS[kind].label}
        return _refuse(self.field, message, "content")

    def empty(self) -> ValidationError:
        return _refuse(self.field, _("Le fichier est vide."), "empty")


def _chunks(upload: Any) -> Iterator[bytes]:
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
        return
    while chunk := upload.read(64 * 1024):
        yield chunk


def _stream(
    upload: Any, kinds: frozenset[Kind], msgs: _Messages, sink: Callable[[bytes], None]
) -> tuple[list[Kind], bytes, str, int]:
    """Read ``upload`` once: size limit, SHA-256, head, NUL check of text kinds; each chunk goes
    to ``sink``. Returns the candidate kinds (by name), the head, the digest and the size."""
    name = original_name(upload)
    candidates = _candidates(name, kinds)
    if not candidates:
        raise msgs.type(kinds)
    announced = getattr(upload, "size", None)
    if isinstance(announced, int) and announced > msgs.max_bytes:
        raise msgs.size()
    digest = hashlib.sha256()
    head = b""
    size = 0
    for chunk in _chunks(upload):
        if not chunk:
            continue
        size += len(chunk)
        if size > msgs.max_bytes:
            raise msgs.size()
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if b"\x00" in chunk:
            # A NUL rules out the text kinds; what remains must be binary.
            candidates = [k for k in candidates if not _must_stay_text(k, head)]
            if not candidates:
                raise msgs.content(_first(name, kinds))
        digest.update(chunk)
        sink(chunk)
    if size == 0:
        raise msgs.empty()
    if hasattr(upload, "seek"):
        upload.seek(0)
    return candidates, head, digest.hexdigest(), size


def _first(name: str, kinds: frozenset[Kind]) -> Kind:
    return (_candidates(name, kinds) or _ordered(kinds))[0]


def _settle(
    name: str,
    kinds: frozenset[Kind],
    candidates: list[Kind],
    head: bytes,
    opener: Callable[[], IO[bytes]],
    msgs: _Messages,
) -> Kind:
    for kind in candidates:
        if content_matches(kind, head, opener):
            return kind
    raise msgs.content(_first(name, kinds))


def _messages(
    field: str, max_bytes: int | None, type_message: str | None, size_message: str | None
) -> _Messages:
    limit = settings.CARBET_MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    return _Messages(field, int(limit), type_message, size_message)


# --- Reading into memory -----------------------------------------------------------------------


def load(
    upload: Any,
    kinds: Iterable[Kind],
    *,
    field: str = "file",
    max_bytes: int | None = None,
    type_message: str | None = None,
    size_message: str | None = None,
) -> Loaded:
    """Check ``upload`` and return its bytes, for parsers that need them all (tables, snapshots).

    Nothing is written to disk; the limit is checked while reading, so a file announcing a small
    size but sending more is cut short.
    """
    accepted = frozenset(kinds)
    msgs = _messages(field, max_bytes, type_message, size_message)
    buffer = bytearray()
    candidates, head, sha, size = _stream(upload, accepted, msgs, buffer.extend)
    data = bytes(buffer)
    name = original_name(upload)
    kind = _settle(name, accepted, candidates, head, lambda: io.BytesIO(data), msgs)
    return Loaded(kind=kind, sha256=sha, size=size, original_name=name, data=data)


def check_bytes(
    data: bytes,
    name: str,
    kinds: Iterable[Kind],
    *,
    field: str = "file",
    max_bytes: int | None = None,
) -> Loaded:
    """``load`` for bytes already in hand (the CLI, tests)."""
    return load(_NamedBytes(data, name), kinds, field=field, max_bytes=max_bytes)


class _NamedBytes(io.BytesIO):
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


# --- Storing ------------------------------------------------------------------------------------


def storage_root() -> Path:
    """Where uploads live: ``MEDIA_ROOT``, inside the data directory, never served directly."""
    return Path(settings.MEDIA_ROOT)


def _area_dir(area: str) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_-]*(/[a-z0-9_-]+)*", area):
        raise ValueError(f"invalid upload area {area!r}")
    folder = storage_root() / area / f"{timezone.now():%Y}"
    # Created one level at a time so each folder gets 0700 (mkdir's mode ignores parents).
    current = storage_root()
    current.mkdir(mode=0o700, parents=True, exist_ok=True)
    for part in folder.relative_to(current).parts:
        current = current / part
        current.mkdir(mode=0o700, exist_ok=True)
    return folder


def store(
    upload: Any,
    kinds: Iterable[Kind],
    *,
    area: str,
    field: str = "document",
    max_bytes: int | None = None,
    type_message: str | None = None,
    size_message: str | None = None,
) -> Stored:
    """Check ``upload`` while writing it under ``<root>/<area>/<year>/`` with a random name.

    The bytes go to a hidden temporary file (0600) as they arrive; only once the whole file is
    checked is it renamed to its final name. A refusal removes the temporary file: nothing stays.
    """
    accepted = frozenset(kinds)
    msgs = _messages(field, max_bytes, type_message, size_message)
    folder = _area_dir(area)
    token = uuid.uuid4().hex
    partial = folder / f".{token}.part"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            candidates, head, sha, size = _stream(upload, accepted, msgs, handle.write)
        name = original_name(upload)
        kind = _settle(name, accepted, candidates, head, lambda: partial.open("rb"), msgs)
        if kind is Kind.TABLE:
            suffix = ".xlsx" if head.startswith(ZIP_MAGIC) else ".csv"
        else:
            suffix = SPECS[kind].stored_suffix
        final = folder / f"{token}{suffix}"
        partial.chmod(0o600)
        partial.rename(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    relative = final.relative_to(storage_root()).as_posix()
    return Stored(kind=kind, sha256=sha, size=size, original_name=name, name=relative)


# --- Opening ------------------------------------------------------------------------------------


def upload_path(name: str, *, strict: bool = False) -> Path:
    """The file of stored upload ``name``, refusing any name that leaves the storage root.

    ``strict`` also requires a name ``store`` made (for job parameters, which nobody should
    be able to point elsewhere); rows recorded before this module keep their older names.
    """
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        raise ValueError("invalid stored upload name")
    if strict and not _STORED_NAME.fullmatch(name):
        raise ValueError("invalid stored upload name")
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError("invalid stored upload name")
    root = storage_root().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ValueError("stored upload outside the storage root")
    return path


def open_upload(name: str, *, strict: bool = False) -> IO[bytes]:
    """Open a stored upload for reading (``FileNotFoundError`` when it is gone)."""
    return upload_path(name, strict=strict).open("rb")


def delete_upload(name: str) -> None:
    """Remove a stored upload (a consumed import); a missing file is not an error."""
    upload_path(name, strict=True).unlink(missing_ok=True)


__all__ = [
    "IMAGES_AND_PDF",
    "OFFICE",
    "Kind",
    "Loaded",
    "Received",
    "Stored",
    "check_bytes",
    "content_matches",
    "delete_upload",
    "load",
    "open_upload",
    "original_name",
    "refusal_code",
    "storage_root",
    "store",
    "upload_path",
]
