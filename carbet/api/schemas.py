"""Request and response schemas of the registry API, field by field.

Responses list their fields explicitly: nothing reaches a client because a model grew a column.
Requests refuse unknown fields (a typo is reported instead of silently ignored); their values
are only checked for shape here — the registry's rules (FINESS keys, asset addresses, mandate
dates) are applied by ``carbet.core.services`` and come back as 422 errors per field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

from carbet.core.choices import (
    AssetKind,
    Category,
    ContactRole,
    Criticality,
    LegalStatus,
    mandate_kinds,
)

ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _known_mandate_kind(code: str) -> str:
    known = {kind for kind, _label in mandate_kinds()}
    if code not in known:
        raise ValueError(f"service inconnu : {code} (connus : {', '.join(sorted(known))})")
    return code


# A kind a mandate may cover: declared by the services (``carbet.core.contract``).
MandateKind = Annotated[str, AfterValidator(_known_mandate_kind)]


def _mandate_kinds_schema(schema: dict[str, Any]) -> None:
    """The OpenAPI schema lists the kinds registered when it is generated."""
    schema["items"] = {"type": "string", "enum": [code for code, _label in mandate_kinds()]}
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- References (a related object named in another's response) ------------------------------


class GhtRef(Schema):
    id: int
    code: str
    name: str


class OrganisationRef(Schema):
    id: int
    finess_ej: str
    name: str


class StructureRef(Schema):
    id: int
    finess_et: str
    name: str


# --- Registry ------------------------------------------------------------------------------


class GhtOut(Schema):
    id: int
    code: str
    name: str


class OrganisationOut(Schema):
    id: int
    finess_ej: str
    name: str
    legal_status: str
    ght: GhtRef | None


class OrganisationIn(InputSchema):
    finess_ej: str = Field(max_length=20)
    name: str = Field(min_length=1, max_length=200)
    legal_status: LegalStatus
    ght: ObjectId | None = None


class OrganisationPatch(InputSchema):
    """Only the fields sent are changed; ``"ght": null`` takes the organisation out of its GHT."""

    finess_ej: str = Field(default=None, max_length=20)
    name: str = Field(default=None, min_length=1, max_length=200)
    legal_status: LegalStatus = Field(default=None)
    ght: ObjectId | None = None


class StructureOut(Schema):
    id: int
    finess_et: str
    name: str
    organisation: OrganisationRef
    ght: GhtRef | None
    category: str
    sector: str
    departement: str
    beds: int
    places: int
    activity_weight: float
    address: str
    postal_code: str
    city: str
    created_at: dt.datetime

    @staticmethod
    def resolve_ght(obj: Any) -> Any:
        return obj.organisation.ght

    @staticmethod
    def resolve_sector(obj: Any) -> str:
        return str(obj.sector.value)


class StructureIn(InputSchema):
    finess_et: str = Field(max_length=20)
    name: str = Field(min_length=1, max_length=200)
    organisation: ObjectId
    category: Category
    beds: Count = 0
    places: Count = 0
    activity_weight: Decimal = Field(default=Decimal(1), ge=0, allow_inf_nan=False)
    departement: str = Field(max_length=3)
    address: str = Field(default="", max_length=300)
    postal_code: str = Field(default="", max_length=10)
    city: str = Field(default="", max_length=100)


class StructurePatch(InputSchema):
    """Only the fields sent are changed."""

    finess_et: str = Field(default=None, max_length=20)
    name: str = Field(default=None, min_length=1, max_length=200)
    organisation: ObjectId = Field(default=None)
    category: Category = Field(default=None)
    beds: Count = Field(default=None)
    places: Count = Field(default=None)
    activity_weight: Decimal = Field(default=None, ge=0, allow_inf_nan=False)
    departement: str = Field(default=None, max_length=3)
    address: str = Field(default=None, max_length=300)
    postal_code: str = Field(default=None, max_length=10)
    city: str = Field(default=None, max_length=100)


class ContactOut(Schema):
    id: int
    structure_id: int
    role: str
    name: str
    email: str
    phone: str
    organisation_name: str


class ContactIn(InputSchema):
    role: ContactRole
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=30)
    organisation_name: str = Field(default="", max_length=200)


class ContactPatch(InputSchema):
    """Only the fields sent are changed."""

    role: ContactRole = Field(default=None)
    name: str = Field(default=None, min_length=1, max_length=200)
    email: str = Field(default=None, max_length=254)
    phone: str = Field(default=None, max_length=30)
    organisation_name: str = Field(default=None, max_length=200)


# --- Assets --------------------------------------------------------------------------------


class AssetOut(Schema):
    id: int
    structure: StructureRef
    kind: str
    value: str
    label: str
    criticality: str
    internet_exposed: bool
    validated: bool
    validated_at: dt.datetime | None
    validated_by: str | None
    ownership: str = Field(
        description="to_prove | proven | conflict | rejected: only a proven asset is contacted."
    )
    proof_method: str
    proven_at: dt.datetime | None
    shared: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_validated_by(obj: Any) -> str | None:
        return str(obj.validated_by) if obj.validated_by_id else None

    @staticmethod
    def resolve_ownership(obj: Any) -> str:
        return str(obj.ownership.value)


class ProofOut(Schema):
    """What to publish to prove a name (DNS TXT record or web file), and the asset's state."""

    ownership: str
    txt_name: str | None = None
    txt_value: str | None = None
    file_url: str | None = None
    file_content: str | None = None
    reason: str | None = Field(None, description="Why the asset may not be contacted yet.")


