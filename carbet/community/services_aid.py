"""Mutual aid: posting requests and offers, answering them in private conversations, the
centre's moderation and the opt-in skills directory.

Privacy. Nobody ever sees another structure's e-mail addresses: answers are written and read in
Carbet, and the other side is told by an e-mail that says only "you have a reply in Carbet" with
a link — neither the text of the message nor who wrote it. Every write is audited under the
structure that acted (so one structure's audit trail never names the other's people).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.audit import services as audit
from carbet.community import selectors_aid
from carbet.community.choices import Audience, PostKind, PostStatus, PostTopic
from carbet.community.models import AidMessage, AidPost, AidThread, SkillProfile
from carbet.community.service import CommunityPerm
from carbet.core.access import refusal, require, require_centre
from carbet.core.links import absolute_url
from carbet.core.models import Structure
from carbet.core.recipients import Recipient, addresses
from carbet.core.tenancy import Actor, SystemActor, can

log = logging.getLogger("carbet.community.aid")
MAX_LIST_ITEMS = 30
MAX_ITEM_LENGTH = 80


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.pk else None


def _check_member(actor: Actor, structure: Structure) -> None:
    """``actor`` holds the aid right on ``structure`` and speaks for it: one of its people (the
    centre moderates but does not post or answer for a structure), or the platform itself."""
    require(actor, CommunityPerm.AID, structure)
    if isinstance(actor, SystemActor):
        return
    if not selectors_aid.acting_structures(actor).filter(pk=structure.pk).exists():
        raise refusal(_("Seules les personnes de la structure écrivent en son nom."))


def _text(values: dict[str, Any], name: str, limit: int) -> str:
    return str(values.get(name) or "").strip()[:limit]


def _post_values(values: dict[str, Any], today: date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    kind, topic = values.get("kind"), values.get("topic")
    audience = values.get("audience") or Audience.COMMUNITY
    title, body = _text(values, "title", 200), _text(values, "body", 5000)
    if kind not in PostKind.values:
        errors["kind"] = _("Choisissez : demande ou offre.")
    if topic not in PostTopic.values:
        errors["topic"] = _("Choisissez un sujet.")
    if audience not in Audience.values:
        errors["audience"] = _("Choisissez qui voit votre annonce.")
    if not title:
        errors["title"] = _("Donnez un titre court à votre annonce.")
    if not body:
        errors["body"] = _("Dites en quelques lignes ce que vous cherchez ou proposez.")
    expires_on = values.get("expires_on") or None
    if expires_on is not None and (not isinstance(expires_on, date) or expires_on < today):
        errors["expires_on"] = _("La date de fin ne peut pas être passée.")
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "topic": topic,
        "audience": audience,
        "title": title,
        "body": body,
        "expires_on": expires_on,
    }


def create_post(
    actor: Actor,
    structure: Structure,
    values: dict[str, Any],
    *,
    ip: str | None = None,
    today: date | None = None,
) -> AidPost:
    """A structure posts a request or an offer (``today``: the demo's clock)."""
    _check_member(actor, structure)
    clean = _post_values(values, today or timezone.localdate())
    with transaction.atomic():
        post = AidPost.objects.create(structure=structure, author=_user(actor), **clean)
        audit.record(
            actor,
            "community.aid.post.create",
            post,
            structure=structure,
            ip=ip,
            changes={"kind": post.kind, "topic": post.topic, "audience": post.audience},
        )
    return post


def update_post(
    actor: Actor, post: AidPost, values: dict[str, Any], *, ip: str | None = None
) -> AidPost:
    """Its structure edits an open post (title, text, audience, date)."""
    _check_member(actor, post.structure)
    if post.status != PostStatus.OPEN:
        raise ValidationError(_("Une annonce satisfaite ou fermée ne se modifie plus."))
    clean = _post_values(values, timezone.localdate())
    changed = {k: v for k, v in clean.items() if getattr(post, k) != v}
    for name, value in clean.items():
        setattr(post, name, value)
    post.updated_at = timezone.now()
    with transaction.atomic():
        post.save()
        audit.record(
            actor,
            "community.aid.post.update",
            post,
            structure=post.structure,
            ip=ip,
            changes={"fields": sorted(changed)},
        )
    return post


def set_post_status(actor: Actor, post: AidPost, status: str, *, ip: str | None = None) -> AidPost:
    """Its structure marks a post satisfied (or open again) or closes it for good."""
    _check_member(actor, post.structure)
    if status not in PostStatus.values:
        raise ValidationError({"status": _("État inconnu.")})
    if post.status == PostStatus.CLOSED:
        raise ValidationError(_("Cette annonce est fermée : publiez-en une nouvelle."))
    if status == post.status:
        return post
    previous = post.status
    post.status, post.updated_at = status, timezone.now()
    with transaction.atomic():
        post.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            "community.aid.post.status",
            post,
            structure=post.structure,
            ip=ip,
            changes={"from": previous, "to": status},
        )
    return post


