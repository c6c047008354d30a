"""Exposure scans through the API: a structure's scans, one scan in detail, launching a scan
(EXPOSURE_RUN, mandate-gated exactly as the page), and the region's summary.

Reads go through ``visible_to(actor, EXPOSURE_VIEW)``: another structure's scan is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, StructureRef
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.access import require
from carbet.core.mandates import MandateRefused
from carbet.exposure import selectors, services
from carbet.exposure.models import Scan, ScanObservation, ScanProfile, ScanTarget
from carbet.exposure.service import ExposurePerm

router = Router(tags=["exposition"])


class ScanOut(Schema):
    id: int
    structure: StructureRef
    trigger: str
    status: str
    complete: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    score: int | None
    grade: str
    scores: dict[str, Any]
    targets_total: int
    targets_done: int
    services_count: int
    observations_count: int
    critical_count: int
    refused: list[dict[str, Any]]
    job: str | None

    @staticmethod
    def resolve_job(obj: Scan) -> str | None:
        return str(obj.job_id) if obj.job_id else None


class ObservationOut(Schema):
    check: str
    category: str
    port: int | None
    severity: int
    title: str
    detail: str
    evidence: dict[str, Any]
    cve: str
    cvss: float | None
    epss: float | None
    kev: bool
    fingerprint: str
    new: bool

    @staticmethod
    def resolve_check(obj: ScanObservation) -> str:
        return obj.check_id

    @staticmethod
    def resolve_new(obj: ScanObservation) -> bool:
        return getattr(obj, "is_new", False)


class TargetOut(Schema):
    target: str
    asset: int | None
    addresses: list[str]
    complete: bool
    score: int | None
    grade: str
    services: list[dict[str, Any]]
    evidence: dict[str, Any]
    errors: list[str]
    # Connections the scope policy refused: {address, port, reason, via, name, message}.
    refused: list[dict[str, Any]]
    observations: list[ObservationOut]

    @staticmethod
    def resolve_asset(obj: ScanTarget) -> int | None:
        return obj.asset_id

    @staticmethod
    def resolve_refused(obj: ScanTarget) -> list[dict[str, Any]]:
        return [
            {**record, "message": text}
            for record, text in zip(obj.refused or [], obj.refusal_messages, strict=False)
        ]

    @staticmethod
    def resolve_observations(obj: ScanTarget) -> list[Any]:
        return getattr(obj, "rows", [])


class ScanDetailOut(ScanOut):
    previous: int | None
    diff: dict[str, Any]
    targets: list[TargetOut]

    @staticmethod
    def resolve_previous(obj: Scan) -> int | None:
        return obj.previous_id

    @staticmethod
    def resolve_targets(obj: Scan) -> list[Any]:
        return getattr(obj, "target_rows", [])


class LaunchIn(InputSchema):
    profile: int | None = None


class RegionRowOut(Schema):
    structure: StructureRef
    scan: int | None
    finished_at: dt.datetime | None
    score: int | None
    grade: str
    scores: dict[str, Any]
    critical: int


def _scans(request: HttpRequest):
    return Scan.objects.visible_to(actor(request), ExposurePerm.VIEW).select_related("structure")


@router.get(
    "/exposure/structures/{int:id}/scans",
    response=Page[ScanOut],
    summary="Analyses d'exposition d'une structure",
)
def list_scans(request: HttpRequest, id: int, page: Query[PageQuery]) -> dict:
    structure = access.structure_for(actor(request), id, see=ExposurePerm.VIEW)
    return paginate(request, _scans(request).filter(structure=structure), page, ("-created_at",))


@router.get("/exposure/scans/{int:id}", response=ScanDetailOut, summary="Une analyse en détail")
def scan_detail(request: HttpRequest, id: int) -> Scan:
    scan = get_object_or_404(_scans(request), pk=id)
    new = set(scan.diff.get("new", [])) if not scan.diff.get("first") else set()
    targets = list(
        ScanTarget.objects.visible_to(actor(request), ExposurePerm.VIEW).filter(scan=scan)
    )
    observations: dict[int, list[ScanObservation]] = {}
    for obs in ScanObservation.objects.visible_to(actor(request), ExposurePerm.VIEW).filter(
        scan=scan
    ):
        obs.is_new = obs.fingerprint in new
        observations.setdefault(obs.target_id, []).append(obs)
    for target in targets:
        target.rows = observations.get(target.pk, [])
    scan.target_rows = targets
    return scan


@router.post(
    "/exposure/structures/{int:id}/scans",
    response={202: ScanOut},
    summary="Lancer une analyse (actifs prouvés et couverts par un mandat seulement)",
)
def launch_scan(request: HttpRequest, id: int, payload: LaunchIn) -> Status:
    user = actor(request)
    structure = access.structure_for(actor(request), id, see=ExposurePerm.VIEW)
    require(user, ExposurePerm.RUN, structure)
    profile = None
    if payload.profile is not None:
        profile = ScanProfile.objects.filter(pk=payload.profile).first()
        if profile is None:
            raise ApiError(422, details={"profile": [_("Profil d'analyse inconnu.")]})
    try:
        scan = services.request_structure_scan(
            structure, user, profile=profile, ip=client_ip(request)
        )
    except (services.NothingToScan, MandateRefused) as exc:
        raise ApiError(409, message=str(exc)) from exc
    return Status(202, get_object_or_404(_scans(request), pk=scan.pk))


@router.get(
    "/exposure/region",
    response=list[RegionRowOut],
    summary="Synthèse : dernière note de chaque structure visible",
)
def region_summary(request: HttpRequest) -> list[dict[str, Any]]:
    require(actor(request), ExposurePerm.VIEW)
    rows = []
    for row in selectors.region_rows(actor(request)):
        scan = row.scan
        rows.append(
            {
                "structure": row.structure,
                "scan": scan.pk if scan else None,
                "finished_at": scan.finished_at if scan else None,
                "score": scan.score if scan else None,
                "grade": scan.grade if scan else "",
                "scores": scan.scores if scan else {},
                "critical": scan.critical_count if scan else 0,
            }
        )
    return rows
