"""Mutual aid: the audience rule for each audience, private conversations and their e-mail
notices through a real SMTP server (no address, no content), moderation, the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carbet.accounts.roles import StructureRole
from carbet.audit.models import AuditEntry
from carbet.community import selectors_aid, services_aid
from carbet.community.models import AidMessage, AidPost, AidThread
from carbet.core.models import Organisation, Structure
from carbet.core.tenancy import SYSTEM
from tests.conftest import make_user

SECRET_BODY = "Notre NAS Synology a chiffré la nuit dernière"


@dataclass
class AidRegion:
    region: object
    c: Structure  # clinique, 971, no GHT: sanitaire
    d: Structure  # EHPAD, 972, in the GHT: médico-social


@pytest.fixture
def aid_region(region):
    org_c = Organisation.objects.create(
        finess_ej="970100019", name="SAS Clinique Gamma", legal_status="private"
    )
    org_d = Organisation.objects.create(
        finess_ej="970200044", name="EHPAD Delta", legal_status="public", ght=region.ght
    )
    c = Structure.objects.create(
        finess_et="970100027",
        name="Clinique Gamma",
        organisation=org_c,
        category="clinique",
        beds=90,
        departement="971",
    )
    d = Structure.objects.create(
        finess_et="970200051",
        name="EHPAD Delta",
        organisation=org_d,
        category="ehpad",
        places=70,
        departement="972",
    )
    region.users["director_c"] = make_user("dir@gamma.test", **{StructureRole.DIRECTOR: [c]})
    region.users["director_d"] = make_user("dir@delta.test", **{StructureRole.DIRECTOR: [d]})
    region.users["director_a2"] = make_user(
        "dir@ehpad-alpha.test", **{StructureRole.DIRECTOR: [region.a2]}
    )
    return AidRegion(region, c, d)


def _post(structure, audience="community", **extra):
    values = {
        "kind": "request",
        "topic": "equipment",
        "title": f"Disque à prêter ({audience})",
        "body": "Un disque de 4 To pour une sauvegarde hors ligne.",
        "audience": audience,
        **extra,
    }
    return services_aid.create_post(SYSTEM, structure, values)


def _seen_by(user) -> set[int]:
    return set(selectors_aid.posts_shown_to(user).values_list("pk", flat=True))


# Poster A (CH, 972, in the GHT): who of a2 (EHPAD, 972, GHT), b (EHPAD, 971), c (clinique,
# 971), d (EHPAD, 972, GHT) sees each audience.
AUDIENCE_FROM_A = {
    "community": {"director_a2", "director_b", "director_c", "director_d"},
    "departement": {"director_a2", "director_d"},
    "ght": {"director_a2", "director_d"},
    "sector": {"director_c"},
}
OTHERS = ("director_a2", "director_b", "director_c", "director_d")


@pytest.mark.parametrize("audience", sorted(AUDIENCE_FROM_A))
def test_audience_rule_for_a_post_of_a(aid_region, audience):
    users = aid_region.region.users
    post = _post(aid_region.region.a, audience)
    for name in OTHERS:
        assert (post.pk in _seen_by(users[name])) == (name in AUDIENCE_FROM_A[audience]), name
    # Its own structure and the centre always see it; the ARS and people without one never.
    assert post.pk in _seen_by(users["director"])
    assert post.pk in _seen_by(users["it_provider"])
    assert post.pk in _seen_by(users["centre_analyst"])
    assert post.pk not in _seen_by(users["ars_viewer"])
    assert post.pk not in _seen_by(users["nobody"])


def test_audience_rule_for_a_post_of_b_without_ght(aid_region):
    users = aid_region.region.users
    b = aid_region.region.b
    ght, sector, dep = _post(b, "ght"), _post(b, "sector"), _post(b, "departement")
    # Without a GHT, a "GHT" post reaches no one else.
    assert all(
        ght.pk not in _seen_by(users[n]) for n in ("director_a2", "director_c", "director_d")
    )
    # médico-social: the two other EHPAD; not the clinique, not the CH.
    assert sector.pk in _seen_by(users["director_a2"]) and sector.pk in _seen_by(
        users["director_d"]
    )
    assert sector.pk not in _seen_by(users["director_c"])
    assert sector.pk not in _seen_by(users["director"])
    assert dep.pk in _seen_by(users["director_c"]) and dep.pk not in _seen_by(users["director_d"])


def test_others_no_longer_see_a_post_closed_fulfilled_or_past_its_date(aid_region):
    users = aid_region.region.users
    a = aid_region.region.a
    fulfilled, closed, past = _post(a), _post(a), _post(a)
    services_aid.set_post_status(users["director"], fulfilled, "fulfilled")
    services_aid.set_post_status(users["director"], closed, "closed")
    AidPost.objects.filter(pk=past.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    seen_by_b = _seen_by(users["director_b"])
    assert not {fulfilled.pk, closed.pk, past.pk} & seen_by_b
    assert {fulfilled.pk, closed.pk, past.pk} <= _seen_by(users["director"])
    with pytest.raises(ValidationError):
        services_aid.set_post_status(users["director"], closed, "open")


def test_only_the_posts_structure_people_post_and_manage(aid_region):
    users = aid_region.region.users
    a = aid_region.region.a
    with pytest.raises(PermissionDenied):
        _post_as(users["director_b"], a)
    with pytest.raises(PermissionDenied):  # the centre moderates, it does not post for A
        _post_as(users["centre_admin"], a)
    post = _post_as(users["referent"], a)
    assert post.author == users["referent"]
    with pytest.raises(PermissionDenied):
        services_aid.set_post_status(users["director_b"], post, "fulfilled")
    with pytest.raises(ValidationError):
        services_aid.create_post(users["director"], a, {"kind": "x", "title": ""})
    assert AuditEntry.objects.filter(
        action="community.aid.post.create", structure=a, object_id=str(post.pk)
    ).exists()


def _post_as(user, structure):
    return services_aid.create_post(
        user,
        structure,
        {"kind": "offer", "topic": "staff", "title": "DPO partagé", "body": "Deux jours par mois."},
    )


def _mail_text(message) -> str:
    parts = [str(message["Subject"]), str(message["From"]), str(message["To"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def test_answer_opens_a_private_thread_and_notices_leak_nothing(aid_region, smtp_inbox):
    region = aid_region.region
    users = region.users
    for key, name in (("director_b", "Bertrand Beta"), ("referent", "Rosalie Alpha")):
        users[key].full_name = name
        users[key].save(update_fields=["full_name"])
    post = services_aid.create_post(
        users["director"],
        region.a,
        {
            "kind": "request",
            "topic": "incident",
            "title": "Aide après le chiffrement du NAS",
            "body": "Qui a déjà restauré un NAS ?",
            "audience": "community",
        },
    )
    thread = services_aid.answer_post(users["director_b"], post, region.b, SECRET_BODY)
    assert (thread.owner, thread.structure, thread.post) == (region.a, region.b, post)
    # The post's author is told, by a mail that says only "a reply is waiting" and a link.
    mails = smtp_inbox.by_recipient()
    assert set(mails) == {"dir@alpha.test"}
    text = _mail_text(mails["dir@alpha.test"][0])
    assert f"/communaute/entraide/conversations/{thread.pk}/" in text
    for leak in (SECRET_BODY, "dir@beta.test", "beta.test", region.b.name, post.title, "Bertrand"):
        assert leak not in text.replace("dir@alpha.test", ""), leak
    # A reply goes the other way, to the person of B who wrote.
    smtp_inbox.messages.clear()
    services_aid.write(users["referent"], thread, "Nous pouvons vous prêter notre technicien.")
    mails = smtp_inbox.by_recipient()
    assert set(mails) == {"dir@beta.test"}
    text = _mail_text(mails["dir@beta.test"][0])
    for leak in ("Nous pouvons", "alpha.test", region.a.name, "Rosalie"):
        assert leak not in text.replace("dir@beta.test", ""), leak
    # Answering again reuses the same conversation.
    again = services_aid.answer_post(users["director_b"], post, region.b, "Autre précision")
    assert again.pk == thread.pk and thread.messages.count() == 3
    # Audited under the structure that wrote, without the text.
    entries = AuditEntry.objects.filter(action="community.aid.thread.write")
    assert {e.structure_id for e in entries} == {region.a.pk, region.b.pk}
    assert all(SECRET_BODY not in str(e.changes) for e in entries)
    assert not AuditEntry.objects.filter(
        action="community.aid.thread.write", structure=region.a, actor_label="dir@beta.test"
    ).exists()


def test_a_structure_left_out_of_the_audience_cannot_answer(aid_region):
    region = aid_region.region
    post = _post(region.a, "ght")
    with pytest.raises(PermissionDenied):
        services_aid.answer_post(region.users["director_b"], post, region.b, "Bonjour")
    with pytest.raises(PermissionDenied):  # acting for a structure that is not theirs
        services_aid.answer_post(region.users["director_b"], post, aid_region.d, "Bonjour")
    with pytest.raises(ValidationError):
        services_aid.answer_post(region.users["director"], post, region.a, "Bonjour")
    thread = services_aid.answer_post(region.users["director_d"], post, aid_region.d, "Oui")
    assert thread.structure == aid_region.d


def test_threads_are_seen_by_their_two_structures_and_the_centre_only(aid_region, smtp_inbox):
    region = aid_region.region
    users = region.users
    post = _post(region.a)
    thread = services_aid.answer_post(users["director_c"], post, aid_region.c, "Bonjour")
    for name in ("director", "referent", "it_provider", "director_c", "centre_analyst"):
        assert selectors_aid.threads_for(users[name]).filter(pk=thread.pk).exists(), name
    for name in ("director_b", "director_d", "ars_viewer", "nobody"):
        assert not selectors_aid.threads_for(users[name]).filter(pk=thread.pk).exists(), name
    with pytest.raises(PermissionDenied):  # the centre reads, it does not write
        services_aid.write(users["centre_admin"], thread, "Bonjour")
    with pytest.raises(PermissionDenied):
        services_aid.write(users["director_b"], thread, "Bonjour")


def test_a_mail_server_that_is_down_never_loses_the_message(aid_region, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    region = aid_region.region
    post = _post(region.a)
    thread = services_aid.answer_post(region.users["director_b"], post, region.b, "Bonjour")
    assert AidMessage.objects.filter(thread=thread).count() == 1


def test_unread_messages_are_read_once_the_other_side_opens_them(aid_region, smtp_inbox):
    region = aid_region.region
    users = region.users
    thread = services_aid.answer_post(users["director_b"], _post(region.a), region.b, "Bonjour")
    assert selectors_aid.unread_count(users["director"]) == 1
    assert selectors_aid.unread_count(users["director_b"]) == 0
    services_aid.mark_read(users["director_b"], thread)  # their own message: still unread by A
    assert selectors_aid.unread_count(users["director"]) == 1
    services_aid.mark_read(users["referent"], thread)
    assert selectors_aid.unread_count(users["director"]) == 0


def test_the_centre_hides_a_post_with_a_reason(aid_region):
    region = aid_region.region
    users = region.users
    post = _post(region.a)
    with pytest.raises(PermissionDenied):
        services_aid.hide_post(users["director"], post, "Hors sujet")
    with pytest.raises(ValidationError):
        services_aid.hide_post(users["centre_analyst"], post, "")
    services_aid.hide_post(users["centre_analyst"], post, "Annonce commerciale")
    post.refresh_from_db()
    assert post.status == "closed"
    assert post.pk not in _seen_by(users["director_b"])
    assert post.pk in _seen_by(users["director"])
    moderation = selectors_aid.moderation_of(post)
    assert moderation is not None and moderation.reason == "Annonce commerciale"
    assert AuditEntry.objects.filter(action="community.aid.post.hide", structure=region.a).exists()


def test_threads_are_made_once_per_post_and_structure(aid_region, smtp_inbox):
    region = aid_region.region
    post = _post(region.a)
    services_aid.answer_post(region.users["director_b"], post, region.b, "Un")
    services_aid.answer_post(region.users["director_b"], post, region.b, "Deux")
    assert AidThread.objects.filter(post=post).count() == 1
