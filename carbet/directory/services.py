"""Directory audits: connections, online collection, uploads, analysis, findings.

Every path that reads a structure's directory — online collection, an uploaded snapshot, an
imported PingCastle report — first passes the mandate gate for "directory audit"; the refusal
is in the audit trail. Analyses write their findings through the ingest service (one complete
stream per domain, so a fixed weakness closes its finding) and keep the snapshot, encrypted,
so the audit can be analysed again when the rules change.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core import contract, mandates
from carbet.core.access import require
from carbet.core.choices import AssetKind
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.directory import server_scope
from carbet.directory.models import (
    AuditOrigin,
    AuditStatus,
    DirectoryAudit,
    DirectoryConnection,
    RuleException,
)
from carbet.directory.results import result_to_dict
from carbet.directory.service import DIRECTORY_MANDATE, DirectoryPerm
from carbet.engines.directory.model import UAC_ACCOUNTDISABLE
from carbet.jobs import services as jobs

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_TEXT = 4000


@dataclass(frozen=True)
class ConnectionData:
    label: str
    asset: Asset
    server: str
    port: int | None
    starttls: bool
    ca_pem: str
    insecure: bool
    base_dn: str
    bind_user: str
    bind_password: str  # empty on edit = keep the stored one


def _check_domain_asset(structure: Structure, asset: Asset) -> None:
    if asset.structure_id != structure.pk or asset.kind != AssetKind.AD_DOMAIN:
        raise ValidationError(
            {"asset": _("Choisissez un domaine Active Directory déclaré par cette structure.")}
        )


def save_connection(
    actor: Actor,
    structure: Structure,
    data: ConnectionData,
    *,
    connection: DirectoryConnection | None = None,
    ip: str | None = None,
) -> DirectoryConnection:
    require(actor, DirectoryPerm.CONNECTION, structure)
    _check_domain_asset(structure, data.asset)
    if connection is None and not data.bind_password:
        raise ValidationError({"bind_password": _("Le mot de passe est obligatoire.")})
    # Every save re-checks the server (a changed server, or a proof withdrawn since).
    refusal = server_scope.save_refusal(structure, data.server, data.port)
    if refusal is not None:
        audit.record(
            actor,
            "directory.connection.refused",
            connection or structure,
            structure=structure,
            changes={"stage": "save", "server": data.server[:255], "reason": refusal},
            ip=ip,
        )
        raise ValidationError({"server": refusal})
    creating = connection is None
    connection = connection or DirectoryConnection(structure=structure, created_by=actor)
    for name in ("label", "asset", "server", "port", "starttls", "ca_pem", "insecure"):
        setattr(connection, name, getattr(data, name))
    connection.base_dn = data.base_dn
    connection.bind_user = data.bind_user
    password_changed = bool(data.bind_password)
    if password_changed:
        connection.bind_password = data.bind_password
    connection.full_clean(exclude=["created_by"])
    connection.save()
    audit.record(
        actor,
        "directory.connection.create" if creating else "directory.connection.update",
        connection,
        structure=structure,
        # Never the secret itself: only that it changed.
        changes={
            "server": connection.server,
            "bind_user": connection.bind_user,
            "password_changed": password_changed,
        },
        ip=ip,
    )
    return connection


def delete_connection(actor: Actor, connection: DirectoryConnection, *, ip: str | None = None):
    require(actor, DirectoryPerm.CONNECTION, connection.structure)
    audit.record(
        actor, "directory.connection.delete", connection, structure=connection.structure, ip=ip
    )
    connection.delete()


# --- Starting audits ---------------------------------------------------------------------------


def _server_refusal(
    actor: Actor, connection: DirectoryConnection, stage: str, *, addresses: bool, ip=None
) -> None:
    """A server outside the structure's proven scope, without asking DNS: refused, audited.

    A name must be a proven name or lie under the proven AD domain; with ``addresses``, an IP
    literal must be allowed by the policy too (when queueing: a clear answer at once). At
    collection time addresses are left to the engine, which checks the very address it
    connects to — after resolving the name.
    """
    host, port = server_scope.split(connection.server, connection.port)
    refusal = server_scope.name_refusal(connection.structure, host)
    if refusal is None and addresses and server_scope.is_address(host):
        refusal = server_scope.save_refusal(connection.structure, connection.server, port)
    if refusal is not None:
        audit.record(
            actor,
            "directory.connection.refused",
            connection,
            structure=connection.structure,
            changes={"stage": stage, "server": connection.server, "reason": refusal},
            ip=ip,
        )
        raise ValidationError({"server": refusal})


def request_online_audit(
    actor: Actor, connection: DirectoryConnection, *, ip: str | None = None
) -> DirectoryAudit:
    """Queue an online collection + analysis, if a valid mandate covers the domain."""
    structure = connection.structure
    require(actor, DirectoryPerm.RUN, structure)
    mandates.require_mandate(actor, structure, DIRECTORY_MANDATE, asset=connection.asset, ip=ip)
    _server_refusal(actor, connection, "request", addresses=True, ip=ip)
    with transaction.atomic():
        audit_row = DirectoryAudit.objects.create(
            structure=structure,
            connection=connection,
            origin=AuditOrigin.ONLINE,
            domain=connection.asset.value,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_row.job = jobs.submit(
            "directory.audit",
            actor=actor,
            structure=structure,
            params={"audit": audit_row.pk},
            title=_("Audit de l'annuaire %(domain)s") % {"domain": audit_row.domain},
        )
        audit_row.save(update_fields=["job"])
        audit.record(actor, "directory.audit.request", audit_row, structure=structure, ip=ip)
    return audit_row


def upload(
    actor: Actor,
    structure: Structure,
    data: bytes,
    *,
    filename: str,
    kind: str,
    passphrase: str = "",
    ip: str | None = None,
) -> DirectoryAudit:
    """Accept a snapshot or a PingCastle report; it is read now (clear errors at once) and
    analysed as a job."""
    require(actor, DirectoryPerm.UPLOAD, structure)
    mandates.require_mandate(actor, structure, DIRECTORY_MANDATE, ip=ip)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("Le fichier dépasse 200 Mo."))
    if kind == AuditOrigin.PINGCASTLE:
        result = _parse_pingcastle(data)
        return _store_pingcastle(actor, structure, result, data, filename, ip)
    snap = _read_snapshot(data, passphrase)
    with transaction.atomic():
        audit_row = DirectoryAudit.objects.create(
            structure=structure,
            origin=AuditOrigin.SNAPSHOT,
            domain=snap.domain.dns_name[:255],
            collected_at=snap.collected_at,
            source_name=filename[:255],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        _keep_snapshot(audit_row, snap)
        audit_row.save()
        _submit_analysis(actor, audit_row)
        audit.record(
            actor,
            "directory.snapshot.upload",
            audit_row,
            structure=structure,
            changes={"file": filename[:255], "sha256": audit_row.snapshot_sha256},
            ip=ip,
        )
    return audit_row


def reanalyse(actor: Actor, previous: DirectoryAudit, *, ip: str | None = None) -> DirectoryAudit:
    """Analyse a kept snapshot again (new rules, new exceptions) as a new audit."""
    structure = previous.structure
    require(actor, DirectoryPerm.RUN, structure)
    if not previous.snapshot:
        raise ValidationError(_("Cet audit n'a pas d'instantané à analyser de nouveau."))
    mandates.require_mandate(actor, structure, DIRECTORY_MANDATE, ip=ip)
    with transaction.atomic():
        audit_row = DirectoryAudit.objects.create(
            structure=structure,
            connection=previous.connection,
            origin=AuditOrigin.REANALYSIS,
            domain=previous.domain,
            collected_at=previous.collected_at,
            snapshot=previous.snapshot,
            snapshot_sha256=previous.snapshot_sha256,
            counts=previous.counts,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        _submit_analysis(actor, audit_row)
        audit.record(actor, "directory.audit.reanalyse", audit_row, structure=structure, ip=ip)
    return audit_row


def _submit_analysis(actor: Actor, audit_row: DirectoryAudit) -> None:
    audit_row.job = jobs.submit(
        "directory.analyse",
        actor=actor,
        structure=audit_row.structure,
        params={"audit": audit_row.pk},
        title=_("Analyse de l'annuaire %(domain)s") % {"domain": audit_row.domain},
    )
    audit_row.save(update_fields=["job"])


# --- Snapshots ---------------------------------------------------------------------------------


def _read_snapshot(data: bytes, passphrase: str = ""):
    from carbet.engines.directory import snapshot as snapshot_format

    try:
        return snapshot_format.read(data, passphrase=passphrase or None)
    except snapshot_format.SnapshotError as exc:
        raise ValidationError(_("Instantané illisible : %(reason)s") % {"reason": exc}) from None


def _keep_snapshot(audit_row: DirectoryAudit, snap: Any) -> None:
    """Store the snapshot re-encoded (no passphrase) under the platform's encryption keys."""
    from carbet.engines.directory import snapshot as snapshot_format

    buffer = io.BytesIO()
    snapshot_format.write(snap, buffer)
    raw = buffer.getvalue()
    audit_row.snapshot = base64.b64encode(raw).decode("ascii")
    audit_row.snapshot_sha256 = hashlib.sha256(raw).hexdigest()
    audit_row.counts = {
        "users": len(snap.users),
        "computers": len(snap.computers),
        "groups": len(snap.groups),
        "trusts": len(snap.trusts),
        "gpos": len(snap.gpos),
        "systems": operating_systems(snap),
    }


