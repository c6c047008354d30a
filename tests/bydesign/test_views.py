"""Pages and API of the service: what a director, a referent, the centre and the ARS see and
can do; every page and API route refuses another structure's people (404) and those without
the right (403)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from carbet.bydesign import services_decision, services_track
from carbet.bydesign.models import Decision, MeasureState, TrackMark, TrackPush, VendorRequest
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db
P = "/services-numeriques"


def _urls(bd) -> dict[str, str]:
    decision = services_decision.sign(
        bd.users["director_a2"], bd.care, {"outcome": "accept", "months": 12}
    )
    request = VendorRequest.objects.create(
        service=bd.care,
        email="v@x.test",
        token_digest="a" * 64,
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    s, c = bd.a2.pk, bd.care.pk
    return {
        "structure": f"{P}/structure/{s}/",
        "recompute": f"{P}/structure/{s}/recalculer/",
        "track": f"{P}/structure/{s}/parcours/",
        "service": f"{P}/service/{c}/",
        "edit": f"{P}/service/{c}/modifier/",
        "measure": f"{P}/service/{c}/mesure/gov.owner/",
        "decision": f"{P}/service/{c}/decision/",
        "dossier": f"{P}/service/{c}/dossier.pdf",
        "signed": f"{P}/decision/{decision.pk}/pdf/",
        "vendor": f"{P}/service/{c}/fournisseur/",
        "revoke": f"{P}/fournisseur/{request.pk}/revoquer/",
        "delete": f"{P}/service/{c}/supprimer/",
    }


def test_the_director_reads_and_works_on_the_pages(bd):
    urls = _urls(bd)
    client = bd.client("director_a2")
    for name in ("structure", "track", "service", "edit", "measure", "decision", "vendor"):
        response = client.get(urls[name])
        assert response.status_code == 200, name
    body = client.get(urls["service"]).content.decode()
    assert "Indice cyber" in body
    assert "Un hébergeur certifié HDS pour les données de santé" in body
    assert client.get(urls["dossier"])["Content-Type"] == "application/pdf"
    signed = client.get(urls["signed"])
    assert signed.status_code == 200 and b"".join(signed.streaming_content).startswith(b"%PDF")
    response = client.post(urls["measure"], {"status": "done", "evidence": "Mme X"})
    assert response.status_code == 302
    assert MeasureState.objects.get(service=bd.care, code="gov.owner").status == "done"
    response = client.post(urls["measure"], {"status": "na", "reason": ""})
    assert response.status_code == 200 and "Dites pourquoi" in response.content.decode()
    response = client.post(urls["track"], {"code": "exercise", "status": "in_progress", "note": ""})
    assert response.status_code == 302
    assert TrackMark.objects.get(structure=bd.a2, code="exercise").status == "in_progress"


def test_describing_a_service_through_the_form(bd):
    client = bd.client("referent_a2")
    response = client.post(
        f"{P}/structure/{bd.a2.pk}/",
        {
            "name": "Site web",
            "kind": "website",
            "data_kind": "none",
            "hosting": "on_site",
            "internet_exposed": "on",
            "availability": "week",
            "hds": "",
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Un service visible d&#x27;internet isolé du reste du réseau" in page
    bad = client.post(
        f"{P}/structure/{bd.a2.pk}/",
        {
            "name": "DPI",
            "kind": "care_record",
            "data_kind": "health",
            "hosting": "saas",
            "availability": "hours",
            "hds": "",
        },
    )
    assert bad.status_code == 200 and "HDS" in bad.content.decode()


def test_signing_through_the_page_is_the_directors_alone(bd):
    url = f"{P}/service/{bd.care.pk}/decision/"
    data = {"outcome": "accept", "months": "24", "confirm": "on"}
    assert bd.client("referent_a2").post(url, data).status_code == 403
    assert bd.client("centre_admin").post(url, data).status_code == 403
    assert not Decision.objects.exists()
    assert bd.client("director_a2").post(url, data).status_code == 302
    assert Decision.objects.get().valid_until > timezone.localdate()


def test_another_structures_people_get_404_everywhere(bd):
    urls = _urls(bd)
    for role in ("director_b", "director", "it_provider"):  # B, and A's site (not a2)
        client = bd.client(role)
        for name, url in urls.items():
            assert client.get(url).status_code in (404, 405), (role, name)
            assert client.post(url, {"status": "done"}).status_code in (404, 405), (role, name)
    assert Decision.objects.count() == 1 and bd.care.pk


def test_the_it_provider_without_rights_gets_403_on_what_it_may_not_do(bd):
    from carbet.accounts.roles import StructureRole
    from tests.conftest import login, make_user

    it = make_user("it@ehpad-alpha.test", **{StructureRole.IT_PROVIDER: [bd.a2]})
    from django.test import Client

    client = login(Client(), it)
    assert client.get(f"{P}/service/{bd.care.pk}/").status_code == 200
    assert (
        client.post(
            f"{P}/service/{bd.care.pk}/fournisseur/", {"email": "a@b.test", "days": "30"}
        ).status_code
        == 403
    )


def test_region_exact_for_the_centre_and_protected_for_the_ars(bd):
    services_track.compute([bd.a2.pk, bd.b.pk])
    analyst = bd.client("centre_analyst").get(f"{P}/parcours/region/").content.decode()
    assert "EHPAD Alpha" in analyst and "Pousser l'étape" in analyst
    ars = bd.client("ars_viewer").get(f"{P}/parcours/region/")
    assert ars.status_code == 200
    text = ars.content.decode()
    assert "EHPAD Alpha" not in text and "EHPAD Beta" not in text
    assert "trop petit" in text or "secret" in text
    assert bd.client("director_a2").get(f"{P}/parcours/region/").status_code == 403
    response = bd.client("centre_analyst").post(
        f"{P}/parcours/pousser/",
        {"code": "backups_tested", "categories": ["ehpad"], "message": "Ce mois-ci : sauvegardes"},
    )
    assert response.status_code == 302
    assert set(TrackPush.objects.values_list("structure_id", flat=True)) == {bd.a2.pk, bd.b.pk}
    page = bd.client("director_a2").get(f"{P}/structure/{bd.a2.pk}/parcours/").content.decode()
    assert "Ce mois-ci : sauvegardes" in page and "Des sauvegardes testées" in page
    assert bd.client("director_a2").post(f"{P}/parcours/pousser/", {}).status_code == 403


# --- API -----------------------------------------------------------------------------------


def test_api_describe_update_and_sign(bd):
    referent = token_client(bd.users["referent_a2"])
    created = referent.post(
        "/bydesign/digital-services",
        {
            "structure": bd.a2.pk,
            "name": "Télémédecine",
            "kind": "telemedicine",
            "data_kind": "health",
            "hosting": "saas",
            "hds_certified": True,
            "internet_exposed": True,
            "availability": "day",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["index"] == 0 and any(m["code"] == "gov.hds" for m in body["measures"])
    pk = body["id"]
    updated = referent.post(
        f"/bydesign/digital-services/{pk}/measures", {"code": "gov.owner", "status": "done"}
    )
    assert updated.status_code == 200 and updated.json()["index"] > 0
    bad = referent.post(
        f"/bydesign/digital-services/{pk}/measures", {"code": "def.logs", "status": "na"}
    )
    assert bad.status_code == 422
    assert (
        referent.post(
            f"/bydesign/digital-services/{pk}/decisions", {"outcome": "accept", "months": 12}
        ).status_code
        == 403
    )
    director = token_client(bd.users["director_a2"])
    signed = director.post(
        f"/bydesign/digital-services/{pk}/decisions", {"outcome": "accept", "months": 12}
    )
    assert signed.status_code == 201 and signed.json()["decision"]["state"] == "valid"
    assert (
        director.post(
            f"/bydesign/digital-services/{pk}/decisions", {"outcome": "accept", "months": 60}
        ).status_code
        == 422
    )
    patched = referent.patch(f"/bydesign/digital-services/{pk}", {"hosting": "it_provider"})
    assert patched.status_code == 200 and patched.json()["decision"]["state"] == "review"
    listed = referent.get("/bydesign/digital-services").json()
    assert {row["id"] for row in listed["results"]} == {bd.care.pk, pk}
    track = director.get(f"/bydesign/structures/{bd.a2.pk}/track").json()
    assert track["step"] == "diagnostic" and len(track["essentials"]) == 10
    marked = director.post(
        f"/bydesign/structures/{bd.a2.pk}/track", {"code": "updates", "status": "done"}
    )
    assert marked.status_code == 200
    assert {e["code"]: e["status"] for e in marked.json()["essentials"]}["updates"] == "done"


def test_api_refuses_other_structures_and_protects_the_region(bd):
    other = token_client(bd.users["director_b"])
    pk = bd.care.pk
    assert other.get(f"/bydesign/digital-services/{pk}").status_code == 404
    assert other.patch(f"/bydesign/digital-services/{pk}", {"name": "x"}).status_code == 404
    assert (
        other.post(
            f"/bydesign/digital-services/{pk}/measures", {"code": "gov.owner", "status": "done"}
        ).status_code
        == 404
    )
    assert (
        other.post(
            f"/bydesign/digital-services/{pk}/decisions", {"outcome": "accept", "months": 12}
        ).status_code
        == 404
    )
    assert other.get(f"/bydesign/structures/{bd.a2.pk}/track").status_code == 404
    assert other.get("/bydesign/digital-services").json()["count"] == 0
    created = other.post(
        "/bydesign/digital-services",
        {
            "structure": bd.a2.pk,
            "name": "x",
            "kind": "other",
            "data_kind": "none",
            "hosting": "on_site",
            "availability": "week",
        },
    )
    assert created.status_code == 404
    assert other.get("/bydesign/region/track").status_code == 403
    ars = token_client(bd.users["ars_viewer"]).get("/bydesign/region/track").json()
    assert ars["protected"] is True
    assert all(n is None for _label, n, _share in ars["essentials"])
    centre = token_client(bd.users["centre_analyst"]).get("/bydesign/region/track").json()
    assert centre["protected"] is False and centre["total"] == 2
