"""Ownership of assets: proven, never declared — and the scope every platform scan is held to.

A structure's own word that an asset is its own ("validated") decides nothing: a director could
declare another hospital's address and validate it. An asset becomes contactable only when

* its ownership is **proven**: the structure's token in a DNS TXT record or a web file for
  names, a proven parent domain, or the centre's review (who, when, how) for addresses and
  networks; and
* **no other structure claims it**: the same name or an overlapping address declared by two
  structures puts both in conflict until the centre rejects one or marks them shared (shared
  hosting is legitimate).

``connect_policy`` turns the registry into the :class:`~carbet.engines.netpolicy.ConnectPolicy`
the engines apply **at connect time** to every address they are about to use, whatever name,
MX, CNAME or redirect led there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.choices import AssetKind, Ownership, ProofMethod
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines import netpolicy
from carbet.engines import ownership as engine

NAME_KINDS = (AssetKind.DOMAIN, AssetKind.HOSTNAME, AssetKind.MAIL_DOMAIN, AssetKind.AD_DOMAIN)
ADDRESS_KINDS = (AssetKind.IPV4, AssetKind.IPV6, AssetKind.CIDR)
PROOF_FIELDS = ["proven_at", "proof_method", "proven_by", "proof_note"]


def _user(actor: Actor) -> Any:
    return actor if getattr(actor, "pk", None) else None


# --- The token and what to publish ----------------------------------------------------------------


def proof_token(structure: Structure) -> str:
    """The structure's token, created on first use (one per structure, never shown to others)."""
    if not structure.proof_token:
        token = engine.new_token()
        updated = Structure.objects.filter(pk=structure.pk, proof_token="").update(
            proof_token=token
        )
        if not updated:  # another request created it first
            token = Structure.objects.values_list("proof_token", flat=True).get(pk=structure.pk)
        structure.proof_token = token
    return structure.proof_token


@dataclass(frozen=True)
class ProofInstructions:
    """What a structure publishes to prove a name: the DNS record and the web file."""

    txt_name: str
    txt_value: str
    file_url: str
    file_content: str


def instructions(asset: Asset) -> ProofInstructions | None:
    """The record and file that prove ``asset`` (None for addresses: the centre reviews them)."""
    if asset.kind not in NAME_KINDS:
        return None
    token = proof_token(asset.structure)
    return ProofInstructions(
        txt_name=f"{engine.TXT_LABEL}.{asset.value}",
        txt_value=engine.expected_value(token),
        file_url=f"https://{asset.value}{engine.WELL_KNOWN_PATH}",
        file_content=token,
    )


# --- The gate's question ------------------------------------------------------------------------


def refusal(asset: Asset) -> str | None:
    """Why no service may contact ``asset`` (French, for a person), or None when it may."""
    state = asset.ownership
    if state == Ownership.PROVEN:
        return None
    if state == Ownership.REJECTED:
        return _(
            "Le centre a écarté l'actif « %(value)s » : il appartient à une autre structure."
        ) % {"value": asset.value}
    if state == Ownership.CONFLICT:
        return _(
            "L'actif « %(value)s » est aussi déclaré par une autre structure : rien ne sera "
            "analysé tant que le centre n'a pas tranché."
        ) % {"value": asset.value}
    if asset.kind in NAME_KINDS:
        return _(
            "La propriété de l'actif « %(value)s » n'est pas encore prouvée : publiez "
            "l'enregistrement DNS ou le fichier indiqué sur la fiche de l'actif, puis "
            "cliquez sur « Vérifier »."
        ) % {"value": asset.value}
    return _(
        "La propriété de l'adresse « %(value)s » n'est pas encore prouvée : le centre doit "
        "la vérifier (registre des adresses, contrat d'hébergement)."
    ) % {"value": asset.value}


def scannable(queryset: Any) -> Any:
    """Restrict an Asset queryset to proven assets that nobody else claims."""
    return queryset.filter(proven_at__isnull=False, in_conflict=False, rejected=False)


# --- Conflicts -----------------------------------------------------------------------------------


def _candidates(asset: Asset) -> Any:
    """Other structures' live declarations that might collide with ``asset`` (cheap filter)."""
    others = Asset.objects.visible_to(SYSTEM).exclude(structure_id=asset.structure_id)
    others = others.filter(rejected=False)
    if asset.kind in NAME_KINDS:
        return others.filter(kind__in=NAME_KINDS).filter(
            Q(value__iexact=asset.value)
            | Q(value__in=engine.parent_names(asset.value.lower()))
            | Q(value__iendswith="." + asset.value)
        )
    if asset.kind in ADDRESS_KINDS:
        return others.filter(kind__in=ADDRESS_KINDS)
    return others.none()


