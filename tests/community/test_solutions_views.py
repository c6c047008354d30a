"""Shared-solutions pages: the catalogue for each side, the safe Markdown, answers and needs
through the pages, the centre's demand (table and CSV), and every route refused across
structures (B never sees an offer made for A, nor A's answers or needs)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carbet.community import services_solutions
from carbet.community.models import Need, OfferInterest
from tests.community.test_solutions import offer_values

SECRET = "CH Alpha-Secret"


@pytest.fixture
def pages(region):
    admin = region.users["centre_admin"]
    a_only = services_solutions.save_offer(
        admin, offer_values(title=f"{SECRET} offre", structures=[region.a.pk])
    )
    everyone = services_solutions.save_offer(admin, offer_values(title="Formation régionale"))
    interest = services_solutions.set_interest(
        region.users["director"],
        everyone,
        region.a,
        {"kind": "need", "quantity": 12, "comment": f"{SECRET} commentaire"},
    )
    need = services_solutions.declare_need(
        region.users["director"], region.a, {"category": "soc", "description": f"{SECRET} SOC"}
    )
    return {
        "region": region,
        "a_only": a_only,
        "everyone": everyone,
        "interest": interest,
        "need": need,
    }


def _url(name, *args):
    return reverse(f"community:{name}", args=args)


def test_structure_pages(pages):
    region = pages["region"]
    client = region.client("director")
    catalogue = client.get(_url("solutions")).content.decode()
    assert f"{SECRET} offre" in catalogue and "Formation régionale" in catalogue
    page = client.get(_url("solutions_offer", pages["everyone"].pk))
    text = page.content.decode()
    assert page.status_code == 200
    assert "<strong>sauvegarde</strong>" in text and "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text and f"{SECRET} commentaire" in text
    assert client.get(_url("solutions_needs")).status_code == 200
    for name in ("solutions_offer_new", "solutions_region", "solutions_needs_csv"):
        assert client.get(_url(name)).status_code == 403, name
    for name in ("solutions_demand", "solutions_demand_csv", "solutions_offer_edit"):
        assert client.get(_url(name, pages["everyone"].pk)).status_code == 403, name


def test_answer_and_need_through_the_pages(pages):
    region = pages["region"]
    client = region.client("director_b")
    offer = pages["everyone"]
    response = client.post(
        _url("solutions_interest", offer.pk),
        {"structure": region.b.pk, "kind": "interested", "quantity": "30", "comment": "30 postes"},
    )
    assert response.status_code == 302
    row = OfferInterest.objects.get(offer=offer, structure=region.b)
    assert (row.kind, row.quantity) == ("interested", 30)
    client.post(
        _url("solutions_interest", offer.pk),
        {"structure": region.b.pk, "kind": "joined", "quantity": "31"},
    )
    assert OfferInterest.objects.filter(offer=offer, structure=region.b).count() == 1
    client.post(
        _url("solutions_needs"),
        {"structure": region.b.pk, "category": "mfa", "description": "MFA pour la messagerie"},
    )
    assert Need.objects.filter(structure=region.b, category="mfa").exists()
    client.post(_url("solutions_interest_withdraw", row.pk))
    assert not OfferInterest.objects.filter(pk=row.pk).exists()


def test_b_never_sees_an_offer_made_for_a_nor_a_answers_or_needs(pages):
    region = pages["region"]
    client = region.client("director_b")
    offer = pages["a_only"]
    for name in ("solutions", "solutions_needs"):
        text = client.get(_url(name)).content.decode()
        assert SECRET not in text, name
    offer_page = client.get(_url("solutions_offer", pages["everyone"].pk)).content.decode()
    assert SECRET not in offer_page  # A's answer to an offer both see
    for name in (
        "solutions_offer",
        "solutions_offer_edit",
        "solutions_demand",
        "solutions_demand_csv",
    ):
        assert client.get(_url(name, offer.pk)).status_code == 404, name
    response = client.post(
        _url("solutions_interest", offer.pk), {"structure": region.b.pk, "kind": "need"}
    )
    assert response.status_code == 404
    for name, pk in (
        ("solutions_interest_withdraw", pages["interest"].pk),
        ("solutions_need_delete", pages["need"].pk),
    ):
        assert client.post(_url(name, pk)).status_code == 404, name
    assert OfferInterest.objects.filter(pk=pages["interest"].pk).exists()
    assert Need.objects.filter(pk=pages["need"].pk).exists()


def test_the_ars_and_people_without_a_structure_get_nothing(pages):
    region = pages["region"]
    for role in ("ars_viewer", "nobody"):
        client = region.client(role)
        for name in ("solutions", "solutions_needs", "solutions_region"):
            assert client.get(_url(name)).status_code == 403, (role, name)
        assert client.get(_url("solutions_offer", pages["everyone"].pk)).status_code == 404


def test_the_centre_sees_and_negotiates_the_demand(pages):
    region = pages["region"]
    client = region.client("centre_analyst")
    assert client.get(_url("solutions_offer", pages["a_only"].pk)).status_code == 200
    demand = client.get(_url("solutions_demand", pages["everyone"].pk)).content.decode()
    assert "Centre hospitalier" in demand and "moyenne" in demand and region.a.name in demand
    csv_response = client.get(_url("solutions_demand_csv", pages["everyone"].pk))
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "Centre hospitalier;moyenne;0;0;1;12;0;0" in csv_response.content.decode("utf-8-sig")
    region_page = client.get(_url("solutions_region")).content.decode()
    assert "Surveillance (SOC)" in region_page
    assert "Surveillance (SOC)" in client.get(_url("solutions_needs_csv")).content.decode(
        "utf-8-sig"
    )
    # The centre writes an offer through the page.
    response = client.post(
        _url("solutions_offer_new"),
        {
            "title": "Achat groupé EDR",
            "kind": "group_purchase",
            "category": "edr",
            "description": "Licences EDR",
            "status": "open",
            "categories": ["ehpad"],
            "departements": "971, 972",
            "sizes": ["small"],
        },
    )
    assert response.status_code == 302
    assert "Achat groupé EDR" in region.client("director_b").get(_url("solutions")).content.decode()
    assert (
        "Achat groupé EDR" not in region.client("director").get(_url("solutions")).content.decode()
    )