def hide_post(actor: Actor, post: AidPost, reason: str, *, ip: str | None = None) -> AidPost:
    """The centre's moderation: the post is closed for good and seen only by its structure
    (with the reason) and the centre. Audited under the post's structure."""
    require_centre(actor, CommunityPerm.PUBLISH)
    reason = (reason or "").strip()[:500]
    if not reason:
        raise ValidationError({"reason": _("Dites à la structure pourquoi l'annonce est masquée.")})
    previous = post.status
    post.status, post.updated_at = PostStatus.CLOSED, timezone.now()
    with transaction.atomic():
        post.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            selectors_aid.HIDE_ACTION,
            post,
            structure=post.structure,
            ip=ip,
            changes={"from": previous, "reason": reason},
        )
    return post


# --- Conversations -----------------------------------------------------------------------------


def _body(body: str) -> str:
    text = (body or "").strip()[:5000]
    if not text:
        raise ValidationError({"body": _("Écrivez votre message.")})
    return text


def _message(
    actor: Actor, thread: AidThread, side: Structure, body: str, ip: str | None, action: str
) -> AidMessage:
    message = AidMessage.objects.create(
        thread=thread, structure=side, author=_user(actor), body=body
    )
    AidThread.objects.filter(pk=thread.pk).update(updated_at=message.created_at)
    audit.record(
        actor,
        action,
        thread,
        structure=side,
        ip=ip,
        changes={
            "thread": thread.pk,
            "post": thread.post_id,
            "profile": thread.profile_id,
            "with": selectors_aid.other_side(thread, side).pk,
            "characters": len(body),
        },
    )
    return message


def _open_thread(
    actor: Actor,
    owner: Structure,
    structure: Structure,
    body: str,
    ip: str | None,
    notice: bool,
    **target: Any,
) -> AidThread:
    """The conversation of ``structure`` about a post or a profile (made once), with a message."""
    text = _body(body)
    with transaction.atomic():
        thread = AidThread.objects.filter(structure=structure, **target).first()
        if thread is None:
            try:
                with transaction.atomic():
                    thread = AidThread.objects.create(owner=owner, structure=structure, **target)
            except IntegrityError:  # a colleague opened it at the same moment
                thread = AidThread.objects.get(structure=structure, **target)
        message = _message(actor, thread, structure, text, ip, "community.aid.thread.write")
    if notice:
        notify(thread, message)
    return thread


def answer_post(
    actor: Actor,
    post: AidPost,
    structure: Structure,
    body: str,
    *,
    ip: str | None = None,
    notice: bool = True,
) -> AidThread:
    """``structure`` answers ``post``: a private conversation between the two structures."""
    _check_member(actor, structure)
    if structure.pk == post.structure_id:
        raise ValidationError(_("C'est une annonce de votre structure."))
    if not selectors_aid.covers(post, structure):
        raise refusal(_("Cette annonce n'est pas ouverte à cette structure."))
    return _open_thread(actor, post.structure, structure, body, ip, notice, post=post)


def contact_profile(
    actor: Actor, profile: SkillProfile, structure: Structure, body: str, *, ip: str | None = None
) -> AidThread:
    """``structure`` writes to a person of the skills directory, without seeing their address."""
    _check_member(actor, structure)
    if not profile.visible:
        raise refusal(_("Cette personne ne paraît plus dans l'annuaire."))
    if structure.pk == profile.structure_id:
        raise ValidationError(_("Cette personne est de votre structure."))
    return _open_thread(actor, profile.structure, structure, body, ip, True, profile=profile)


def write(
    actor: Actor, thread: AidThread, body: str, *, ip: str | None = None, notice: bool = True
) -> AidMessage:
    """A new message in a conversation, by one of its two structures."""
    side = selectors_aid.side_of(actor, thread)
    if side is None:
        raise refusal(_("Seules les deux structures de la conversation y écrivent."))
    text = _body(body)
    with transaction.atomic():
        message = _message(actor, thread, side, text, ip, "community.aid.thread.write")
    if notice:
        notify(thread, message)
    return message


