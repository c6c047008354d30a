"""Corrective action plans and regional campaigns through the API.

Reads go through ``visible_to`` (another structure's action or evidence is a 404); writes call
the services of ``carbet.findings.plans``, which check the rights (403), validate (422) and
audit. Campaigns are the centre's: structure users get 403 on them and only see a campaign's
notice on their own action.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.core.models import Structure
from carbet.findings.models import ActionEvidence, ActionItem, ActionStatus, Finding, Priority
from carbet.findings.models.plans import Effort, OwnerKind
from carbet.findings.plans import campaigns, selectors, services
from carbet.findings.plans import evidence as evidence_services

router = Router(tags=["plans d'action"])

ACTION_ORDER = ("structure__name", "priority", "due_date")
PATCH_EDIT_FIELDS = {*services.EDITABLE, "findings"}
Text = Field(default="", max_length=services.MAX_TEXT)


# --- Schemas ---------------------------------------------------------------------------------


class CampaignRef(Schema):
    id: int
    title: str
    notice: str


class EvidenceOut(Schema):
    id: int
    action_id: int
    note: str
    has_document: bool
    document_sha256: str
    submitted_at: dt.datetime
    submitted_by: str | None
    approved_at: dt.datetime | None
    approved_by: str | None


class ActionOut(Schema):
    id: int
    structure: StructureRef
    title: str
    why: str
    how: str
    owner_kind: str
    owner_user_id: int | None
    owner_label: str
    owner: str = Field(description="Le responsable, en clair.")
    priority: int = Field(description="1 (immédiat) à 4 (à planifier).")
    effort: str
    cost_estimate: Decimal | None
    funding_source: str
    due_date: dt.date | None
    overdue: bool
    status: str
    status_reason: str
    progress: int
    findings: list[int] = Field(description="Vulnérabilités liées (celles que vous voyez).")
    campaign: CampaignRef | None
    created_at: dt.datetime
    completed_at: dt.datetime | None


class ActionIn(InputSchema):
    structure: ObjectId
    title: str = Field(min_length=1, max_length=200)
    why: str = Text
    how: str = Text
    owner_kind: OwnerKind = OwnerKind.ROLE
    owner_user: ObjectId | None = None
    owner_label: str = Field(default="", max_length=200)
    priority: Priority = Priority.P2
    effort: Effort | None = None
    cost_estimate: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    funding_source: str = Field(default="", max_length=200)
    due_date: dt.date | None = None
    findings: list[ObjectId] = Field(default_factory=list, max_length=5000)


class ActionPatch(InputSchema):
    """Only the fields sent change. Editing needs the right to edit the plan; ``status`` (todo,
    in_progress, done; cancelled with ``status_reason``) and ``progress`` need the right to report
    progress, which the IT provider holds. ``verified`` comes only from approved evidence."""

    title: str = Field(default=None, min_length=1, max_length=200)
    why: str = Field(default=None, max_length=services.MAX_TEXT)
    how: str = Field(default=None, max_length=services.MAX_TEXT)
    owner_kind: OwnerKind = Field(default=None)
    owner_user: ObjectId | None = None
    owner_label: str = Field(default=None, max_length=200)
    priority: Priority = Field(default=None)
    effort: Effort | None = None
    cost_estimate: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    funding_source: str = Field(default=None, max_length=200)
    due_date: dt.date | None = None
    findings: list[ObjectId] = Field(default=None, max_length=5000)
    status: ActionStatus = Field(default=None)
    status_reason: str = Field(default=None, max_length=services.MAX_TEXT)
    progress: int = Field(default=None, ge=0, le=100)
    note: str = Field(default=None, max_length=services.MAX_TEXT)


class FromFindingsIn(InputSchema):
    findings: list[ObjectId] = Field(min_length=1, max_length=5000)
    grouped: bool = Field(
        default=True, description="Vrai : une action pour toutes ; faux : une par vulnérabilité."
    )


class EvidenceIn(InputSchema):
    note: str = Text
    claim_done: bool = False


class ActionFilters(Schema):
    structure: ObjectId | None = None
    status: ActionStatus | None = None
    priority: Priority | None = None
    campaign: ObjectId | None = None
    overdue: bool | None = None


class CampaignStructureOut(Schema):
    structure: StructureRef
    action_id: int | None
    status: str | None
    progress: int | None
    notice_sent_at: dt.datetime | None


class CampaignOut(Schema):
    id: int
    title: str
    description: str
    notice: str
    match_cve: str
    match_rule: str
    match_product: str
    created_at: dt.datetime
    launched_at: dt.datetime | None
    notice_sent_at: dt.datetime | None


class CampaignDetailOut(CampaignOut):
    actions_total: int
    actions_finished: int
    finished_share: int = Field(description="Part (%) des actions faites ou vérifiées.")
    structures: list[CampaignStructureOut]


# --- Helpers ---------------------------------------------------------------------------------


def _visible_action(request: HttpRequest, pk: int) -> ActionItem:
    return get_object_or_404(
        selectors.visible_actions(actor(request)).select_related("structure__organisation__ght"),
        pk=pk,
    )


def linked_findings(request: HttpRequest, actions: list[ActionItem]) -> dict[int, list[int]]:
    """Ids of the findings each action carries that the caller may see (one query)."""
    visible = Finding.objects.visible_to(actor(request), Perm.FINDINGS_DETAIL)
    links = ActionItem.findings.through.objects.filter(
        actionitem_id__in=[a.pk for a in actions], finding__in=visible
    ).values_list("actionitem_id", "finding_id")
    found: dict[int, list[int]] = {a.pk: [] for a in actions}
    for action_id, finding_id in links:
        found[action_id].append(finding_id)
    return {pk: sorted(ids) for pk, ids in found.items()}


def action_out(
    request: HttpRequest, action: ActionItem, findings: list[int] | None = None
) -> dict[str, Any]:
    if findings is None:
        findings = linked_findings(request, [action])[action.pk]
    campaign = action.campaign
    return {
        **{name: getattr(action, name) for name in ActionOut.model_fields if hasattr(action, name)},
        "structure": action.structure,
        "owner": services.owner_display(action),
        "overdue": selectors.is_overdue(action, timezone.localdate()),
        "findings": findings,
        "campaign": {"id": campaign.pk, "title": campaign.title, "notice": campaign.notice}
        if campaign
        else None,
    }


def evidence_out(evidence: ActionEvidence) -> dict[str, Any]:
    return {
        "id": evidence.pk,
        "action_id": evidence.action_id,
        "note": evidence.note,
        "has_document": bool(evidence.document),
        "document_sha256": evidence.document_sha256,
        "submitted_at": evidence.submitted_at,
        "submitted_by": str(evidence.submitted_by) if evidence.submitted_by else None,
        "approved_at": evidence.approved_at,
        "approved_by": str(evidence.approved_by) if evidence.approved_by else None,
    }


def _findings(request: HttpRequest, ids: list[int]) -> list[Finding]:
    found = list(
        Finding.objects.visible_to(actor(request), Perm.FINDINGS_DETAIL).filter(pk__in=set(ids))
    )
    if len(found) != len(set(ids)):
        raise ApiError(
            422, details={"findings": [_("Objet inconnu ou qui ne vous est pas accessible.")]}
        )
    return found


def _apply(action: ActionItem, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "owner_user":
            action.owner_user_id = value
        elif name == "effort":
            action.effort = value or ""
        else:
            setattr(action, name, value)


# --- Actions ---------------------------------------------------------------------------------


@router.get("/actions", response=Page[ActionOut], summary="Actions des plans visibles")
def list_actions(
    request: HttpRequest, filters: Query[ActionFilters], page: Query[PageQuery]
) -> dict:
    user = actor(request)
    services.require(user, Perm.ACTION_VIEW)
    actions = selectors.visible_actions(user)
    if filters.structure:
        actions = actions.filter(structure_id=filters.structure)
    if filters.status:
        actions = actions.filter(status=filters.status)
    if filters.priority:
        actions = actions.filter(priority=filters.priority)
    if filters.campaign:
        actions = actions.filter(campaign_id=filters.campaign)
    if filters.overdue is not None:
        overdue = selectors.overdue_q(timezone.localdate())
        actions = actions.filter(overdue) if filters.overdue else actions.exclude(overdue)
    listing = paginate(request, actions, page, ACTION_ORDER)
    links = linked_findings(request, listing["results"])
    listing["results"] = [action_out(request, a, links[a.pk]) for a in listing["results"]]
    return listing


@router.get("/actions/{int:id}", response=ActionOut, summary="Une action")
def action_detail(request: HttpRequest, id: int) -> dict:
    return action_out(request, _visible_action(request, id))


@router.post("/actions", response={201: ActionOut}, summary="Ajouter une action à un plan")
def create_action(request: HttpRequest, payload: ActionIn) -> Status:
    user = actor(request)
    services.require(user, Perm.ACTION_EDIT)
    values = payload.model_dump()
    structure = (
        Structure.objects.visible_to(user, Perm.ACTION_VIEW)
        .select_related("organisation__ght")
        .filter(pk=values.pop("structure"))
        .first()
    )
    if structure is None:
        raise ApiError(
            422, details={"structure": [_("Objet inconnu ou qui ne vous est pas accessible.")]}
        )
    services.require(user, Perm.ACTION_EDIT, structure)
    findings = _findings(request, values.pop("findings"))
    action = ActionItem(structure=structure)
    _apply(action, values)
    services.create_action(user, action, findings, ip=client_ip(request))
    return Status(201, action_out(request, action))


@router.patch(
    "/actions/{int:id}",
    response=ActionOut,
    summary="Modifier une action ou son avancement (ou l'abandonner, avec un motif)",
)
def update_action(request: HttpRequest, id: int, payload: ActionPatch) -> dict:
    user = actor(request)
    action = _visible_action(request, id)
    values = payload.model_dump(exclude_unset=True)
    status = values.pop("status", None)
    reason = values.pop("status_reason", None)
    progress = values.pop("progress", None)
    note = values.pop("note", None) or ""
    edits = {name: values[name] for name in PATCH_EDIT_FIELDS if name in values}
    if status == ActionStatus.VERIFIED:
        raise ApiError(
            422,
            details={"status": [_("Seule la validation d'une preuve rend une action vérifiée.")]},
        )
    with transaction.atomic():
        if edits:
            findings = edits.pop("findings", None)
            _apply(action, edits)
            services.update_action(
                user,
                action,
                None if findings is None else _findings(request, findings),
                ip=client_ip(request),
            )
        if status == ActionStatus.CANCELLED:
            services.cancel_action(user, action, reason or "", ip=client_ip(request))
        elif status is not None or progress is not None:
            services.update_progress(
                user, action, progress=progress, status=status, note=note, ip=client_ip(request)
            )
    action.refresh_from_db()
    return action_out(request, action)


@router.post(
    "/actions/from-findings",
    response={201: list[ActionOut]},
    summary="Créer des actions à partir de vulnérabilités d'une même structure",
)
def actions_from_findings(request: HttpRequest, payload: FromFindingsIn) -> Status:
    created = services.create_from_findings(
        actor(request), payload.findings, grouped=payload.grouped, ip=client_ip(request)
    )
    return Status(201, [action_out(request, a) for a in created])


# --- Evidence --------------------------------------------------------------------------------


@router.get(
    "/actions/{int:id}/evidence", response=list[EvidenceOut], summary="Preuves d'une action"
)
def list_evidence(request: HttpRequest, id: int) -> list[dict]:
    action = _visible_action(request, id)
    rows = action.evidence.select_related("submitted_by", "approved_by")
    return [evidence_out(e) for e in rows]


@router.post(
    "/actions/{int:id}/evidence",
    response={201: EvidenceOut},
    summary="Déposer une preuve (note et document PDF/PNG/JPEG/TXT facultatif, multipart)",
)
def submit_evidence(
    request: HttpRequest,
    id: int,
    data: Form[EvidenceIn],
    document: UploadedFile | None = File(None),  # noqa: B008 (ninja's declaration style)
) -> Status:
    action = _visible_action(request, id)
    proof = evidence_services.submit_evidence(
        actor(request),
        action,
        note=data.note,
        document=document,
        claim_done=data.claim_done,
        ip=client_ip(request),
    )
    return Status(201, evidence_out(proof))


@router.post(
    "/evidence/{int:id}/approve",
    response=EvidenceOut,
    summary="Valider une preuve (centre) : l'action est vérifiée, ses vulnérabilités closes",
)
def approve_evidence(request: HttpRequest, id: int) -> dict:
    user = actor(request)
    proof = get_object_or_404(
        ActionEvidence.objects.visible_to(user, Perm.ACTION_VIEW).select_related(
            "action__structure__organisation__ght"
        ),
        pk=id,
    )
    evidence_services.approve_evidence(user, proof, ip=client_ip(request))
    return evidence_out(proof)


# --- Campaigns (centre staff) ----------------------------------------------------------------


@router.get("/campaigns", response=Page[CampaignOut], summary="Campagnes régionales (centre)")
def list_campaigns(request: HttpRequest, page: Query[PageQuery]) -> dict:
    user = actor(request)
    campaigns.require_manage(user)
    return paginate(request, campaigns.campaigns_for(user), page, ("-created_at",))


@router.get(
    "/campaigns/{int:id}",
    response=CampaignDetailOut,
    summary="Une campagne et son avancement par structure (centre)",
)
def campaign_detail(request: HttpRequest, id: int) -> dict:
    user = actor(request)
    campaigns.require_manage(user)
    campaign = get_object_or_404(campaigns.campaigns_for(user), pk=id)
    progress = campaigns.progress(user, campaign)
    return {
        **{name: getattr(campaign, name) for name in CampaignOut.model_fields},
        "actions_total": progress.total,
        "actions_finished": progress.finished,
        "finished_share": progress.share,
        "structures": [
            {
                "structure": row.structure,
                "action_id": row.action.pk if row.action else None,
                "status": row.action.status if row.action else None,
                "progress": row.action.progress if row.action else None,
                "notice_sent_at": row.notice.sent_at if row.notice else None,
            }
            for row in progress.rows
        ],
    }
