"""The region table, "my structures", the structure, organisation and GHT pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from carbet.core.models import Asset, Contact, Ght, Organisation, Structure
from tests.conftest import make_mandate, proven

pytestmark = pytest.mark.django_db


def region_url(**params) -> str:
    from urllib.parse import urlencode

    return reverse("core:region") + ("?" + urlencode(params) if params else "")


def test_region_lists_every_structure_with_its_figures(region):
    response = region.client("centre_analyst").get(reverse("core:region"))
    assert response.status_code == 200
    body = response.content.decode()
    for structure in (region.a, region.a2, region.b):
        assert structure.finess_et in body
        assert structure.name in body
    assert "1 / 1" in body  # validated / total assets
    assert "En vigueur jusqu" in body
    assert response.context["matching"] == 3


@pytest.mark.parametrize(
    "role", ["director", "referent", "it_provider", "ars_viewer", "nobody", "org_director"]
)
def test_region_is_for_centre_staff_only(region, role):
    assert region.client(role).get(reverse("core:region")).status_code == 403


def test_region_requires_login(client, region):
    response = client.get(reverse("core:region"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "ehpad"}, {"a2", "b"}),
        ({"sector": "sanitaire"}, {"a"}),
        ({"sector": "medico_social"}, {"a2", "b"}),
        ({"departement": "971"}, {"b"}),
        ({"q": "beta"}, {"b"}),
        ({"q": "970200010"}, {"a"}),
        ({"q": "Fort-de-France"}, {"a"}),
        ({"mandate": "none"}, {"a2"}),
        ({"mandate": "expiring"}, {"b"}),
        ({"mandate": "valid"}, {"a"}),
        ({"category": "not-a-category"}, {"a", "a2", "b"}),
    ],
)
def test_region_filters(region, params, expected):
    region.a.city = "Fort-de-France"
    region.a.save()
    region.a2.mandates.all().delete()
    region.b.mandates.update(valid_until=dt.date.today() + dt.timedelta(days=10))
    by_key = {region.a.pk: "a", region.a2.pk: "a2", region.b.pk: "b"}
    response = region.client("centre_admin").get(region_url(**params))
    assert response.status_code == 200
    shown = {by_key[s.pk] for s in response.context["page"].object_list}
    assert shown == expected


def test_region_filters_by_ght_and_organisation(region):
    client = region.client("centre_admin")
    response = client.get(region_url(ght=region.ght.pk))
    assert {s.pk for s in response.context["page"].object_list} == {region.a.pk, region.a2.pk}
    response = client.get(region_url(organisation=region.org_b.pk))
    assert [s.pk for s in response.context["page"].object_list] == [region.b.pk]


def test_region_htmx_request_gets_only_the_table(region):
    response = region.client("centre_admin").get(
        region_url(category="ehpad"), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'id="structures-table"' in body
    assert "<html" not in body


def _bulk_region(count: int, assets_per_structure: int) -> None:
    org = Organisation.objects.create(finess_ej="750100125", name="Org", legal_status="public")
    ght = Ght.objects.create(code="G1", name="G1")
    org.ght = ght
    org.save()
    structures = Structure.objects.bulk_create(
        Structure(
            finess_et=f"{10000000 + i:08d}",
            name=f"Structure {i:04d}",
            organisation=org,
            category="ehpad" if i % 2 else "ch",
            departement="75",
        )
        for i in range(count)
    )
    Asset.objects.bulk_create(
        Asset(
            structure=s, kind="domain", value=f"h{j}.s{s.pk}.test",
            **(proven() if j % 2 else {}),
        )
        for s in structures
        for j in range(assets_per_structure)
    )
    Contact.objects.bulk_create(Contact(structure=s, role="director", name="D") for s in structures)
    for s in structures[:20]:
        make_mandate(s)


def test_region_page_costs_a_fixed_number_of_queries(
    db, django_assert_max_num_queries, make_staff_client
):
    _bulk_region(120, 4)
    client = make_staff_client()
    with django_assert_max_num_queries(14):
        response = client.get(reverse("core:region"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    first = response.context["page"].object_list[0]
    assert (first.assets_total, first.assets_proven, first.contacts_count) == (4, 2, 1)
    with django_assert_max_num_queries(14):
        response = client.get(region_url(page=3, sector="medico_social"))
    assert response.status_code == 200


def test_region_pagination(db, make_staff_client):
    _bulk_region(120, 0)
    client = make_staff_client()
    response = client.get(region_url(page=3))
    assert response.context["matching"] == 120
    assert len(response.context["page"].object_list) == 20
    assert "Page 3 sur 3" in response.content.decode()
    response = client.get(region_url(page=3, category="ehpad"))
    assert response.context["page"].number == 2  # out-of-range page falls back to the last


def test_my_structures_lists_only_covered_structures(region):
    response = region.client("org_director").get(reverse("core:my_structures"))
    assert response.status_code == 200
    shown = {s.pk for s in response.context["page"].object_list}
    assert shown == {region.a.pk, region.a2.pk}
    assert region.b.name not in response.content.decode()


def test_my_structures_hides_mandates_from_it_provider(region):
    response = region.client("it_provider").get(reverse("core:my_structures"))
    assert response.status_code == 200
    assert [s.pk for s in response.context["page"].object_list] == [region.a.pk]
    assert not response.context["show_mandates"]


def test_my_structures_for_nobody_is_forbidden(region):
    assert region.client("nobody").get(reverse("core:my_structures")).status_code == 403


# --- Structure page ---------------------------------------------------------------------------


def structure_url(structure) -> str:
    return reverse("core:structure", args=[structure.pk])


@pytest.mark.parametrize(
    ("role", "sees_mandates", "can_validate"),
    [
        ("centre_admin", True, False),
        ("director", True, True),
        ("referent", True, True),
        ("it_provider", False, False),
        ("org_director", True, True),
        ("ght_referent", True, True),
    ],
)
def test_structure_page_sections_by_role(region, role, sees_mandates, can_validate):
    Asset.objects.create(structure=region.a, kind="domain", value="pending.test")
    response = region.client(role).get(structure_url(region.a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "alpha.test" in body
    assert ('id="mandates"' in body) is sees_mandates
    assert (reverse("core:mandate_document", args=[region.a.mandates.get().pk]) in body) is (
        sees_mandates
    )
    pending = Asset.objects.get(value="pending.test")
    assert (reverse("core:asset_validate", args=[pending.pk]) in body) is can_validate


@pytest.mark.parametrize("role", ["director_b", "nobody", "ars_viewer", "it_provider"])
def test_structure_page_of_another_structure_is_404(region, role):
    assert region.client(role).get(structure_url(region.a2)).status_code == 404


def test_structure_page_next_steps(region):
    region.a.mandates.all().delete()
    Asset.objects.create(structure=region.a, kind="domain", value="pending.test")
    body = region.client("director").get(structure_url(region.a)).content.decode()
    assert "Faire signer un mandat" in body
    assert "Prouver la propriété de 1 actif" in body
    assert "Compléter les contacts" in body  # no cyber referent contact yet


def test_structure_page_next_steps_tell_it_provider_how_to_prove(region):
    """The IT provider usually manages the DNS: the step tells it what to publish."""
    Asset.objects.create(structure=region.a, kind="domain", value="pending.test")
    body = region.client("it_provider").get(structure_url(region.a)).content.decode()
    assert "Prouver la propriété de 1 actif" in body and "Vérifier" in body
    assert "Faire signer un mandat" not in body  # mandates are not the provider's business


def test_structure_page_next_steps_tell_of_a_conflict(region):
    Asset.objects.create(structure=region.a, kind="domain", value="beta.test", in_conflict=True)
    body = region.client("director").get(structure_url(region.a)).content.decode()
    assert "déclaré(s) aussi par une autre structure" in body
    assert "EHPAD Beta" not in body


def test_organisation_and_ght_pages_list_visible_structures(region):
    client = region.client("director")
    response = client.get(reverse("core:organisation", args=[region.org_a.pk]))
    assert response.status_code == 200
    assert [s.pk for s in response.context["structures"]] == [region.a.pk]
    assert client.get(reverse("core:organisation", args=[region.org_b.pk])).status_code == 404
    response = client.get(reverse("core:ght", args=[region.ght.pk]))
    assert response.status_code == 200
    assert [s.pk for s in response.context["structures"]] == [region.a.pk]
    other = region.client("director_b")
    assert other.get(reverse("core:ght", args=[region.ght.pk])).status_code == 404
    staff = region.client("centre_analyst").get(reverse("core:ght", args=[region.ght.pk]))
    assert {s.pk for s in staff.context["structures"]} == {region.a.pk, region.a2.pk}
