"""Mutual-aid pages: every page for its people, every route refused across structures (B never
sees a post whose audience leaves it out, nor a conversation between A and a third structure),
the skills directory opt-in and opt-out, and no e-mail address anywhere in a page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carbet.community import services_aid
from carbet.community.models import AidPost, AidThread, SkillProfile
from carbet.core.models import Organisation, Structure
from tests.conftest import make_user

SECRET = "CH Alpha-Secret"


@pytest.fixture
def aid_pages(region, smtp_inbox):
    """A GHT post of A (B, without a GHT, is left out), a community post of A answered by a
    third structure C, and A's director in the skills directory."""
    org_c = Organisation.objects.create(
        finess_ej="970100019", name="SAS Clinique Gamma", legal_status="private"
    )
    c = Structure.objects.create(
        finess_et="970100027",
        name="Clinique Gamma",
        organisation=org_c,
        category="clinique",
        beds=90,
        departement="971",
    )
    region.users["director_c"] = make_user("dir@gamma.test", director=[c])
    ght_post = services_aid.create_post(
        region.users["director"],
        region.a,
        {
            "kind": "offer",
            "topic": "staff",
            "title": f"{SECRET} DPO partagé",
            "body": "Deux jours par mois.",
            "audience": "ght",
        },
    )
    open_post = services_aid.create_post(
        region.users["director"],
        region.a,
        {
            "kind": "request",
            "topic": "equipment",
            "title": "Disque à emprunter",
            "body": "4 To.",
            "audience": "community",
        },
    )
    thread = services_aid.answer_post(
        region.users["director_c"], open_post, c, f"{SECRET} : nous avons un disque."
    )
    profile = services_aid.save_profile(
        region.users["director"],
        region.a,
        {"skills": "sauvegardes, pare-feu", "software": "Veeam", "remote": True, "visible": True},
    )
    smtp_inbox.messages.clear()
    return {
        "region": region,
        "c": c,
        "ght_post": ght_post,
        "open_post": open_post,
        "thread": thread,
        "profile": profile,
        "inbox": smtp_inbox,
    }


def _get(region, role, name, *args):
    return region.client(role).get(reverse(f"community:{name}", args=args))


def test_pages_open_for_the_posts_people(aid_pages):
    region = aid_pages["region"]
    post, thread = aid_pages["ght_post"], aid_pages["thread"]
    for name, args in (
        ("aid", ()),
        ("aid_post_new", ()),
        ("aid_post", (post.pk,)),
        ("aid_post_edit", (post.pk,)),
        ("aid_threads", ()),
        ("aid_thread", (thread.pk,)),
        ("aid_skills", ()),
        ("aid_skills_edit", ()),
    ):
        response = _get(region, "director", name, *args)
        assert response.status_code == 200, name
        text = response.content.decode()
        # No e-mail address of another structure on any page.
        assert "dir@gamma.test" not in text, name
    board = _get(region, "director", "aid").content.decode()
    assert SECRET in board and "Disque à emprunter" in board
    page = _get(region, "director", "aid_thread", thread.pk).content.decode()
    assert "nous avons un disque" in page and "Clinique Gamma" in page


def test_b_never_sees_a_post_whose_audience_excludes_it(aid_pages):
    region = aid_pages["region"]
    post, thread = aid_pages["ght_post"], aid_pages["thread"]
    board = _get(region, "director_b", "aid").content.decode()
    assert SECRET not in board and "Disque à emprunter" in board
    client = region.client("director_b")
    for name in ("aid_post", "aid_post_edit"):
        assert client.get(reverse(f"community:{name}", args=[post.pk])).status_code == 404
    for name in ("aid_post_status", "aid_post_hide", "aid_post_answer", "aid_post_edit"):
        response = client.post(
            reverse(f"community:{name}", args=[post.pk]),
            {"status": "closed", "reason": "x", "body": "x", "structure": region.b.pk},
        )
        assert response.status_code == 404, name
    assert AidPost.objects.get(pk=post.pk).status == "open"
    # Nor the conversation between A and C.
    assert client.get(reverse("community:aid_thread", args=[thread.pk])).status_code == 404
    assert (
        client.post(
            reverse("community:aid_thread", args=[thread.pk]), {"body": "intrus"}
        ).status_code
        == 404
    )
    assert SECRET not in _get(region, "director_b", "aid_threads").content.decode()
    assert thread.messages.count() == 1


