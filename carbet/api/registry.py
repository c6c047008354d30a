"""The registry through the API: GHTs, organisations, structures and their contacts.

Reads go through ``visible_to`` (another structure's row is a 404, never a 403 that would
confirm it exists); writes go through ``carbet.core.services``, which check the right, validate,
save and audit. Creating or changing organisations and structures is for centre staff.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    GhtOut,
    ObjectId,
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    StructureIn,
    StructureOut,
    StructurePatch,
)
from carbet.audit.services import client_ip
from carbet.core import access, services
from carbet.core.choices import Category
from carbet.core.models import Contact, Ght, Organisation, Structure

router = Router(tags=["registre"])


def unknown_reference(field: str) -> ApiError:
    return ApiError(422, details={field: [_("Objet inconnu ou qui ne vous est pas accessible.")]})


# --- GHTs ----------------------------------------------------------------------------------


@router.get("/ghts", response=Page[GhtOut], summary="GHT visibles")
def list_ghts(request: HttpRequest, page: Query[PageQuery]) -> dict:
    user = actor(request)
    access.require(user, Perm.STRUCTURE_VIEW)
    return paginate(request, Ght.objects.visible_to(user, Perm.STRUCTURE_VIEW), page, ("name",))


@router.get("/ghts/{int:id}", response=GhtOut, summary="Un GHT")
def ght_detail(request: HttpRequest, id: int) -> Ght:
    return get_object_or_404(Ght.objects.visible_to(actor(request), Perm.STRUCTURE_VIEW), pk=id)


# --- Organisations -------------------------------------------------------------------------


def _organisations(request: HttpRequest):
    return Organisation.objects.visible_to(actor(request), Perm.STRUCTURE_VIEW).select_related(
        "ght"
    )


def _resolve_ght(request: HttpRequest, ght_id: int | None) -> Ght | None:
    if ght_id is None:
        return None
    ght = Ght.objects.visible_to(actor(request), Perm.STRUCTURE_VIEW).filter(pk=ght_id).first()
    if ght is None:
        raise unknown_reference("ght")
    return ght


@router.get("/organisations", response=Page[OrganisationOut], summary="Organisations visibles")
def list_organisations(request: HttpRequest, page: Query[PageQuery]) -> dict:
    access.require(actor(request), Perm.STRUCTURE_VIEW)
    return paginate(request, _organisations(request), page, ("name",))


@router.get("/organisations/{int:id}", response=OrganisationOut, summary="Une organisation")
def organisation_detail(request: HttpRequest, id: int) -> Organisation:
    return get_object_or_404(_organisations(request), pk=id)


@router.post(
    "/organisations",
    response={201: OrganisationOut},
    summary="Créer une organisation (équipe du centre)",
)
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> Status:
    user = actor(request)
    access.require(user, Perm.STRUCTURE_EDIT)
    values = payload.model_dump()
    values["ght"] = _resolve_ght(request, values["ght"])
    organisation = Organisation(**values)
    services.save_organisation(user, organisation, ip=client_ip(request))
    return Status(201, organisation)


@router.patch(
    "/organisations/{int:id}",
    response=OrganisationOut,
    summary="Modifier une organisation (équipe du centre)",
)
def update_organisation(request: HttpRequest, id: int, payload: OrganisationPatch) -> Organisation:
    user = actor(request)
    organisation = get_object_or_404(_organisations(request), pk=id)
    access.require(user, Perm.STRUCTURE_EDIT)
    changes = payload.model_dump(exclude_unset=True)
    if "ght" in changes:
        changes["ght"] = _resolve_ght(request, changes["ght"])
    for name, value in changes.items():
        setattr(organisation, name, value)
    services.save_organisation(user, organisation, ip=client_ip(request))
    return organisation


# --- Structures ----------------------------------------------------------------------------


class StructureFilters(Schema):
    category: Category | None = None
    departement: str | None = Field(None, max_length=3)
    ght: ObjectId | None = None
    organisation: ObjectId | None = None
    search: str | None = Field(None, max_length=100, description="Nom, FINESS ou commune.")


def _resolve_organisation(request: HttpRequest, organisation_id: int) -> Organisation:
    organisation = _organisations(request).filter(pk=organisation_id).first()
    if organisation is None:
        raise unknown_reference("organisation")
    return organisation


@router.get("/structures", response=Page[StructureOut], summary="Structures visibles")
def list_structures(
    request: HttpRequest, filters: Query[StructureFilters], page: Query[PageQuery]
) -> dict:
    user = actor(request)
    access.require(user, Perm.STRUCTURE_VIEW)
    structures = Structure.objects.visible_to(user, Perm.STRUCTURE_VIEW).select_related(
        "organisation__ght"
    )
    if filters.category:
        structures = structures.filter(category=filters.category)
    if filters.departement:
        structures = structures.filter(departement=filters.departement.upper())
    if filters.ght:
        structures = structures.filter(organisation__ght_id=filters.ght)
    if filters.organisation:
        structures = structures.filter(organisation_id=filters.organisation)
    if filters.search and filters.search.strip():
        term = filters.search.strip()
        structures = structures.filter(
            Q(name__icontains=term) | Q(finess_et__startswith=term) | Q(city__icontains=term)
        )
    return paginate(request, structures, page, ("name",))


@router.get("/structures/{int:id}", response=StructureOut, summary="Une structure")
def structure_detail(request: HttpRequest, id: int) -> Structure:
    return access.structure_for(actor(request), id)


@router.post(
    "/structures", response={201: StructureOut}, summary="Créer une structure (équipe du centre)"
)
def create_structure(request: HttpRequest, payload: StructureIn) -> Status:
    user = actor(request)
    access.require(user, Perm.STRUCTURE_EDIT)
    values = payload.model_dump()
    values["organisation"] = _resolve_organisation(request, values["organisation"])
    structure = Structure(**values)
    services.save_structure(user, structure, ip=client_ip(request))
    return Status(201, structure)


@router.patch(
    "/structures/{int:id}",
    response=StructureOut,
    summary="Modifier une structure (équipe du centre)",
)
def update_structure(request: HttpRequest, id: int, payload: StructurePatch) -> Structure:
    user = actor(request)
    structure = access.structure_for(user, id, Perm.STRUCTURE_EDIT)
    changes = payload.model_dump(exclude_unset=True)
    if "organisation" in changes:
        changes["organisation"] = _resolve_organisation(request, changes["organisation"])
    for name, value in changes.items():
        setattr(structure, name, value)
    services.save_structure(user, structure, ip=client_ip(request))
    return structure


# --- Contacts ------------------------------------------------------------------------------


@router.get(
    "/structures/{int:id}/contacts",
    response=Page[ContactOut],
    summary="Contacts d'une structure",
)
def list_contacts(request: HttpRequest, id: int, page: Query[PageQuery]) -> dict:
    user = actor(request)
    structure = access.structure_for(actor(request), id)
    contacts = Contact.objects.visible_to(user, Perm.STRUCTURE_VIEW).filter(structure=structure)
    return paginate(request, contacts, page, ("role", "name"))


@router.post(
    "/structures/{int:id}/contacts",
    response={201: ContactOut},
    summary="Ajouter un contact à une structure",
)
def create_contact(request: HttpRequest, id: int, payload: ContactIn) -> Status:
    structure = access.structure_for(actor(request), id)
    contact = Contact(structure=structure, **payload.model_dump())
    services.save_contact(actor(request), contact, ip=client_ip(request))
    return Status(201, contact)


def _visible_contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(
        Contact.objects.visible_to(actor(request), Perm.STRUCTURE_VIEW).select_related(
            "structure__organisation"
        ),
        pk=pk,
    )


@router.patch("/contacts/{int:id}", response=ContactOut, summary="Modifier un contact")
def update_contact(request: HttpRequest, id: int, payload: ContactPatch) -> Contact:
    contact = _visible_contact(request, id)
    for name, value in payload.model_dump(exclude_unset=True).items():
        setattr(contact, name, value)
    services.save_contact(actor(request), contact, ip=client_ip(request))
    return contact


@router.delete("/contacts/{int:id}", response={204: None}, summary="Supprimer un contact")
def delete_contact(request: HttpRequest, id: int) -> HttpResponse:
    contact = _visible_contact(request, id)
    services.delete_contact(actor(request), contact, ip=client_ip(request))
    return HttpResponse(status=204)