class VerifyOut(Schema):
    proven: bool
    message: str
    asset: AssetOut


class ReviewIn(InputSchema):
    """The centre's review of an address or network: what it checked."""

    note: str = Field(min_length=10, max_length=2000)


class ResolveIn(InputSchema):
    """The centre's decision on a conflict: ``owner`` rejects the rivals, ``shared`` keeps all."""

    decision: Literal["owner", "shared"]
    note: str = Field(min_length=1, max_length=2000)


class AssetIn(InputSchema):
    """A new asset. It starts unvalidated: the structure confirms it with ``/validate``."""

    kind: AssetKind
    value: str = Field(min_length=1, max_length=255)
    label: str = Field(default="", max_length=200)
    criticality: Criticality = Criticality.MEDIUM
    internet_exposed: bool = True


class AssetPatch(InputSchema):
    """Only the fields sent are changed; changing kind or value withdraws the validation."""

    kind: AssetKind = Field(default=None)
    value: str = Field(default=None, min_length=1, max_length=255)
    label: str = Field(default=None, max_length=200)
    criticality: Criticality = Field(default=None)
    internet_exposed: bool = Field(default=None)


# --- Mandates ------------------------------------------------------------------------------


class AssetRef(Schema):
    id: int
    kind: str
    value: str


class MandateScope(Schema):
    all_assets: bool
    assets: list[AssetRef]


class MandateValidity(Schema):
    signed_on: dt.date
    valid_from: dt.date
    valid_until: dt.date


class MandateOut(Schema):
    id: int
    structure: StructureRef
    reference: str
    services: list[str]
    scope: MandateScope
    validity: MandateValidity
    signed_by_name: str
    signed_by_title: str
    status: str
    status_reason: str
    state: str = Field(description="active, expiring, expired, future ou revoked.")
    document_name: str
    document_sha256: str
    recorded_at: dt.datetime


class MandateIn(InputSchema):
    """The fields of a signed mandate, sent as multipart form fields beside the document."""

    reference: str = Field(default="", max_length=60)
    services: list[MandateKind] = Field(
        min_length=1, max_length=20, json_schema_extra=_mandate_kinds_schema
    )
    all_assets: bool = True
    assets: list[ObjectId] = Field(
        default_factory=list,
        max_length=1000,
        description="Actifs couverts quand all_assets est faux (identifiants).",
    )
    signed_by_name: str = Field(min_length=1, max_length=200)
    signed_by_title: str = Field(default="", max_length=200)
    signed_on: dt.date
    valid_from: dt.date
    valid_until: dt.date


class RevokeIn(InputSchema):
    reason: str = Field(min_length=1, max_length=2000)


# --- Account, jobs, aggregates -------------------------------------------------------------


class Role(Schema):
    code: str
    label: str


class MembershipOut(Schema):
    role: Role
    scope_type: str = Field(description="structure, organisation ou ght.")
    scope_id: int
    scope_name: str


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    language: str


class MeOut(Schema):
    user: UserOut
    centre_role: Role | None
    memberships: list[MembershipOut]
    permissions: list[str]


class JobOut(Schema):
    id: UUID
    kind: str
    title: str
    structure_id: int | None
    status: str
    progress: int
    message: str
    result: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class AggregateRowOut(Schema):
    label: str
    structures: int
    with_valid_mandate: int | None = Field(
        description="null : secret statistique (moins de 5 structures d'un côté ou de l'autre)."
    )
    assets: int = Field(description="Actifs déclarés, arrondi à la dizaine.")
    mandate_share: int | None = Field(
        description="Part des structures avec un mandat en vigueur (%) ; null : secret."
    )


class AggregatesOut(Schema):
    min_group_size: int = Field(
        description="Les groupes plus petits sont fusionnés dans « Autres » ; aucun chiffre ne "
        "porte sur moins de structures (anonymat). Listes vides : rien de publiable."
    )
    by_category: list[AggregateRowOut]
    by_departement: list[AggregateRowOut]
