"""Every list of the registry costs a fixed number of queries, whatever the page length."""

from __future__ import annotations

import pytest

from carbet.core.models import Asset, Contact, Mandate, Organisation, Structure
from carbet.engines.identifiers import luhn_valid
from tests.conftest import make_mandate


def _finess(prefix: str) -> str:
    return next(prefix + str(d) for d in range(10) if luhn_valid(prefix + str(d)))


@pytest.fixture
def crowded(region):
    """Sixty more structures in org A (with mandates covering chosen assets) and contacts."""
    for i in range(60):
        structure = Structure.objects.create(
            finess_et=_finess(f"9703{i:04d}"),
            name=f"EHPAD n°{i:02d}",
            organisation=region.org_a,
            category="ehpad",
            departement="972",
        )
        Contact.objects.create(structure=region.a, role="dpo", name=f"DPO {i:02d}")
        asset = Asset.objects.create(structure=structure, kind="domain", value=f"s{i}.test")
        mandate = make_mandate(structure, all_assets=False)
        mandate.assets.add(asset)
    for i in range(55):
        Organisation.objects.create(
            finess_ej=_finess(f"9704{i:04d}"),
            name=f"Org {i:02d}",
            legal_status="public",
            ght=region.ght,
        )
    return region


@pytest.mark.parametrize(
    ("role", "path", "budget"),
    [
        ("centre_admin", "/structures", 6),
        ("org_director", "/structures", 7),
        ("centre_admin", "/organisations", 6),
        ("centre_admin", "/mandates", 7),
        ("org_director", "/mandates", 8),
        ("centre_admin", "/structures/{a}/contacts", 7),
    ],
)
def test_list_pages_have_a_query_budget(
    crowded, api, django_assert_max_num_queries, role, path, budget
):
    client = api(role)
    client.get("/me")  # first use of a token records last_used_at: measure the steady state
    path = path.format(a=crowded.a.pk)
    with django_assert_max_num_queries(budget):
        body = client.get(path, page_size=50).json()
    assert len(body["results"]) == 50, body["count"]
    assert Mandate.objects.count() > 50
