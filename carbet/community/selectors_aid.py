"""Reads of mutual aid: who sees which post (the audience rule, in ONE place), which
conversations a person may open, and the skills directory.

The audience rule. A post is always shown to the people of its own structure. Another
structure's people see it while it is open and not past its date, when its audience covers one
of their structures:

* ``community``: every structure of the region;
* ``departement``: structures of the poster's département;
* ``ght``: structures of the poster's GHT (a poster without a GHT reaches no one else);
* ``sector``: structures of the poster's sector, sanitaire or médico-social
  (``carbet.core.choices.sector_of``).

The centre sees every post, for moderation. The ARS and people without a structure see none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit.models import AuditEntry
from carbet.community.choices import Audience, PostStatus
from carbet.community.models import AidMessage, AidPost, AidThread, SkillProfile
from carbet.community.service import CommunityPerm
from carbet.core.choices import MEDICO_SOCIAL_CATEGORIES, Sector, sector_of
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, grants

HIDE_ACTION = "community.aid.post.hide"


def sees_everything(actor: Actor) -> bool:
    """The centre (and the platform itself): every post and conversation, for moderation."""
    return grants(actor, CommunityPerm.VIEW).everything


def viewer_structures(actor: Actor) -> QuerySet[Structure]:
    """The structures whose community pages ``actor`` reads (none for the centre's own eyes:
    the centre is not a member structure)."""
    if sees_everything(actor):
        return Structure.objects.none()
    return Structure.objects.visible_to(actor, CommunityPerm.VIEW).select_related("organisation")


def acting_structures(actor: Actor) -> QuerySet[Structure]:
    """The structures ``actor`` may post, answer or appear in the directory for. The centre
    moderates; it does not speak for a structure."""
    if grants(actor, CommunityPerm.AID).everything:
        return Structure.objects.none()
    return (
        Structure.objects.visible_to(actor, CommunityPerm.AID)
        .select_related("organisation")
        .order_by("name")
    )


def audience_q(structures: Iterable[Structure]) -> Q:
    """Posts of other structures whose audience covers one of ``structures``."""
    rows = list(structures)
    if not rows:
        return Q(pk__in=[])
    q = Q(audience=Audience.COMMUNITY)
    departements = {s.departement for s in rows}
    q |= Q(audience=Audience.DEPARTEMENT, structure__departement__in=departements)
    ghts = {s.organisation.ght_id for s in rows if s.organisation.ght_id}
    if ghts:
        q |= Q(audience=Audience.GHT, structure__organisation__ght_id__in=ghts)
    sectors = {sector_of(s.category) for s in rows}
    if Sector.MEDICO_SOCIAL in sectors:
        q |= Q(audience=Audience.SECTOR, structure__category__in=MEDICO_SOCIAL_CATEGORIES)
    if Sector.SANITAIRE in sectors:
        q |= Q(audience=Audience.SECTOR) & ~Q(structure__category__in=MEDICO_SOCIAL_CATEGORIES)
    return q


def current_q(today: date | None = None) -> Q:
    """Open posts not past their date."""
    today = today or timezone.localdate()
    return Q(status=PostStatus.OPEN) & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))


def posts_shown_to(actor: Actor, today: date | None = None) -> QuerySet[AidPost]:
    """THE audience rule: the posts ``actor`` may read (see the module's docstring)."""
    base = AidPost.objects.select_related("structure__organisation")
    if sees_everything(actor):
        return base.all()
    mine = list(viewer_structures(actor))
    if not mine:
        return base.none()
    own = Q(structure__in=[s.pk for s in mine])
    return base.filter(own | (audience_q(mine) & current_q(today))).distinct()


def covers(post: AidPost, structure: Structure, today: date | None = None) -> bool:
    """Whether ``structure`` (another than the poster) may answer ``post`` now."""
    if structure.pk == post.structure_id:
        return False
    return (
        AidPost.objects.filter(pk=post.pk)
        .filter(audience_q([structure]) & current_q(today))
        .exists()
    )


def answering_structures(actor: Actor, post: AidPost) -> QuerySet[Structure]:
    """The structures ``actor`` may answer ``post`` for."""
    ids = [s.pk for s in acting_structures(actor) if covers(post, s)]
    return acting_structures(actor).filter(pk__in=ids)


def board(
    actor: Actor, *, kind: str = "", topic: str = "", today: date | None = None
) -> QuerySet[AidPost]:
    """The board: the posts shown to ``actor`` (``posts_shown_to``), filtered."""
    rows = posts_shown_to(actor, today)
    if kind:
        rows = rows.filter(kind=kind)
    if topic:
        rows = rows.filter(topic=topic)
    return rows.order_by("-created_at")


def is_own(actor: Actor, post: AidPost) -> bool:
    return acting_structures(actor).filter(pk=post.structure_id).exists()


@dataclass(frozen=True)
class Moderation:
    at: Any
    reason: str


def moderation_of(post: AidPost) -> Moderation | None:
    """When and why the centre hid ``post`` (from the audit trail), if it did."""
    entry = (
        AuditEntry.objects.filter(
            action=HIDE_ACTION, object_type=AidPost._meta.label, object_id=str(post.pk)
        )
        .order_by("-sequence")
        .first()
    )
    if entry is None:
        return None
    return Moderation(entry.at, str((entry.changes or {}).get("reason", "")))


# --- Conversations -----------------------------------------------------------------------------


def threads_for(actor: Actor) -> QuerySet[AidThread]:
    """Conversations ``actor`` may open: those of the structures they belong to, on either
    side; every one for the centre (moderation)."""
    base = AidThread.objects.select_related("post", "profile", "owner", "structure")
    if sees_everything(actor):
        return base.all()
    mine = [s.pk for s in viewer_structures(actor)]
    if not mine:
        return base.none()
    return base.filter(Q(structure__in=mine) | Q(owner__in=mine))


def side_of(actor: Actor, thread: AidThread) -> Structure | None:
    """The side ``actor`` writes for in ``thread`` (None: the centre or a mere reader)."""
    ids = set(acting_structures(actor).filter(pk__in=[thread.owner_id, thread.structure_id]))
    for structure in (thread.structure, thread.owner):
        if structure in ids:
            return structure
    return None


def other_side(thread: AidThread, side: Structure) -> Structure:
    return thread.owner if side.pk == thread.structure_id else thread.structure


def thread_subject(thread: AidThread) -> str:
    if thread.post_id:
        return thread.post.title
    return _("Contact par l'annuaire des compétences")


def unread_count(actor: Actor) -> int:
    """Messages written to the actor's structures that nobody there has opened yet."""
    mine = [s.pk for s in viewer_structures(actor)]
    if not mine:
        return 0
    threads = threads_for(actor)
    return (
        AidMessage.objects.filter(thread__in=threads, read_at__isnull=True)
        .exclude(structure__in=mine)
        .count()
    )


def person_label(user: Any, structure: Structure | None = None) -> str:
    """How a person is named to another structure: never their e-mail address."""
    name = (getattr(user, "full_name", "") or "").strip()
    if name:
        return name
    if structure is not None:
        return _("Une personne de %(structure)s") % {"structure": structure.name}
    return _("Une personne de la structure")


# --- Skills directory --------------------------------------------------------------------------


def directory(
    actor: Actor, *, search: str = "", remote: bool = False, on_site: bool = False
) -> QuerySet[SkillProfile]:
    """Profiles whose owner chose to appear, for community members (nothing otherwise)."""
    if not (sees_everything(actor) or viewer_structures(actor).exists()):
        return SkillProfile.objects.none()
    rows = SkillProfile.objects.filter(visible=True, user__is_active=True).select_related(
        "user", "structure"
    )
    if remote:
        rows = rows.filter(remote=True)
    if on_site:
        rows = rows.filter(on_site=True)
    rows = rows.order_by("structure__name", "user__full_name")
    term = search.strip().lower()
    if not term:
        return rows
    keep = [p.pk for p in rows if term in searchable_text(p)]
    return rows.filter(pk__in=keep)


def profiles_reachable(actor: Actor) -> QuerySet[SkillProfile]:
    """The profiles ``actor`` may reach by id: those in the directory; every one for the
    centre (which may look but, not being a structure, never writes to them)."""
    if sees_everything(actor):
        return SkillProfile.objects.select_related("user", "structure")
    return directory(actor)


def searchable_text(profile: SkillProfile) -> str:
    parts = [*profile.skills, *profile.software, profile.description, profile.structure.name]
    return " ".join(str(p) for p in parts).lower()


def profile_of(actor: Actor) -> SkillProfile | None:
    if not getattr(actor, "pk", None):
        return None
    return SkillProfile.objects.filter(user_id=actor.pk).select_related("structure").first()