def mark_read(actor: Actor, thread: AidThread) -> int:
    """The messages of the other side are read once someone of this side opened them."""
    side = selectors_aid.side_of(actor, thread)
    if side is None:
        return 0
    return (
        AidMessage.objects.filter(thread=thread, read_at__isnull=True)
        .exclude(structure=side)
        .update(read_at=timezone.now())
    )


# --- Notifications -------------------------------------------------------------------------------


def _person(user: User | None, structure: Structure) -> Recipient | None:
    if user is None or not user.is_active or not user.email:
        return None
    if not can(user, CommunityPerm.AID, structure):
        return None  # no longer one of that structure's people
    return Recipient(user.email, user.full_name, user.language or "fr")


def recipients(thread: AidThread, side: Structure) -> list[Recipient]:
    """Who is told of a new message for ``side``: the people of that side in the
    conversation (the post's author, the profile's person, those who wrote), else its director
    and referent."""
    people: list[User | None] = []
    if side.pk == thread.owner_id:
        people.append(thread.post.author if thread.post_id else None)
        people.append(thread.profile.user if thread.profile_id else None)
    writers = (
        AidMessage.objects.filter(thread=thread, structure=side, author__isnull=False)
        .values_list("author_id", flat=True)
        .distinct()
    )
    people.extend(User.objects.filter(pk__in=list(writers)))
    found: dict[str, Recipient] = {}
    for user in people:
        person = _person(user, side)
        if person is not None:
            found.setdefault(person.email.lower(), person)
    if not found:
        for email in addresses(side):
            found.setdefault(email, Recipient(email, ""))
    return list(found.values())


def render_notice(thread: AidThread, recipient: Recipient) -> EmailMultiAlternatives:
    """The notice: a link and nothing else — no text, no name, no address."""
    with translation.override(recipient.language or "fr"):
        context = {
            "url": absolute_url(reverse("community:aid_thread", args=[thread.pk])),
            "region_name": getattr(settings, "CARBET_REGION_NAME", ""),
        }
        subject = _("[Carbet] Vous avez une réponse dans l'entraide")
        text = render_to_string("community/aid/notice_email.txt", context)
        html = render_to_string("community/aid/notice_email.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient.email]
    )
    message.attach_alternative(html, "text/html")
    return message


def notify(thread: AidThread, message: AidMessage) -> int:
    """Tell the other side, one e-mail per person; a mail server that is down never loses the
    message (it is in Carbet)."""
    other = selectors_aid.other_side(thread, message.structure)
    sent = 0
    for recipient in recipients(thread, other):
        try:
            render_notice(thread, recipient).send()
        except OSError:
            log.warning("aid notice not sent", extra={"aid_thread": thread.pk})
            continue
        sent += 1
    return sent


# --- Skills directory ----------------------------------------------------------------------------


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    seen: dict[str, str] = {}
    for item in value or ():
        text = str(item).strip()[:MAX_ITEM_LENGTH]
        if text:
            seen.setdefault(text.lower(), text)
    return list(seen.values())[:MAX_LIST_ITEMS]


def save_profile(
    actor: Actor, structure: Structure, values: dict[str, Any], *, ip: str | None = None
) -> SkillProfile:
    """A person fills in their own entry of the directory and chooses whether to appear."""
    user = _user(actor)
    if user is None:
        raise refusal()
    _check_member(actor, structure)
    skills = _items(values.get("skills"))
    visible = bool(values.get("visible"))
    if visible and not skills:
        raise ValidationError({"skills": _("Indiquez au moins une compétence pour paraître.")})
    fields = {
        "structure": structure,
        "skills": skills,
        "software": _items(values.get("software")),
        "description": _text(values, "description", 2000),
        "remote": bool(values.get("remote")),
        "on_site": bool(values.get("on_site")),
        "visible": visible,
        "updated_at": timezone.now(),
    }
    with transaction.atomic():
        profile, created = SkillProfile.objects.update_or_create(user=user, defaults=fields)
        audit.record(
            actor,
            "community.aid.profile.save",
            profile,
            structure=structure,
            ip=ip,
            changes={"visible": visible, "skills": len(skills), "created": created},
        )
    return profile
