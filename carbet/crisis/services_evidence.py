"""Evidence files with their chain of custody, and indicators of compromise.

An evidence file goes through the one upload path (``carbet.core.uploads``: size counted while
reading, type by content, random name outside the web root). Its SHA-256 is computed on the
bytes as received and never changes; reading it back checks it again. Sensitive files (the
default: a crisis' exhibits often hold patient data or attacker tooling) are encrypted at rest
with the platform key (``carbet.core.crypto``) before they touch the disk. Who held a file,
when and why is the custody chain: one line per hand-over, never edited.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import ipaddress
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core import crypto, uploads
from carbet.core.tenancy import Actor
from carbet.crisis.choices import CustodyAction, EntryKind, IndicatorType, Tlp
from carbet.crisis.models import CrisisCase, CustodyEntry, Evidence, Indicator
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import actor_label, require_case
from carbet.crisis.services_log import append_entry

AREA = "crisis/evidence"
KINDS = frozenset(
    {
        *uploads.IMAGES_AND_PDF,
        *uploads.OFFICE,
        uploads.Kind.TEXT,
        uploads.Kind.CSV,
        uploads.Kind.JSON,
        uploads.Kind.XML,
        uploads.Kind.EML,
    }
)


class EvidenceAltered(RuntimeError):
    """A stored evidence file no longer matches the fingerprint taken when it was received."""


class _Named(io.BytesIO):
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


def add_evidence(
    actor: Actor,
    case: CrisisCase,
    upload: Any,
    *,
    holder: str,
    description: str = "",
    collected_at: dt.datetime | None = None,
    sensitive: bool = True,
    now: dt.datetime | None = None,
) -> Evidence:
    """Store an evidence file (``ValidationError`` on the ``file`` field when refused) and open
    its custody chain with "collected by ``holder``"."""
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if not holder.strip():
        raise ValueError(_("Indiquez qui détient la pièce."))
    now = now or timezone.now()
    if sensitive:
        loaded = uploads.load(upload, KINDS, field="file")
        token = crypto.encrypt(base64.b64encode(loaded.data).decode("ascii"))
        stored = uploads.store(
            _Named(token.encode("ascii"), "evidence.txt"), {uploads.Kind.TEXT}, area=AREA
        )
        received: uploads.Received = loaded
    else:
        stored = uploads.store(upload, KINDS, area=AREA, field="file")
        received = stored
    by = actor_label(actor)[:255]
    with transaction.atomic():
        evidence = Evidence.objects.create(
            case=case,
            name=received.original_name[:255],
            description=description.strip(),
            sha256=received.sha256,
            size=received.size,
            stored_name=stored.name,
            encrypted=sensitive,
            content_kind=str(received.kind),
            collected_at=collected_at or now,
            added_at=now,
            added_by=by,
        )
        CustodyEntry.objects.create(
            evidence=evidence,
            at=collected_at or now,
            holder=holder.strip()[:200],
            action=CustodyAction.COLLECTED,
            reason=description.strip()[:300] or _("collecte"),
            recorded_by=by,
            recorded_at=now,
        )
        append_entry(
            actor,
            case,
            kind=EntryKind.ACTION,
            text=_("Pièce versée au dossier : %(name)s (SHA-256 %(sha)s).")
            % {"name": evidence.name, "sha": evidence.sha256},
            event_at=collected_at or now,
            verified=True,
            now=now,
        )
        audit.record(actor, "crisis.evidence_add", case, changes={"sha256": evidence.sha256})
    return evidence


def add_custody(
    actor: Actor,
    evidence: Evidence,
    *,
    holder: str,
    action: str,
    reason: str,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> CustodyEntry:
    require_case(actor, evidence.case, CrisisPerm.CONTRIBUTE)
    if action not in CustodyAction.values:
        raise ValueError(_("Acte inconnu."))
    if not holder.strip() or not reason.strip():
        raise ValueError(_("Indiquez le détenteur et le motif."))
    now = now or timezone.now()
    entry = CustodyEntry.objects.create(
        evidence=evidence,
        at=at or now,
        holder=holder.strip()[:200],
        action=action,
        reason=reason.strip()[:300],
        recorded_by=actor_label(actor)[:255],
        recorded_at=now,
    )
    audit.record(
        actor,
        "crisis.custody",
        evidence.case,
        changes={"evidence": evidence.pk, "action": action, "holder": entry.holder},
    )
    return entry


def read_evidence(actor: Actor, evidence: Evidence) -> bytes:
    """The file's bytes, decrypted and checked against its fingerprint (audited)."""
    require_case(actor, evidence.case, CrisisPerm.VIEW)
    with uploads.open_upload(evidence.stored_name) as handle:
        raw = handle.read()
    data = base64.b64decode(crypto.decrypt(raw.decode("ascii"))) if evidence.encrypted else raw
    if hashlib.sha256(data).hexdigest() != evidence.sha256:
        raise EvidenceAltered(evidence.pk)
    audit.record(actor, "crisis.evidence_read", evidence.case, changes={"evidence": evidence.pk})
    return data


