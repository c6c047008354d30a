"""Sending the audit trail's head off the server: ``carbet audit anchor`` (run by cron).

Everything kept on the server (database, anchor file, even the key when it lives in the data
directory) can be rewritten by someone who controls the server. A dated, signed copy of the
head kept elsewhere cannot: an e-mail in the centre's mailbox
(``CARBET_AUDIT_ANCHOR_EMAIL``), and/or a line appended to a file on another machine
(``CARBET_AUDIT_ANCHOR_FILE``, e.g. a share mounted from the backup server). Later,
``carbet audit verify --anchor FILE`` checks that every exported head is still in the chain,
unchanged: a rewrite of the history before the newest export is then detected even if the
attacker also had the key.

The chain is verified before anything is sent: a broken chain is never "blessed" by a new
export; the e-mail recipients get an alert instead. Publishing is idempotent: if the head has
not moved since the last publication, nothing is sent (``--force`` sends it again).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import anchor, keyring
from carbet.audit.models import AuditEntry
from carbet.audit.verification import VerifyReport, verify

logger = logging.getLogger(__name__)


class AnchorSinkError(Exception):
    """Nothing could be published (no destination, or a broken chain), in French."""


@dataclass
class PublishResult:
    line: str | None = None
    sequence: int = 0
    skipped: bool = False
    emailed: list[str] = field(default_factory=list)
    file: Path | None = None
    errors: list[str] = field(default_factory=list)


def destinations() -> tuple[list[str], Path | None]:
    emails = [e for e in getattr(settings, "CARBET_AUDIT_ANCHOR_EMAIL", None) or [] if e]
    path = getattr(settings, "CARBET_AUDIT_ANCHOR_FILE", None)
    return emails, Path(path) if path else None


def _state_path() -> Path:
    return anchor.head_path().with_name("published")


def _append_line(path: Path, line: str) -> None:
    """Append-only: the file is never rewritten, only extended (O_APPEND), and synced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _send(recipients: list[str], subject: str, body: str) -> None:
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients).send()


def _alert(recipients: list[str], report: VerifyReport) -> None:
    listing = "\n".join(f"  #{p.sequence} : {p.problem}" for p in report.problems[:50])
    body = _(
        "Le journal d'audit de Carbet ne se vérifie plus : aucune nouvelle ancre n'a été "
        "envoyée.\n\nProblèmes trouvés :\n%(listing)s\n\nNe corrigez rien sur le serveur : "
        "copiez la base et le répertoire de données, puis traitez-le comme un incident de "
        "sécurité. Les ancres reçues jusqu'ici permettent de savoir ce qui a été réécrit "
        "(carbet audit verify --anchor FICHIER)."
    ) % {"listing": listing}
    _send(recipients, _("ALERTE Carbet : journal d'audit altéré"), body)


def publish(*, force: bool = False) -> PublishResult:
    emails, path = destinations()
    if not emails and path is None:
        raise AnchorSinkError(
            _(
                "Aucune destination d'ancrage configurée : renseignez CARBET_AUDIT_ANCHOR_EMAIL "
                "(adresse du centre) et/ou CARBET_AUDIT_ANCHOR_FILE (fichier sur une autre "
                "machine)."
            )
        )
    report = verify()
    if not report.ok:
        if emails:
            try:
                _alert(emails, report)
            except Exception:  # the refusal below matters more than the alert's delivery
                logger.exception("audit anchor alert could not be sent")
        raise AnchorSinkError(
            _(
                "Journal d'audit altéré (%(p)d problème(s)) : aucune ancre envoyée. Lancez "
                "« carbet audit verify » pour la liste."
            )
            % {"p": len(report.problems)}
        )
    last = AuditEntry.objects.order_by("-sequence").values_list("sequence", "entry_hash").first()
    if last is None:
        return PublishResult(skipped=True)
    sequence, seal = last
    state = _state_path()
    try:
        published = state.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        published = ""
    if published == f"{sequence} {seal}" and not force:
        return PublishResult(sequence=sequence, skipped=True)
    key = keyring.current()
    if key is None:  # a verified chain with entries always has its key
        raise AnchorSinkError(_("Clé du journal introuvable : rien n'est envoyé."))
    line = anchor.export_line(sequence, seal, key, timezone.now())
    result = PublishResult(line=line, sequence=sequence)
    if path is not None:
        try:
            _append_line(path, line)
            result.file = path
        except OSError as exc:
            result.errors.append(_("fichier %(path)s : %(e)s") % {"path": path, "e": exc})
    if emails:
        body = _(
            "Ancre du journal d'audit de Carbet (entrée n° %(seq)d).\n\n"
            "Conservez ce message : il prouve l'état du journal à cette date. En cas de doute "
            "sur le journal, enregistrez ces messages dans un fichier et lancez\n"
            "  carbet audit verify --anchor FICHIER\n"
            "Toute entrée réécrite ou supprimée avant cette ancre sera signalée.\n\n%(line)s\n"
        ) % {"seq": sequence, "line": line}
        try:
            _send(
                emails, _("Carbet : ancre du journal d'audit n° %(seq)d") % {"seq": sequence}, body
            )
            result.emailed = emails
        except Exception as exc:  # smtplib, socket and DNS errors all end here
            result.errors.append(_("courriel : %(e)s") % {"e": exc})
    if not result.errors:
        state.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{sequence} {seal}\n")
    return result
