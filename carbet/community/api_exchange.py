"""Exports for peers through the API (the centre's tokens only): the published bulletins and
the vulnerabilities matched in the region as a STIX 2.1 bundle or a MISP event collection.

The same service as the page builds them (TLP:RED never leaves, nothing of any structure) and
records each export in the audit trail. A structure's token gets a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from carbet.api.auth import actor
from carbet.audit.services import client_ip
from carbet.community import services_exchange as services
from carbet.community.choices import Tlp

router = Router(tags=["communauté : échanges STIX et MISP"])
API_PREFIX = "/community/exchange"

SHAREABLE = tuple(value for value in Tlp.values if value != Tlp.RED)


class CommunityExchangeQuery(Schema):
    bulletins: list[int] = Field(
        default_factory=list,
        description="Bulletins choisis (identifiants) ; vide : ceux publiés entre les dates.",
    )
    since: dt.date | None = Field(None, description="Depuis cette date (incluse).")
    until: dt.date | None = Field(None, description="Jusqu'à cette date (incluse).")
    vulnerabilities: bool = Field(
        True, description="Ajouter les vulnérabilités rapprochées dans la région sur la période."
    )
    vulnerability_tlp: str = Field(
        Tlp.AMBER.value,
        description="Diffusion TLP des vulnérabilités : " + ", ".join(SHAREABLE) + ".",
    )


def _export(request: HttpRequest, query: CommunityExchangeQuery, fmt: str) -> HttpResponse:
    download = services.export(
        actor(request),
        services.ExportRequest(
            fmt=fmt,
            bulletin_ids=tuple(query.bulletins),
            since=query.since,
            until=query.until,
            vulnerabilities=query.vulnerabilities,
            vulnerability_tlp=query.vulnerability_tlp,
        ),
        ip=client_ip(request),
    )
    response = HttpResponse(download.data, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


@router.get(
    "/stix",
    response={200: dict[str, Any]},
    summary="Export STIX 2.1 (bulletins et vulnérabilités de la région)",
    description="Un bundle STIX 2.1 : un rapport par bulletin ou vulnérabilité, ses CVE et ses "
    "produits, marqué TLP. Les bulletins TLP:RED ne sont jamais exportés ; aucune structure "
    "n'y figure. Réservé au centre.",
)
def export_stix(request: HttpRequest, query: Query[CommunityExchangeQuery]) -> HttpResponse:
    return _export(request, query, "stix")


@router.get(
    "/misp",
    response={200: dict[str, Any]},
    summary="Export MISP (collection d'événements)",
    description='`{"response": [{"Event": …}, …]}` : un événement MISP par bulletin ou '
    "vulnérabilité, TLP en étiquette `tlp:`. Les bulletins TLP:RED ne sont jamais exportés ; "
    "aucune structure n'y figure. Réservé au centre.",
)
def export_misp(request: HttpRequest, query: Query[CommunityExchangeQuery]) -> HttpResponse:
    return _export(request, query, "misp")