# --- Indicators of compromise -------------------------------------------------------------------

_HEX = {
    IndicatorType.MD5: 32,
    IndicatorType.SHA1: 40,
    IndicatorType.SHA256: 64,
}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalise_indicator(kind: str, value: str) -> str:
    """The canonical spelling of an indicator; ``ValueError`` (French) when it is not one."""
    value = value.strip()
    if not value or len(value) > 2000 or any(c in value for c in "\x00\r\n"):
        raise ValueError(_("Valeur d'indicateur invalide."))
    if kind in (IndicatorType.IPV4, IndicatorType.IPV6):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(_("Adresse IP invalide.")) from None
        if (address.version == 4) != (kind == IndicatorType.IPV4):
            raise ValueError(_("Adresse IP invalide."))
        return str(address)
    if kind in _HEX:
        lowered = value.lower()
        if not re.fullmatch(rf"[0-9a-f]{{{_HEX[kind]}}}", lowered):
            raise ValueError(_("Empreinte invalide."))
        return lowered
    if kind == IndicatorType.DOMAIN:
        lowered = value.lower().rstrip(".")
        if not _DOMAIN.match(lowered):
            raise ValueError(_("Nom de domaine invalide."))
        return lowered
    if kind == IndicatorType.URL:
        try:
            URLValidator(schemes=["http", "https", "ftp"])(value)
        except ValidationError:
            raise ValueError(_("URL invalide.")) from None
        return value
    if kind == IndicatorType.EMAIL:
        try:
            EmailValidator()(value)
        except ValidationError:
            raise ValueError(_("Adresse e-mail invalide.")) from None
        return value
    if kind == IndicatorType.FILENAME:
        if "/" in value or len(value) > 255:
            raise ValueError(_("Nom de fichier invalide."))
        return value
    raise ValueError(_("Type d'indicateur inconnu."))


def add_indicator(
    actor: Actor,
    case: CrisisCase,
    *,
    type: str,
    value: str,
    tlp: str = Tlp.AMBER,
    source: str = "",
    first_seen: dt.datetime | None = None,
    note: str = "",
    author_label: str | None = None,
    check: bool = True,
) -> Indicator:
    if check:
        require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if tlp not in Tlp.values:
        raise ValueError(_("Niveau TLP inconnu."))
    canonical = normalise_indicator(type, value)
    indicator, created = Indicator.objects.get_or_create(
        case=case,
        type=type,
        value=canonical,
        defaults={
            "tlp": tlp,
            "source": source.strip()[:200],
            "first_seen": first_seen,
            "note": note.strip()[:300],
            "added_by": (author_label or actor_label(actor))[:255],
        },
    )
    if not created:
        raise ValueError(_("Cet indicateur est déjà au dossier."))
    return indicator
