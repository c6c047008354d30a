"""Account management: who may manage, what is audited, and tenancy of the user pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts.models import Membership, User
from carbet.accounts.roles import DIRECTOR, MATRIX, CentreRole, Perm, StructureRole
from carbet.audit.models import AuditEntry
from carbet.core.tenancy import can
from tests.accounts.test_login import post_login
from tests.conftest import login

USERS = reverse("accounts:users")
CREATE = reverse("accounts:user_create")
NEW_PASSWORD = "un carbet solide sous les palmiers"


def detail(user) -> str:
    return reverse("accounts:user_detail", args=[user.pk])


@pytest.mark.parametrize(
    "role", ["centre_analyst", "ars_viewer", "director", "referent", "it_provider", "nobody"]
)
def test_non_admins_get_403_everywhere(region, role):
    client = region.client(role)
    target = region.users["director_b"]
    membership = Membership.objects.filter(user=target).first()
    assert client.get(USERS).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert (
        client.post(CREATE, {"email": "x@y.test", "centre_role": "centre_admin"}).status_code == 403
    )
    assert client.get(detail(target)).status_code == 403
    for name in ("user_update", "membership_add", "user_mfa_reset", "user_link"):
        response = client.post(reverse(f"accounts:{name}", args=[target.pk]), {"is_active": ""})
        assert response.status_code == 403, name
    assert (
        client.post(reverse("accounts:membership_remove", args=[membership.pk])).status_code == 403
    )
    assert not User.objects.filter(email="x@y.test").exists()
    target.refresh_from_db()
    assert target.is_active


def test_admin_lists_and_searches_accounts(region):
    client = region.client("centre_admin")
    body = client.get(USERS).content.decode()
    assert "dir@beta.test" in body and "dir@alpha.test" in body
    body = client.get(USERS, {"q": "beta"}).content.decode()
    assert "dir@beta.test" in body and "dir@alpha.test" not in body


def test_admin_creates_an_account_and_hands_over_a_one_time_link(region):
    client = region.client("centre_admin")
    response = client.post(
        CREATE,
        {
            "email": "New.Person@Alpha.test",
            "full_name": "Nouvelle Personne",
            "centre_role": "",
            "role": StructureRole.REFERENT,
            "structure": region.a2.pk,
        },
    )
    assert response.status_code == 200
    user = User.objects.get(email="new.person@alpha.test")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, structure=region.a2, role="referent").exists()
    created = AuditEntry.objects.get(action="user.create")
    assert created.actor_id == region.users["centre_admin"].pk
    assert created.changes["email"] == [None, "new.person@alpha.test"]
    added = AuditEntry.objects.get(action="membership.add")
    assert added.changes["role"] == [None, "referent"]
    assert added.structure_id == region.a2.pk

    link = re.search(
        r'value="(http://testserver/compte/mot-de-passe/[^"]+)"', response.content.decode()
    )
    path = link.group(1).removeprefix("http://testserver")
    anonymous = Client()
    assert anonymous.get(path).status_code == 200
    weak = anonymous.post(path, {"new_password1": "password1234", "new_password2": "password1234"})
    assert weak.status_code == 200 and "errorlist" in weak.content.decode()
    done = anonymous.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    # The link is single-use: the password change invalidates it.
    assert anonymous.get(path).status_code == 400
    assert post_login(Client(), "new.person@alpha.test", NEW_PASSWORD).status_code == 302


def test_duplicate_email_and_missing_scope_are_explained(region):
    client = region.client("centre_admin")
    dup = client.post(CREATE, {"email": "DIR@alpha.test", "centre_role": "centre_analyst"})
    assert dup.status_code == 200 and "existe déjà" in dup.content.decode()
    two_scopes = client.post(
        CREATE,
        {"email": "z@z.test", "role": "director", "structure": region.a.pk, "ght": region.ght.pk},
    )
    assert "une seule portée" in two_scopes.content.decode()
    nothing = client.post(CREATE, {"email": "z@z.test"})
    assert "sans cela le compte ne" in nothing.content.decode()
    assert not User.objects.filter(email="z@z.test").exists()


def test_admin_changes_role_and_activation_with_before_after_audit(region):
    client = region.client("centre_admin")
    target = region.users["director_b"]
    response = client.post(
        reverse("accounts:user_update", args=[target.pk]),
        {"full_name": "Dir Beta", "centre_role": CentreRole.ANALYST, "is_active": ""},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.centre_role == CentreRole.ANALYST and not target.is_active
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes["centre_role"] == ["", "centre_analyst"]
    assert entry.changes["is_active"] == [True, False]
    assert entry.changes["full_name"] == ["dir", "Dir Beta"]


def test_admin_cannot_demote_or_deactivate_themself(region):
    admin = region.users["centre_admin"]
    client = region.client("centre_admin")
    response = client.post(
        reverse("accounts:user_update", args=[admin.pk]),
        {"full_name": "x", "centre_role": "", "is_active": "on"},
    )
    assert response.status_code == 400
    admin.refresh_from_db()
    assert admin.centre_role == CentreRole.ADMIN


def test_memberships_add_and_remove_are_audited_and_take_effect(region):
    client = region.client("centre_admin")
    target = region.users["director_b"]
    assert not can(target, Perm.STRUCTURE_VIEW, region.a)
    response = client.post(
        reverse("accounts:membership_add", args=[target.pk]),
        {"role": "it_provider", "organisation": region.org_a.pk},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=target, organisation=region.org_a)
    fresh = User.objects.get(pk=target.pk)
    assert can(fresh, Perm.ASSET_EDIT, region.a2)
    assert AuditEntry.objects.get(action="membership.add").changes["scope"] == [None, "CH Alpha"]

    again = client.post(
        reverse("accounts:membership_add", args=[target.pk]),
        {"role": "it_provider", "organisation": region.org_a.pk},
    )
    assert again.status_code == 400 and "existe déjà" in again.content.decode()

    response = client.post(reverse("accounts:membership_remove", args=[membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEntry.objects.get(action="membership.remove").changes["role"] == [
        "it_provider",
        None,
    ]
    assert not can(User.objects.get(pk=target.pk), Perm.ASSET_EDIT, region.a2)


def test_admin_resets_a_lost_phone(region):
    target = region.users["centre_analyst"]
    TOTPDevice.objects.create(user=target, name="phone", confirmed=True)
    StaticDevice.objects.create(user=target, name="codes", confirmed=True)
    client = region.client("centre_admin")
    response = client.post(reverse("accounts:user_mfa_reset", args=[target.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    entry = AuditEntry.objects.get(action="auth.mfa_reset")
    assert entry.actor_id == region.users["centre_admin"].pk
    # At the next login, the analyst is sent to enrolment again.
    assert post_login(Client(), target.email).url == reverse("accounts:enrol")


def test_admin_issues_a_new_link(region):
    client = region.client("centre_admin")
    target = region.users["director_b"]
    response = client.post(reverse("accounts:user_link", args=[target.pk]))
    assert response.status_code == 200
    assert "/compte/mot-de-passe/" in response.content.decode()
    assert AuditEntry.objects.filter(action="user.password_link").count() == 1


def test_unknown_user_is_404_for_admin(region):
    assert region.client("centre_admin").get("/compte/utilisateurs/999999/").status_code == 404


def test_director_cannot_see_users_of_another_structure(region, monkeypatch):
    """Even if directors were given account management on their structures, the pages would
    only show accounts attached to those structures."""
    client = region.client("director")
    assert client.get(detail(region.users["director_b"])).status_code == 403
    monkeypatch.setitem(MATRIX, Perm.USER_MANAGE, MATRIX[Perm.USER_MANAGE] | {DIRECTOR})
    director = region.users["director"]
    client = login(Client(), director)
    body = client.get(USERS).content.decode()
    assert "ref@alpha.test" in body
    assert "dir@beta.test" not in body and "admin@centre.test" not in body
    assert client.get(detail(region.users["director_b"])).status_code == 404
    assert client.get(detail(region.users["centre_admin"])).status_code == 404
    assert client.get(detail(region.users["referent"])).status_code == 200
    # Scope choices only list what the director manages; another structure is refused.
    response = client.post(
        reverse("accounts:membership_add", args=[region.users["referent"].pk]),
        {"role": "referent", "structure": region.b.pk},
    )
    assert response.status_code == 400
    assert not Membership.objects.filter(structure=region.b, user=region.users["referent"]).exists()
    # And no regional role can be handed out.
    client.post(CREATE, {"email": "sneaky@x.test", "centre_role": "centre_admin"})
    assert not User.objects.filter(email="sneaky@x.test", centre_role="centre_admin").exists()
