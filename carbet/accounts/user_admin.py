"""Managing other people's accounts: creation, role, activation, memberships, MFA reset.

Only holders of ``Perm.USER_MANAGE`` get here. Regional rights (a centre role, a superuser)
can only be granted or changed by someone who manages the whole region; a manager of some
structures only sees and changes the accounts attached to those structures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from carbet.accounts.models import Membership, User
from carbet.accounts.roles import Perm
from carbet.accounts.services import delete_devices
from carbet.audit.services import record
from carbet.core.access import require
from carbet.core.models import Ght, Organisation, Structure
from carbet.core.tenancy import Actor, forget_memberships, grants

USER_FIELDS = ["email", "full_name", "centre_role", "is_active"]


def manages_region(actor: Actor) -> bool:
    return grants(actor, Perm.USER_MANAGE).everything


def manageable_structures(actor: Actor) -> QuerySet:
    return Structure.objects.visible_to(actor, Perm.USER_MANAGE)


def manageable_organisations(actor: Actor) -> QuerySet:
    """Organisations whose every structure the actor manages (all of them for the centre)."""
    if manages_region(actor):
        return Organisation.objects.all()
    scope = grants(actor, Perm.USER_MANAGE)
    return Organisation.objects.filter(
        Q(id__in=scope.organisation_ids) | Q(ght_id__in=scope.ght_ids)
    )


def manageable_ghts(actor: Actor) -> QuerySet:
    if manages_region(actor):
        return Ght.objects.all()
    return Ght.objects.filter(id__in=grants(actor, Perm.USER_MANAGE).ght_ids)


def users_visible_to(actor: Actor) -> QuerySet:
    """Accounts the actor may see and manage: all for the centre, else those on its structures."""
    require(actor, Perm.USER_MANAGE, message=_("Vous n'avez pas le droit de gérer les comptes."))
    if manages_region(actor):
        return User.objects.all()
    structures = manageable_structures(actor)
    return User.objects.filter(
        is_superuser=False,
        centre_role="",
        memberships__structure__in=structures,
    ).distinct()


def search_users(actor: Actor, query: str = "") -> QuerySet:
    users = users_visible_to(actor)
    query = query.strip()
    if query:
        users = users.filter(Q(email__icontains=query) | Q(full_name__icontains=query))
    return users.order_by("email")


@dataclass(frozen=True)
class MembershipSpec:
    """A role on exactly one scope, as chosen in a form."""

    role: str
    structure: Structure | None = None
    organisation: Organisation | None = None
    ght: Ght | None = None

    @property
    def scope(self) -> Any:
        return self.structure or self.organisation or self.ght


def _check_scope(actor: Actor, spec: MembershipSpec) -> None:
    if sum(x is not None for x in (spec.structure, spec.organisation, spec.ght)) != 1:
        raise ValidationError(_("Choisissez une seule portée : structure, organisation ou GHT."))
    if spec.structure is not None:
        allowed = manageable_structures(actor).filter(pk=spec.structure.pk)
    elif spec.organisation is not None:
        allowed = manageable_organisations(actor).filter(pk=spec.organisation.pk)
    else:
        allowed = manageable_ghts(actor).filter(pk=spec.ght.pk)
    if not allowed.exists():
        raise PermissionDenied(_("Vous ne gérez pas cette structure."))


def _check_target(actor: Actor, user: User) -> None:
    if not users_visible_to(actor).filter(pk=user.pk).exists():
        raise PermissionDenied(_("Vous ne gérez pas ce compte."))
    if user.is_superuser and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Seul un super-utilisateur peut modifier ce compte."))


def _snapshot(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in USER_FIELDS}


@transaction.atomic
def create_user(
    actor: Actor,
    *,
    email: str,
    full_name: str = "",
    centre_role: str = "",
    membership: MembershipSpec | None = None,
    ip: str | None = None,
) -> User:
    """Create an account without a usable password; hand over ``set_password_path`` instead."""
    require(actor, Perm.USER_MANAGE, message=_("Vous n'avez pas le droit de gérer les comptes."))
    if centre_role and not manages_region(actor):
        raise PermissionDenied(_("Seul un administrateur du centre attribue un rôle régional."))
    if not centre_role and membership is None and not manages_region(actor):
        raise ValidationError(_("Rattachez le compte à une de vos structures."))
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ValidationError(_("Un compte existe déjà avec cette adresse e-mail."))
    if membership is not None:
        _check_scope(actor, membership)
    user = User(username=email, email=email, full_name=full_name.strip(), centre_role=centre_role)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    record(
        actor,
        "user.create",
        user,
        ip=ip,
        changes={k: [None, v] for k, v in _snapshot(user).items()},
    )
    if membership is not None:
        add_membership(actor, user, membership, ip=ip)
    return user


@transaction.atomic
def update_user(
    actor: Actor,
    user: User,
    *,
    full_name: str,
    centre_role: str,
    is_active: bool,
    ip: str | None = None,
) -> dict[str, list[Any]]:
    """Change name, regional role and activation; returns the audited before/after."""
    _check_target(actor, user)
    if user.pk == getattr(actor, "pk", None) and (centre_role != user.centre_role or not is_active):
        raise ValidationError(
            _(
                "Vous ne pouvez pas changer votre propre rôle ni désactiver votre propre compte : "
                "demandez-le à un autre administrateur."
            )
        )
    if centre_role != user.centre_role and not manages_region(actor):
        raise PermissionDenied(_("Seul un administrateur du centre attribue un rôle régional."))
    before = _snapshot(user)
    user.full_name = full_name.strip()
    user.centre_role = centre_role
    user.is_active = is_active
    changes = {
        name: [before[name], value]
        for name, value in _snapshot(user).items()
        if before[name] != value
    }
    if changes:
        user.save(update_fields=["full_name", "centre_role", "is_active"])
        record(actor, "user.update", user, ip=ip, changes=changes)
    return changes


@transaction.atomic
def add_membership(
    actor: Actor, user: User, spec: MembershipSpec, *, ip: str | None = None
) -> Membership:
    require(actor, Perm.USER_MANAGE, message=_("Vous n'avez pas le droit de gérer les comptes."))
    _check_scope(actor, spec)
    if user.is_superuser and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Seul un super-utilisateur peut modifier ce compte."))
    duplicate = Membership.objects.filter(
        user=user,
        role=spec.role,
        structure=spec.structure,
        organisation=spec.organisation,
        ght=spec.ght,
    )
    if duplicate.exists():
        raise ValidationError(_("Ce rattachement existe déjà."))
    membership = Membership(
        user=user,
        role=spec.role,
        structure=spec.structure,
        organisation=spec.organisation,
        ght=spec.ght,
    )
    membership.full_clean()
    membership.save()
    forget_memberships(user)
    record(
        actor,
        "membership.add",
        membership,
        ip=ip,
        changes={
            "user": [None, user.email],
            "role": [None, spec.role],
            "scope": [None, str(spec.scope)],
        },
    )
    return membership


@transaction.atomic
def remove_membership(actor: Actor, membership: Membership, *, ip: str | None = None) -> None:
    user = membership.user
    _check_target(actor, user)
    _check_scope(
        actor,
        MembershipSpec(
            membership.role, membership.structure, membership.organisation, membership.ght
        ),
    )
    changes = {
        "user": [user.email, None],
        "role": [membership.role, None],
        "scope": [str(membership.scope), None],
    }
    record(actor, "membership.remove", membership, ip=ip, changes=changes)
    membership.delete()
    forget_memberships(user)


def reset_mfa(actor: Actor, user: User, *, ip: str | None = None) -> int:
    """Delete the user's authenticator and backup codes (lost phone); they enrol again."""
    _check_target(actor, user)
    removed = delete_devices(user)
    record(actor, "auth.mfa_reset", user, ip=ip, changes={"devices": [removed, 0]})
    return removed


def set_password_path(user: User) -> str:
    """A one-time link path to choose a password (invalid once used or after a few days)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:set_password", kwargs={"uidb64": uid, "token": token})


def issue_set_password_link(actor: Actor, user: User, *, ip: str | None = None) -> str:
    """Path of a fresh set-password link, audited (the link itself is never logged)."""
    _check_target(actor, user)
    record(actor, "user.password_link", user, ip=ip)
    return set_password_path(user)