def rivals(asset: Asset) -> list[Asset]:
    """Other structures' declarations overlapping ``asset`` (same name, overlapping addresses)."""
    return [
        other
        for other in _candidates(asset)
        if engine.overlaps(asset.kind, asset.value, other.kind, other.value)
    ]


def _blocking(asset: Asset, found: list[Asset]) -> list[Asset]:
    """The rivals that block ``asset``: all of them, unless the centre marked both shared."""
    if asset.shared:
        return [other for other in found if not other.shared]
    return found


def refresh_conflicts(asset: Asset) -> list[Asset]:
    """Recompute the conflict flag of ``asset`` and of each rival; return the rivals."""
    found = rivals(asset) if not asset.rejected else []
    touched = [asset]
    for other in found:
        other_rivals = rivals(other)
        state = bool(_blocking(other, other_rivals))
        if other.in_conflict != state:
            other.in_conflict = state
            touched.append(other)
    asset.in_conflict = bool(_blocking(asset, found))
    for row in touched:
        Asset.objects.filter(pk=row.pk).update(in_conflict=row.in_conflict)
    return found


def release_rivals_of(asset: Asset) -> None:
    """After ``asset`` is deleted or rejected: its former rivals may be free again."""
    for other in rivals(asset):
        state = bool(_blocking(other, [r for r in rivals(other) if r.pk != asset.pk]))
        if other.in_conflict != state:
            Asset.objects.filter(pk=other.pk).update(in_conflict=state)


def withdraw_proof(asset: Asset) -> None:
    """What an asset designates changed: the old proof proves nothing about the new value."""
    asset.proven_at, asset.proof_method, asset.proven_by, asset.proof_note = None, "", None, ""


# --- Proving ------------------------------------------------------------------------------------


def _mark_proven(
    actor: Actor, asset: Asset, method: ProofMethod, note: str, ip: str | None
) -> None:
    asset.proven_at, asset.proof_method = timezone.now(), method
    asset.proven_by, asset.proof_note = _user(actor), note[:2000]
    asset.save(update_fields=PROOF_FIELDS)
    audit.record(
        actor,
        "asset.prove",
        asset,
        changes={"method": str(method), "note": asset.proof_note, "value": asset.value},
        ip=ip,
    )


def _proven_parent(asset: Asset) -> Asset | None:
    """A proven domain of the same structure above ``asset``'s name (its zone is theirs)."""
    parents = engine.parent_names(asset.value)
    if not parents:
        return None
    candidates = scannable(
        Asset.objects.visible_to(SYSTEM).filter(
            structure_id=asset.structure_id,
            kind__in=(AssetKind.DOMAIN, AssetKind.MAIL_DOMAIN),
            value__in=parents,
        )
    )
    return candidates.exclude(proof_method=ProofMethod.CENTRE_REVIEW).first() or candidates.first()


def _proof_policy() -> netpolicy.ConnectPolicy:
    """The web-file fetch connects to the name's addresses: held to the public-only rule."""
    return connect_policy(None)


def _check_name_over_network(asset: Asset) -> engine.ProofCheck:
    token = proof_token(asset.structure)
    ports = settings.CARBET_PROOF_WEB_PORTS
    return asyncio.run(
        engine.check_name(
            asset.value,
            token,
            _proof_policy(),
            nameserver=settings.CARBET_EXPOSURE_NAMESERVER or None,
            https_port=ports[0],
            http_port=ports[1],
            web=asset.kind in (AssetKind.DOMAIN, AssetKind.HOSTNAME),
        )
    )


@dataclass(frozen=True)
class VerifyOutcome:
    proven: bool
    message: str


