"""GHTs, organisations, structures and contacts through the API."""

from __future__ import annotations

from carbet.audit.models import AuditEntry
from carbet.core.models import Contact, Organisation, Structure
from tests.api.conftest import assert_error


def _audited(action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=action).order_by("-sequence").first()
    assert entry is not None, action
    return entry


def test_analyst_creates_and_changes_an_organisation_and_a_structure(region, api):
    client = api("centre_analyst")
    response = client.post(
        "/organisations",
        {
            "finess_ej": "970100012",
            "name": "Clinique Gamma",
            "legal_status": "private",
            "ght": region.ght.pk,
        },
    )
    assert response.status_code == 201, response.content
    organisation = response.json()
    assert organisation["ght"] == {"id": region.ght.pk, "code": "GHT-TEST", "name": "GHT des Tests"}
    assert _audited("organisation.create").source_ip == "127.0.0.1"

    response = client.patch(f"/organisations/{organisation['id']}", {"ght": None})
    assert response.status_code == 200 and response.json()["ght"] is None

    response = client.post(
        "/structures",
        {
            "finess_et": "970100020",
            "name": "Clinique Gamma — site 1",
            "organisation": organisation["id"],
            "category": "clinique",
            "beds": 40,
            "departement": "972",
            "city": "Fort-de-France",
            "activity_weight": 0.66,
        },
    )
    assert response.status_code == 201, response.content
    structure = response.json()
    assert structure["sector"] == "sanitaire" and structure["activity_weight"] == 0.66
    assert structure["organisation"]["name"] == "Clinique Gamma"

    response = client.patch(f"/structures/{structure['id']}", {"beds": 45, "name": "Gamma"})
    assert response.status_code == 200
    assert Structure.objects.get(pk=structure["id"]).beds == 45
    assert _audited("structure.update").changes["beds"] == [40, 45]


def test_patch_only_changes_the_fields_sent_and_refuses_nulls(region, api):
    # The shared fixture's FINESS numbers fail their check digit: use a valid one here.
    structure = Structure.objects.create(
        finess_et="970100038",
        name="EHPAD Delta",
        organisation=region.org_a,
        category="ehpad",
        departement="972",
    )
    client = api("centre_analyst")
    response = client.patch(f"/structures/{structure.pk}", {"city": "Le Carbet"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "EHPAD Delta" and response.json()["city"] == "Le Carbet"
    error = assert_error(client.patch(f"/structures/{structure.pk}", {"name": None}), 422)
    assert "name" in error["details"]


def test_unknown_or_invisible_references_are_a_422_on_their_field(region, api):
    client = api("centre_analyst")
    response = client.post(
        "/structures",
        {
            "finess_et": "970100020",
            "name": "X",
            "organisation": 999999,
            "category": "ch",
            "departement": "972",
        },
    )
    assert "organisation" in assert_error(response, 422)["details"]
    response = client.post(
        "/organisations",
        {"finess_ej": "970100012", "name": "X", "legal_status": "public", "ght": 424242},
    )
    assert "ght" in assert_error(response, 422)["details"]


def test_duplicate_finess_is_a_conflict(region, api):
    response = api("centre_analyst").post(
        "/organisations",
        {"finess_ej": region.org_a.finess_ej, "name": "Copie", "legal_status": "public"},
    )
    assert_error(response, 409, "conflict")


def test_director_gets_403_on_staff_only_endpoints(region, api):
    client = api("director")
    assert_error(
        client.post(
            "/organisations", {"finess_ej": "970100012", "name": "X", "legal_status": "public"}
        ),
        403,
    )
    assert_error(
        client.post(
            "/structures",
            {
                "finess_et": "970100020",
                "name": "X",
                "organisation": region.org_a.pk,
                "category": "ch",
                "departement": "972",
            },
        ),
        403,
    )
    assert_error(client.patch(f"/structures/{region.a.pk}", {"name": "Renamed"}), 403)
    assert_error(client.patch(f"/organisations/{region.org_a.pk}", {"name": "Renamed"}), 403)
    assert Structure.objects.get(pk=region.a.pk).name == "CH Alpha — site principal"
    assert Organisation.objects.filter(finess_ej="970100012").count() == 0


def test_director_gets_404_on_another_structures_objects(region, api):
    client = api("director")
    assert_error(client.get(f"/structures/{region.b.pk}"), 404)
    assert_error(client.patch(f"/structures/{region.b.pk}", {"name": "x"}), 404)
    assert_error(client.get(f"/organisations/{region.org_b.pk}"), 404)
    assert_error(client.get(f"/structures/{region.b.pk}/contacts"), 404)
    contact_b = Contact.objects.get(structure=region.b)
    assert_error(client.patch(f"/contacts/{contact_b.pk}", {"name": "x"}), 404)
    assert_error(client.delete(f"/contacts/{contact_b.pk}"), 404)


def test_lists_show_only_what_the_caller_may_see(region, api):
    director = api("director")
    assert [s["id"] for s in director.get("/structures").json()["results"]] == [region.a.pk]
    assert [o["id"] for o in director.get("/organisations").json()["results"]] == [region.org_a.pk]
    assert [g["id"] for g in director.get("/ghts").json()["results"]] == [region.ght.pk]
    assert director.get(f"/ghts/{region.ght.pk}").json()["code"] == "GHT-TEST"
    assert api("director_b").get("/ghts").json()["count"] == 0
    assert_error(api("director_b").get(f"/ghts/{region.ght.pk}"), 404)
    ght_referent = api("ght_referent").get("/structures").json()
    assert {s["id"] for s in ght_referent["results"]} == {region.a.pk, region.a2.pk}


def test_structure_filters(region, api):
    client = api("centre_admin")

    def ids(**params):
        return {s["id"] for s in client.get("/structures", **params).json()["results"]}

    assert ids(category="ehpad") == {region.a2.pk, region.b.pk}
    assert ids(departement="971") == {region.b.pk}
    assert ids(ght=region.ght.pk) == {region.a.pk, region.a2.pk}
    assert ids(organisation=region.org_b.pk) == {region.b.pk}
    assert ids(search="beta") == {region.b.pk}
    assert ids(search="97020001") == {region.a.pk}
    assert_error(client.get("/structures", category="zoo"), 422)


def test_contact_flow_for_a_director(region, api):
    client = api("director")
    response = client.post(
        f"/structures/{region.a.pk}/contacts",
        {
            "role": "it_provider",
            "name": "Info Services",
            "email": "support@info.test",
            "organisation_name": "Info SARL",
        },
    )
    assert response.status_code == 201, response.content
    contact_id = response.json()["id"]
    listing = client.get(f"/structures/{region.a.pk}/contacts").json()
    assert contact_id in [c["id"] for c in listing["results"]]

    error = assert_error(client.patch(f"/contacts/{contact_id}", {"email": "not an email"}), 422)
    assert "email" in error["details"]
    assert client.patch(f"/contacts/{contact_id}", {"phone": "0596 00 00 00"}).status_code == 200
    assert Contact.objects.get(pk=contact_id).phone == "0596 00 00 00"

    response = client.delete(f"/contacts/{contact_id}")
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()
    assert _audited("contact.delete").actor_id == region.users["director"].pk


def test_it_provider_can_read_contacts_but_not_change_them(region, api):
    client = api("it_provider")
    assert client.get(f"/structures/{region.a.pk}/contacts").status_code == 200
    contact = Contact.objects.get(structure=region.a)
    assert_error(client.delete(f"/contacts/{contact.pk}"), 403)
    assert Contact.objects.filter(pk=contact.pk).exists()