def operating_systems(snap: Any) -> dict[str, int]:
    """How many enabled computers run each operating system ("name|version": count), for the
    software inventory (``carbet.directory.inventory``)."""
    found: dict[str, int] = {}
    for computer in snap.computers:
        if not computer.os_name or computer.uac & UAC_ACCOUNTDISABLE:
            continue
        key = f"{computer.os_name.strip()}|{computer.os_version.strip()}"
        found[key] = found.get(key, 0) + 1
    return found


def load_snapshot(audit_row: DirectoryAudit):
    from carbet.engines.directory import snapshot as snapshot_format

    return snapshot_format.read(base64.b64decode(audit_row.snapshot))


def _parse_pingcastle(data: bytes):
    from carbet.engines.directory import pingcastle

    try:
        return pingcastle.parse(data)
    except pingcastle.PingCastleError as exc:
        raise ValidationError(
            _("Rapport PingCastle illisible : %(reason)s") % {"reason": exc}
        ) from None


def _store_pingcastle(actor, structure, result, data, filename, ip) -> DirectoryAudit:
    with transaction.atomic():
        audit_row = DirectoryAudit.objects.create(
            structure=structure,
            origin=AuditOrigin.PINGCASTLE,
            domain=str(result.domain)[:255],
            collected_at=getattr(result, "generated_at", None) or timezone.now(),
            source_name=filename[:255],
            snapshot_sha256=hashlib.sha256(data).hexdigest(),
            status=AuditStatus.RUNNING,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor,
            "directory.pingcastle.import",
            audit_row,
            structure=structure,
            changes={"file": filename[:255], "sha256": audit_row.snapshot_sha256},
            ip=ip,
        )
        finish(audit_row, result, actor=actor)
    return audit_row