def test_the_ars_and_people_without_a_structure_get_nothing(aid_pages):
    region = aid_pages["region"]
    for role in ("ars_viewer", "nobody"):
        for name in ("aid", "aid_threads", "aid_skills", "aid_post_new", "aid_skills_edit"):
            assert _get(region, role, name).status_code == 403, (role, name)
        assert _get(region, role, "aid_post", aid_pages["open_post"].pk).status_code == 404


def test_answering_through_the_page_notices_the_author(aid_pages):
    region = aid_pages["region"]
    post = aid_pages["open_post"]
    response = region.client("director_b").post(
        reverse("community:aid_post_answer", args=[post.pk]),
        {"structure": region.b.pk, "body": "Nous aussi, nous cherchons."},
    )
    thread = AidThread.objects.get(post=post, structure=region.b)
    assert response.status_code == 302 and response["Location"].endswith(f"/{thread.pk}/")
    mails = aid_pages["inbox"].by_recipient()
    assert set(mails) == {"dir@alpha.test"}
    assert "Nous aussi" not in mails["dir@alpha.test"][0].get_body(("plain",)).get_content()
    # A's director answers in the thread; B's director is told.
    aid_pages["inbox"].messages.clear()
    region.client("director").post(
        reverse("community:aid_thread", args=[thread.pk]), {"body": "Merci !"}
    )
    assert set(aid_pages["inbox"].by_recipient()) == {"dir@beta.test"}


def test_the_centre_moderates_from_the_post_page(aid_pages):
    region = aid_pages["region"]
    post = aid_pages["open_post"]
    assert _get(region, "centre_analyst", "aid_thread", aid_pages["thread"].pk).status_code == 200
    assert (
        region.client("director")
        .post(reverse("community:aid_post_hide", args=[post.pk]), {"reason": "x"})
        .status_code
        == 403
    )
    region.client("centre_analyst").post(
        reverse("community:aid_post_hide", args=[post.pk]), {"reason": "Annonce commerciale"}
    )
    assert AidPost.objects.get(pk=post.pk).status == "closed"
    assert _get(region, "director_b", "aid_post", post.pk).status_code == 404
    page = _get(region, "director", "aid_post", post.pk).content.decode()
    assert "Annonce commerciale" in page


def test_skills_directory_opt_in_and_out(aid_pages):
    region = aid_pages["region"]
    profile = aid_pages["profile"]
    listing = _get(region, "director_b", "aid_skills").content.decode()
    assert "sauvegardes" in listing and "dir@alpha.test" not in listing
    contact = reverse("community:aid_skill_contact", args=[profile.pk])
    client_b = region.client("director_b")
    assert client_b.get(contact).status_code == 200
    response = client_b.post(contact, {"structure": region.b.pk, "body": "Pouvez-vous aider ?"})
    thread = AidThread.objects.get(profile=profile)
    assert response.status_code == 302 and thread.owner == region.a
    assert set(aid_pages["inbox"].by_recipient()) == {"dir@alpha.test"}
    # Opting out: gone from the directory, contact refused; the thread stays.
    region.client("director").post(
        reverse("community:aid_skills_edit"),
        {"structure": region.a.pk, "skills": "sauvegardes", "remote": "on"},
    )
    assert SkillProfile.objects.get(pk=profile.pk).visible is False
    assert "sauvegardes" not in _get(region, "director_b", "aid_skills").content.decode()
    assert client_b.get(contact).status_code == 404
    assert client_b.post(contact, {"structure": region.b.pk, "body": "x"}).status_code == 404
    assert _get(region, "director_b", "aid_thread", thread.pk).status_code == 200


def test_a_hidden_profile_is_never_listed(region):
    user = region.users["referent"]
    services_aid.save_profile(user, region.a, {"skills": "Active Directory", "visible": False})
    assert "Active Directory" not in _get(region, "director_b", "aid_skills").content.decode()
    assert "Active Directory" not in _get(region, "director", "aid_skills").content.decode()