def verify(actor: Actor, asset: Asset, *, ip: str | None = None) -> VerifyOutcome:
    """Look for the structure's token (or a proven parent domain) and record the proof."""
    require(actor, Perm.ASSET_EDIT, asset.structure)
    if asset.kind not in NAME_KINDS:
        return VerifyOutcome(
            False,
            _(
                "Une adresse ne peut pas porter de jeton : le centre vérifie lui-même qu'elle "
                "vous appartient."
            ),
        )
    parent = _proven_parent(asset)
    if parent is not None:
        _mark_proven(
            actor,
            asset,
            ProofMethod.PARENT_DOMAIN,
            _("sous le domaine prouvé %(parent)s") % {"parent": parent.value},
            ip,
        )
        return VerifyOutcome(
            True,
            _("La propriété de « %(value)s » est prouvée par celle du domaine %(parent)s.")
            % {"value": asset.value, "parent": parent.value},
        )
    check = _check_name_over_network(asset)
    if check.proven:
        method = ProofMethod.DNS_TXT if check.method == "dns_txt" else ProofMethod.WEB_FILE
        _mark_proven(actor, asset, method, check.detail, ip)
        return VerifyOutcome(
            True, _("La propriété de « %(value)s » est prouvée.") % {"value": asset.value}
        )
    audit.record(
        actor,
        "asset.prove_failed",
        asset,
        changes={
            "value": asset.value,
            "tried": check.tried,
            "refused": [r.as_dict() for r in check.refusals],
        },
        ip=ip,
    )
    message = _(
        "Le jeton n'a pas été trouvé pour « %(value)s » : vérifiez l'enregistrement DNS ou le "
        "fichier (la propagation DNS peut prendre une heure), puis réessayez."
    ) % {"value": asset.value}
    if check.refusals:
        message += " " + _(
            "Certaines adresses de ce nom n'ont pas été contactées (%(reasons)s)."
        ) % {"reasons": "; ".join(netpolicy.REASONS[r.reason] for r in check.refusals[:3])}
    return VerifyOutcome(False, message)


@transaction.atomic
def record_review(actor: Actor, asset: Asset, note: str, *, ip: str | None = None) -> None:
    """The centre checked who holds the asset (address registry, contract): record who and how."""
    require(actor, Perm.ASSET_PROVE, asset.structure)
    note = (note or "").strip()
    if len(note) < 10:
        raise ValidationError(
            {
                "note": _(
                    "Dites comment la propriété a été vérifiée (ex. « registre RIPE : "
                    "attribué au CH », « contrat d'hébergement du 12/03 »)."
                )
            }
        )
    _mark_proven(actor, asset, ProofMethod.CENTRE_REVIEW, note, ip)


@transaction.atomic
def resolve_conflict(
    actor: Actor, asset: Asset, decision: str, note: str, *, ip: str | None = None
) -> list[Asset]:
    """The centre decides a conflict around ``asset``.

    ``decision``: ``"owner"`` — ``asset``'s structure holds it, every rival is rejected;
    ``"shared"`` — shared hosting, ``asset`` and every rival stay, marked shared (each still
    needs its own proof). Returns the rivals concerned.
    """
    require(actor, Perm.ASSET_PROVE, asset.structure)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Indiquez le motif de la décision.")})
    found = rivals(asset)
    if not found:
        raise ValidationError(_("Cet actif n'est en conflit avec aucune autre structure."))
    if decision == "owner":
        for other in found:
            other.rejected, other.in_conflict, other.shared = True, False, False
            withdraw_proof(other)
            other.save(update_fields=["rejected", "in_conflict", "shared", *PROOF_FIELDS])
            audit.record(
                actor, "asset.reject", other, changes={"value": other.value, "note": note}, ip=ip
            )
        asset.shared = False
        asset.save(update_fields=["shared"])
    elif decision == "shared":
        for row in (asset, *found):
            row.shared = True
            row.save(update_fields=["shared"])
    else:
        raise ValidationError(_("Décision inconnue."))
    refresh_conflicts(asset)
    audit.record(
        actor,
        "asset.conflict_resolve",
        asset,
        changes={
            "decision": decision,
            "note": note,
            "rivals": [{"structure": o.structure_id, "value": o.value} for o in found],
        },
        ip=ip,
    )
    return found


# --- The connect-time policy ---------------------------------------------------------------------


def centre_networks() -> tuple[netpolicy.IPNetwork, ...]:
    return netpolicy.parse_networks(settings.CARBET_CENTRE_NETWORKS)


def _foreign(structure: Structure | None) -> tuple[list[str], set[str]]:
    """Addresses/networks and names declared by structures other than ``structure``.

    A rival the centre marked shared with one of ``structure``'s own shared declarations is
    not foreign: shared hosting is scanned through each structure that shares it.
    """
    rows = Asset.objects.visible_to(SYSTEM).filter(rejected=False)
    rows = rows.filter(kind__in=(*NAME_KINDS, *ADDRESS_KINDS))
    own_shared: list[tuple[str, str]] = []
    if structure is not None:
        rows = rows.exclude(structure_id=structure.pk)
        own_shared = list(
            Asset.objects.visible_to(SYSTEM)
            .filter(structure_id=structure.pk, shared=True)
            .values_list("kind", "value")
        )
    networks: list[str] = []
    names: set[str] = set()
    for kind, value, shared in rows.values_list("kind", "value", "shared").iterator():
        if shared and any(engine.overlaps(kind, value, k, v) for k, v in own_shared):
            continue
        if kind in NAME_KINDS:
            names.add(value.lower())
        elif not engine.is_internal(kind, value):
            networks.append(value)
    return networks, names