# --- Running (job handlers call these) -----------------------------------------------------


def collect_online(audit_row: DirectoryAudit, progress: Callable[[str, int], None]) -> Any:
    """Collect the connection's directory; the mandate is checked again at run time."""
    connection = audit_row.connection
    if connection is None:
        raise ValidationError(_("La connexion à l'annuaire a été supprimée."))
    mandates.require_mandate(SYSTEM, audit_row.structure, DIRECTORY_MANDATE, asset=connection.asset)
    _server_refusal(SYSTEM, connection, "collect", addresses=False)
    from carbet.engines.directory import collector

    # Built now, right before the socket opens: the proofs and claims of this moment.
    policy = server_scope.collect_policy(audit_row.structure)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as ca_file:
        ca_path = None
        if connection.ca_pem.strip():
            ca_file.write(connection.ca_pem)
            ca_file.flush()
            ca_path = ca_file.name
        try:
            snap = collector.collect(
                connection.server,
                connection.port,
                connection.bind_user,
                connection.bind_password,
                starttls=connection.starttls,
                ca_file=ca_path,
                insecure=connection.insecure,
                base_dn=connection.base_dn or None,
                progress=progress,
                policy=policy,
                nameserver=server_scope.nameserver(),
            )
        except collector.ServerRefused as exc:
            audit.record(
                SYSTEM,
                "directory.connection.refused",
                connection,
                structure=audit_row.structure,
                changes={
                    "stage": "connect",
                    "audit": audit_row.pk,
                    "server": connection.server,
                    "resolved": exc.resolved[:8],
                    "refused": [refusal.as_dict() for refusal in exc.refusals[:8]],
                },
            )
            raise
    connection.last_used_at = timezone.now()
    connection.save(update_fields=["last_used_at"])
    return snap


def active_exceptions(structure: Structure, today=None) -> list[Any]:
    from carbet.engines.directory.analysis import RuleException as EngineException

    today = today or timezone.localdate()
    rows = RuleException.objects.filter(structure=structure, revoked=False, expires_on__gte=today)
    return [
        EngineException(
            rule=row.rule,
            object=row.object_name,
            justification=row.justification,
            expires=row.expires_on,
        )
        for row in rows
    ]


