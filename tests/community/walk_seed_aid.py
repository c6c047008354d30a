"""Cross-tenant walk hooks of the community service: mutual aid (joined by walk_seed.py).

Structure A posts for its GHT only (B has no GHT: 404), talks about it with a third structure C
(the A–C conversation: 404 for B) and has a person in the skills directory who chose not to
appear (404 for B). Every text holds the marker."""

from __future__ import annotations

from typing import Any

from carbet.accounts.models import Membership, User
from carbet.accounts.roles import StructureRole
from carbet.community import services_aid
from carbet.community.models import AidMessage, AidPost, AidThread, SkillProfile
from carbet.core.models import Organisation, Structure
from carbet.core.tenancy import SYSTEM

SECRET = "CH Alpha-Secret"
POST_TITLE = f"{SECRET} : DPO partagé pour notre GHT"

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/entraide/"),
    ("director", "/communaute/entraide/nouvelle/"),
    ("director", "/communaute/entraide/conversations/"),
    ("director", "/communaute/entraide/competences/"),
    ("director", "/communaute/entraide/competences/ma-fiche/"),
]


def _post(structure_a: Any) -> AidPost:
    found = AidPost.objects.filter(structure=structure_a, title=POST_TITLE).first()
    if found is not None:
        return found
    return services_aid.create_post(
        SYSTEM,
        structure_a,
        {
            "kind": "offer",
            "topic": "staff",
            "title": POST_TITLE,
            "body": f"{SECRET} : notre DPO peut aider deux jours par mois.",
            "audience": "ght",
        },
    )


def _third_structure() -> Structure:
    organisation, _created = Organisation.objects.get_or_create(
        finess_ej="970100993",
        defaults={"name": "SAS Clinique Gamma (entraide)", "legal_status": "private"},
    )
    structure, _created = Structure.objects.get_or_create(
        finess_et="970100985",
        defaults={
            "name": "Clinique Gamma (entraide)",
            "organisation": organisation,
            "category": "clinique",
            "beds": 40,
            "departement": "971",
        },
    )
    return structure


def _thread(structure_a: Any) -> AidThread:
    """A conversation between A and a third structure C about A's post. Written row by row:
    nothing of C may be shown to B either (every small id of the walk must be refused to B),
    so C has no post of its own, and A's post is for A's GHT, which C is not in."""
    c = _third_structure()
    post = _post(structure_a)
    thread, created = AidThread.objects.get_or_create(post=post, structure=c, owner=structure_a)
    if created:
        AidMessage.objects.create(thread=thread, structure=c, body="Nous sommes intéressés.")
        AidMessage.objects.create(
            thread=thread, structure=structure_a, body=f"{SECRET} : voici ses disponibilités."
        )
    return thread


def _profile(structure_a: Any) -> SkillProfile:
    email = f"entraide-{structure_a.pk}@alpha-secret.test"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(username=email, email=email, full_name=SECRET)
        Membership.objects.create(user=user, role=StructureRole.REFERENT, structure=structure_a)
    found = SkillProfile.objects.filter(user=user).first()
    if found is not None:
        return found
    return SkillProfile.objects.create(
        user=user,
        structure=structure_a,
        skills=[f"{SECRET} sauvegardes"],
        description=SECRET,
        visible=False,  # chose not to appear: nobody else may reach it
    )


def seed(structure_a: Any) -> None:
    _post(structure_a)
    _thread(structure_a)
    _profile(structure_a)


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {
    ("posts", "id"): lambda region: _post(region.a),
    ("threads", "id"): lambda region: _thread(region.a),
    ("skills", "id"): lambda region: _profile(region.a),
}