def connect_policy(
    structure: Structure | None, *, allowed: list[str] | None = None
) -> netpolicy.ConnectPolicy:
    """The policy binding every connection made through the platform for ``structure``.

    Public addresses only (loopback too when the lab setting allows it), never the centre's own
    ranges, never another structure's declared address or name; with ``allowed``, only those
    addresses (a directory server). ``structure=None``: public-only, no structure context.
    """
    networks, names = _foreign(structure) if structure is not None else ([], set())
    return netpolicy.ConnectPolicy(
        allow_loopback=settings.CARBET_ALLOW_LOOPBACK_ASSETS,
        centre_networks=centre_networks(),
        foreign_networks=netpolicy.parse_networks(networks),
        foreign_names=frozenset(names),
        allowed_networks=netpolicy.parse_networks(allowed) if allowed is not None else None,
    )


def proven_addresses(structure: Structure) -> list[str]:
    """The structure's proven, unclaimed addresses and networks (a directory server's scope)."""
    rows = scannable(
        Asset.objects.visible_to(SYSTEM).filter(structure_id=structure.pk, kind__in=ADDRESS_KINDS)
    )
    return list(rows.values_list("value", flat=True))


def proven_names(structure: Structure, kinds: tuple[str, ...] = NAME_KINDS) -> list[str]:
    rows = scannable(
        Asset.objects.visible_to(SYSTEM).filter(structure_id=structure.pk, kind__in=kinds)
    )
    return list(rows.values_list("value", flat=True))


def name_is_covered(name: str, proven: list[str]) -> bool:
    """``name`` is one of ``proven`` or lies under one of them."""
    candidate = name.strip().rstrip(".").lower()
    return any(candidate == p or candidate.endswith("." + p) for p in proven)


def conflicts_of(structure: Structure) -> Any:
    """The structure's assets currently in conflict (for the structure page)."""
    return Asset.objects.visible_to(SYSTEM).filter(structure=structure, in_conflict=True)


def region_conflicts() -> Any:
    """Every asset in conflict, for the centre's review queue."""
    return (
        Asset.objects.visible_to(SYSTEM)
        .filter(Q(in_conflict=True))
        .select_related("structure")
        .order_by("value", "structure__name")
    )


# --- Proofs are re-checked: a domain that lapses or changes hands loses its proof -------------


@dataclass
class RecheckReport:
    checked: int = 0
    kept: int = 0
    lapsed: list[str] | None = None

    def summary(self) -> str:
        lapsed = self.lapsed or []
        return _(
            "%(checked)d preuve(s) vérifiée(s) : %(kept)d toujours en place, %(lapsed)d retirée(s)."
        ) % {"checked": self.checked, "kept": self.kept, "lapsed": len(lapsed)}


def _lapse(asset: Asset, why: str) -> None:
    method = asset.proof_method
    withdraw_proof(asset)
    asset.save(update_fields=PROOF_FIELDS)
    audit.record(
        SYSTEM,
        "asset.proof_lapsed",
        asset,
        changes={"value": asset.value, "method": method, "why": why},
    )


def recheck(structure: Structure | None = None) -> RecheckReport:
    """Look again for every token-based proof; withdraw the ones no longer published.

    A name proven once is not proven forever: a domain can expire and be bought by someone
    else, or a hosting can change hands. Token proofs (DNS, web file) are checked again, and a
    name proven through a parent domain follows its parent. The centre's reviews stay until the
    centre withdraws them. A withdrawn proof is audited; the structure proves the name again
    with "Vérifier".
    """
    report = RecheckReport(lapsed=[])
    rows = Asset.objects.visible_to(SYSTEM).filter(
        proven_at__isnull=False,
        proof_method__in=(ProofMethod.DNS_TXT, ProofMethod.WEB_FILE, ProofMethod.PARENT_DOMAIN),
    )
    if structure is not None:
        rows = rows.filter(structure=structure)
    # Token proofs first, so that a parent's lapse is known when its children are looked at.
    ordered = sorted(
        rows.select_related("structure"),
        key=lambda a: a.proof_method == ProofMethod.PARENT_DOMAIN,
    )
    for asset in ordered:
        report.checked += 1
        if asset.proof_method == ProofMethod.PARENT_DOMAIN:
            kept = _proven_parent(asset) is not None
            why = "le domaine parent n'est plus prouvé"
        else:
            check = _check_name_over_network(asset)
            kept = check.proven
            why = check.detail or "jeton introuvable"
        if kept:
            report.kept += 1
        else:
            _lapse(asset, why)
            report.lapsed.append(asset.value)  # type: ignore[union-attr]
    return report
