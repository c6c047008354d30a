"""Mutual aid through the API: the board, posts, private conversations and the skills
directory.

Posts are reached only through ``selectors_aid.posts_shown_to`` (the audience rule),
conversations through ``selectors_aid.threads_for``: anything else is a 404. Writes call
``services_aid``, which checks the rights (403), validates (422), audits and sends the notices
(a link, never the text nor an address). No response carries an e-mail address.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.community import selectors_aid, services_aid
from carbet.community.choices import Audience, PostKind, PostStatus, PostTopic
from carbet.community.models import AidPost, AidThread, SkillProfile
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.models import Structure

router = Router(tags=["communauté : entraide"])
API_PREFIX = "/community/aid"


class CommunityAidPostOut(Schema):
    id: int
    structure: StructureRef
    kind: str
    topic: str
    title: str
    body: str
    audience: str
    status: str
    expires_on: dt.date | None
    created_at: dt.datetime
    own: bool = Field(description="Annonce d'une de vos structures.")


class CommunityAidPostIn(InputSchema):
    structure: ObjectId
    kind: PostKind
    topic: PostTopic
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    audience: Audience = Audience.COMMUNITY
    expires_on: dt.date | None = None


class CommunityAidPostStatusIn(InputSchema):
    status: PostStatus


class CommunityAidHideIn(InputSchema):
    reason: str = Field(min_length=1, max_length=500)


class CommunityAidAnswerIn(InputSchema):
    structure: ObjectId = Field(description="La structure au nom de laquelle vous écrivez.")
    body: str = Field(min_length=1, max_length=5000)


class CommunityAidMessageIn(InputSchema):
    body: str = Field(min_length=1, max_length=5000)


class CommunityAidMessageOut(Schema):
    id: int
    structure: StructureRef
    author: str = Field(description="Nom de la personne ; jamais son adresse e-mail.")
    body: str
    created_at: dt.datetime


class CommunityAidThreadOut(Schema):
    id: int
    subject: str
    post: int | None
    profile: int | None
    owner: StructureRef
    structure: StructureRef
    updated_at: dt.datetime


class CommunityAidThreadDetailOut(CommunityAidThreadOut):
    messages: list[CommunityAidMessageOut]


class CommunityAidProfileOut(Schema):
    id: int
    name: str = Field(description="Nom de la personne ; jamais son adresse e-mail.")
    structure: StructureRef
    skills: list[str]
    software: list[str]
    description: str
    remote: bool
    on_site: bool


class CommunityAidOwnProfileOut(CommunityAidProfileOut):
    visible: bool


class CommunityAidProfileIn(InputSchema):
    structure: ObjectId
    skills: list[str] = Field(default_factory=list, max_length=30)
    software: list[str] = Field(default_factory=list, max_length=30)
    description: str = Field(default="", max_length=2000)
    remote: bool = True
    on_site: bool = False
    visible: bool = False


class CommunityAidPostFilter(Schema):
    kind: PostKind | None = None
    topic: PostTopic | None = None


def _post_out(post: AidPost, own_ids: set[int]) -> dict[str, Any]:
    return {
        **{name: getattr(post, name) for name in CommunityAidPostOut.model_fields if name != "own"},
        "own": post.structure_id in own_ids,
    }


def _own_ids(request: HttpRequest) -> set[int]:
    return {s.pk for s in selectors_aid.viewer_structures(actor(request))}


def _thread_out(thread: AidThread, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": thread.pk,
        "subject": selectors_aid.thread_subject(thread),
        "post": thread.post_id,
        "profile": thread.profile_id,
        "owner": thread.owner,
        "structure": thread.structure,
        "updated_at": thread.updated_at,
    }
    if detail:
        out["messages"] = [
            {
                "id": m.pk,
                "structure": m.structure,
                "author": selectors_aid.person_label(m.author, m.structure),
                "body": m.body,
                "created_at": m.created_at,
            }
            for m in thread.messages.select_related("author", "structure")
        ]
    return out


def _profile_out(profile: SkillProfile) -> dict[str, Any]:
    return {
        "id": profile.pk,
        "name": selectors_aid.person_label(profile.user, profile.structure),
        "structure": profile.structure,
        "skills": profile.skills,
        "software": profile.software,
        "description": profile.description,
        "remote": profile.remote,
        "on_site": profile.on_site,
        "visible": profile.visible,
    }


def _acting(request: HttpRequest, pk: int) -> Structure:
    return access.structure_for(actor(request), pk, CommunityPerm.AID, see=CommunityPerm.VIEW)


def _post(request: HttpRequest, pk: int) -> AidPost:
    return get_object_or_404(selectors_aid.posts_shown_to(actor(request)), pk=pk)


def _thread(request: HttpRequest, pk: int) -> AidThread:
    return get_object_or_404(selectors_aid.threads_for(actor(request)), pk=pk)


@router.get("/posts", response=Page[CommunityAidPostOut], summary="Annonces d'entraide")
def list_posts(
    request: HttpRequest, filters: Query[CommunityAidPostFilter], page: Query[PageQuery]
):
    access.require(actor(request), CommunityPerm.VIEW)
    rows = selectors_aid.board(actor(request), kind=filters.kind or "", topic=filters.topic or "")
    result = paginate(request, rows, page, ("-created_at",))
    own = _own_ids(request)
    result["results"] = [_post_out(p, own) for p in result["results"]]
    return result


@router.post("/posts", response={201: CommunityAidPostOut}, summary="Publier une annonce")
def create_post(request: HttpRequest, payload: CommunityAidPostIn):
    values = payload.model_dump()
    structure = _acting(request, values.pop("structure"))
    post = services_aid.create_post(actor(request), structure, values, ip=client_ip(request))
    return HttpStatus(201, _post_out(post, {structure.pk}))


@router.get("/posts/{id}", response=CommunityAidPostOut, summary="Une annonce")
def get_post(request: HttpRequest, id: int):
    return _post_out(_post(request, id), _own_ids(request))


@router.post("/posts/{id}/status", response=CommunityAidPostOut, summary="Satisfaite, fermée")
def post_status(request: HttpRequest, id: int, payload: CommunityAidPostStatusIn):
    post = _post(request, id)
    services_aid.set_post_status(actor(request), post, payload.status, ip=client_ip(request))
    return _post_out(post, _own_ids(request))


@router.post("/posts/{id}/hide", response=CommunityAidPostOut, summary="Masquer (centre)")
def hide_post(request: HttpRequest, id: int, payload: CommunityAidHideIn):
    post = _post(request, id)
    services_aid.hide_post(actor(request), post, payload.reason, ip=client_ip(request))
    return _post_out(post, set())


@router.post("/posts/{id}/threads", response={201: CommunityAidThreadDetailOut}, summary="Répondre")
def answer_post(request: HttpRequest, id: int, payload: CommunityAidAnswerIn):
    post = _post(request, id)
    structure = _acting(request, payload.structure)
    thread = services_aid.answer_post(
        actor(request), post, structure, payload.body, ip=client_ip(request)
    )
    return HttpStatus(201, _thread_out(thread, detail=True))


@router.get("/threads", response=Page[CommunityAidThreadOut], summary="Conversations")
def list_threads(request: HttpRequest, page: Query[PageQuery]):
    access.require(actor(request), CommunityPerm.VIEW)
    result = paginate(request, selectors_aid.threads_for(actor(request)), page, ("-updated_at",))
    result["results"] = [_thread_out(t) for t in result["results"]]
    return result


@router.get("/threads/{id}", response=CommunityAidThreadDetailOut, summary="Une conversation")
def get_thread(request: HttpRequest, id: int):
    thread = _thread(request, id)
    services_aid.mark_read(actor(request), thread)
    return _thread_out(thread, detail=True)


@router.post(
    "/threads/{id}/messages", response={201: CommunityAidThreadDetailOut}, summary="Écrire"
)
def write(request: HttpRequest, id: int, payload: CommunityAidMessageIn):
    thread = _thread(request, id)
    services_aid.write(actor(request), thread, payload.body, ip=client_ip(request))
    return HttpStatus(201, _thread_out(thread, detail=True))


@router.get("/skills", response=Page[CommunityAidProfileOut], summary="Annuaire des compétences")
def list_profiles(request: HttpRequest, page: Query[PageQuery], q: str = ""):
    access.require(actor(request), CommunityPerm.VIEW)
    rows = selectors_aid.directory(actor(request), search=q[:100])
    result = paginate(request, rows, page, ("structure__name",))
    result["results"] = [_profile_out(p) for p in result["results"]]
    return result


@router.get("/skills/me", response={200: CommunityAidOwnProfileOut, 204: None}, summary="Ma fiche")
def get_own_profile(request: HttpRequest):
    access.require(actor(request), CommunityPerm.AID)
    profile = selectors_aid.profile_of(actor(request))
    if profile is None:
        return HttpStatus(204, None)
    return _profile_out(profile)


@router.put("/skills/me", response=CommunityAidOwnProfileOut, summary="Remplir ma fiche")
def put_own_profile(request: HttpRequest, payload: CommunityAidProfileIn):
    values = payload.model_dump()
    structure = _acting(request, values.pop("structure"))
    profile = services_aid.save_profile(actor(request), structure, values, ip=client_ip(request))
    return _profile_out(profile)


@router.post(
    "/skills/{id}/threads",
    response={201: CommunityAidThreadDetailOut},
    summary="Écrire à une personne de l'annuaire",
)
def contact_profile(request: HttpRequest, id: int, payload: CommunityAidAnswerIn):
    profile = get_object_or_404(selectors_aid.profiles_reachable(actor(request)), pk=id)
    structure = _acting(request, payload.structure)
    thread = services_aid.contact_profile(
        actor(request), profile, structure, payload.body, ip=client_ip(request)
    )
    return HttpStatus(201, _thread_out(thread, detail=True))