def analyse_kept(audit_row: DirectoryAudit, now: datetime | None = None) -> Any:
    from carbet.engines.directory.analysis import analyse

    snap = load_snapshot(audit_row)
    audit_row.domain = snap.domain.dns_name[:255] or audit_row.domain
    audit_row.collected_at = snap.collected_at
    return analyse(snap, now=now, exceptions=active_exceptions(audit_row.structure))


def finish(
    audit_row: DirectoryAudit, result: Any, *, actor: Actor = SYSTEM, write: bool = True
) -> DirectoryAudit:
    """Store an analysis, compare with the previous audit, write findings, tell the roadmap."""
    from carbet.directory.findings import write_findings

    data = result_to_dict(result)
    scores = data["score"]
    audit_row.result = data
    audit_row.domain = (data["domain"] or audit_row.domain)[:255]
    audit_row.anssi_level = data["anssi_level"]
    audit_row.score_global = scores.get("global")
    audit_row.score_stale = scores.get("stale_objects")
    audit_row.score_privileged = scores.get("privileged_accounts")
    audit_row.score_trusts = scores.get("trusts")
    audit_row.score_anomalies = scores.get("anomalies")
    audit_row.rule_count = len([f for f in data["findings"] if f["points"] or f["objects"]])
    audit_row.exploitable_count = len([f for f in data["findings"] if f["exploitable_now"]])
    previous = previous_audit(audit_row)
    now_rules = {f["rule"] for f in data["findings"] if not f["fully_excepted"]}
    if previous is not None:
        before = {
            f["rule"] for f in previous.result.get("findings", []) if not f.get("fully_excepted")
        }
        audit_row.new_rules = sorted(now_rules - before)
        audit_row.fixed_rules = sorted(before - now_rules)
    else:
        audit_row.new_rules, audit_row.fixed_rules = sorted(now_rules), []
    audit_row.status = AuditStatus.DONE
    audit_row.analysed_at = timezone.now()
    audit_row.error = ""
    audit_row.save()
    if write:
        write_findings(audit_row, data, actor=actor)
    _tell_roadmap(audit_row)
    return audit_row


def fail(audit_row: DirectoryAudit, message: str) -> None:
    audit_row.status = AuditStatus.FAILED
    audit_row.error = message[:MAX_TEXT]
    audit_row.save(update_fields=["status", "error"])


def previous_audit(audit_row: DirectoryAudit) -> DirectoryAudit | None:
    return (
        DirectoryAudit.objects.filter(
            structure=audit_row.structure,
            domain=audit_row.domain,
            status=AuditStatus.DONE,
            created_at__lt=audit_row.created_at,
        )
        .exclude(pk=audit_row.pk)
        .order_by("-created_at")
        .first()
    )


def _tell_roadmap(audit_row: DirectoryAudit) -> None:
    """Automatic evidence for the roadmap (a directory audit reaching level N)."""
    contract.record_evidence(
        audit_row.structure,
        "directory_audit",
        at=audit_row.analysed_at,
        # The domain is the scope: the roadmap reads the latest audit of each domain.
        value={
            "anssi_level": audit_row.anssi_level,
            "score": audit_row.score_global,
            "scope": audit_row.domain,
        },
        reference=f"directory-audit:{audit_row.pk}",
    )


# --- Exceptions --------------------------------------------------------------------------------


def add_exception(
    actor: Actor,
    structure: Structure,
    *,
    rule: str,
    object_name: str,
    justification: str,
    expires_on,
    ip: str | None = None,
) -> RuleException:
    require(actor, DirectoryPerm.EXCEPTION, structure)
    if not justification.strip():
        raise ValidationError({"justification": _("Une justification est obligatoire.")})
    if expires_on <= timezone.localdate():
        raise ValidationError({"expires_on": _("La date de fin doit être dans le futur.")})
    if (expires_on - timezone.localdate()).days > 3 * 366:
        raise ValidationError({"expires_on": _("Une exception dure au plus trois ans.")})
    row = RuleException.objects.create(
        structure=structure,
        rule=rule[:80],
        object_name=(object_name or "*")[:255],
        justification=justification[:MAX_TEXT],
        expires_on=expires_on,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(
        actor,
        "directory.exception.create",
        row,
        structure=structure,
        changes={"rule": row.rule, "object": row.object_name, "expires_on": str(expires_on)},
        ip=ip,
    )
    return row


def revoke_exception(actor: Actor, row: RuleException, *, ip: str | None = None) -> None:
    require(actor, DirectoryPerm.EXCEPTION, row.structure)
    row.revoked = True
    row.save(update_fields=["revoked"])
    audit.record(actor, "directory.exception.revoke", row, structure=row.structure, ip=ip)
