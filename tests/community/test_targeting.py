"""Targeting resolution: each criterion, their AND-combination, products through the inventory."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.community.models import Bulletin, SoftwareLine
from carbet.community.targeting import (
    is_empty,
    is_targeted,
    size_of,
    structures_targeted,
)
from carbet.core.models import Organisation, Structure

pytestmark = pytest.mark.django_db


def target(**criteria) -> SimpleNamespace:
    base = dict(categories=[], departements=[], ghts=[], sizes=[], products=[], structures=[])
    base.update(criteria)
    return SimpleNamespace(**base)


def names(obj) -> set[str]:
    return {s.name for s in structures_targeted(obj)}


@pytest.fixture
def big(region) -> Structure:
    """A large clinic in 973, outside any GHT."""
    org = Organisation.objects.create(
        finess_ej="970300018", name="Groupe Gamma", legal_status="private"
    )
    return Structure.objects.create(
        finess_et="970300026",
        name="Clinique Gamma",
        organisation=org,
        category="clinique",
        beds=520,
        departement="973",
    )


def test_empty_criteria_reach_the_whole_region(region, big):
    assert is_empty(target())
    assert names(target()) == {region.a.name, region.a2.name, region.b.name, big.name}


def test_category(region, big):
    assert names(target(categories=["ehpad"])) == {region.a2.name, region.b.name}
    assert names(target(categories=["ch", "clinique"])) == {region.a.name, big.name}


def test_departement(region, big):
    assert names(target(departements=["972"])) == {region.a.name, region.a2.name}
    assert names(target(departements=["971", "973"])) == {region.b.name, big.name}


def test_ght(region, big):
    assert names(target(ghts=[region.ght.pk])) == {region.a.name, region.a2.name}
    # ids stored as strings by a JSON form still resolve
    assert names(target(ghts=[str(region.ght.pk)])) == {region.a.name, region.a2.name}
    assert names(target(ghts=["not-an-id"])) == set()


def test_sizes(region, big):
    # a: 300 beds (medium); a2: 80 places, b: 60 places (small); big: 520 beds (large)
    assert names(target(sizes=["small"])) == {region.a2.name, region.b.name}
    assert names(target(sizes=["medium"])) == {region.a.name}
    assert names(target(sizes=["large"])) == {big.name}
    assert names(target(sizes=["medium", "large"])) == {region.a.name, big.name}
    assert names(target(sizes=["huge"])) == set()


@pytest.mark.parametrize(
    ("capacity", "size"),
    [(0, "small"), (99, "small"), (100, "medium"), (499, "medium"), (500, "large")],
)
def test_size_bounds_match_structure_size_label(capacity, size):
    assert size_of(capacity) == size


def test_products_through_active_software_lines(region, big):
    SoftwareLine.objects.create(
        structure=region.a,
        origin="exposure",
        source_key="exposure:vpn.alpha.test:443",
        vendor="Fortinet",
        product="FortiOS",
        version="7.0.12",
    )
    SoftwareLine.objects.create(
        structure=region.b,
        origin="declared",
        name="Dossier de soins NetSoins",
        vendor="Teranga",
        product="NetSoins",
        version="5",
    )
    # an old line no longer seen does not count
    SoftwareLine.objects.create(
        structure=big,
        origin="exposure",
        source_key="exposure:old.gamma.test:443",
        vendor="Fortinet",
        product="FortiOS",
        version="6.4",
        active=False,
    )
    # case-insensitive containment on the product
    assert names(target(products=["fortios"])) == {region.a.name}
    # ... or on the application name
    assert names(target(products=["dossier de soins"])) == {region.b.name}
    assert names(target(products=["FortiOS", "netsoins"])) == {region.a.name, region.b.name}
    assert names(target(products=["Citrix"])) == set()
    # blank names are ignored rather than matching everything
    assert names(target(products=["  "])) == names(target())


def test_criteria_combine_with_and(region, big):
    SoftwareLine.objects.create(
        structure=region.a, origin="declared", vendor="Fortinet", product="FortiGate"
    )
    SoftwareLine.objects.create(
        structure=region.b, origin="declared", vendor="Fortinet", product="FortiGate"
    )
    assert names(target(products=["fortigate"])) == {region.a.name, region.b.name}
    assert names(target(products=["fortigate"], departements=["971"])) == {region.b.name}
    assert names(target(categories=["ehpad"], departements=["972"])) == {region.a2.name}
    assert names(target(categories=["ehpad"], ghts=[region.ght.pk], sizes=["medium"])) == set()
    assert names(target(categories=["ch"], ghts=[region.ght.pk], sizes=["medium"])) == {
        region.a.name
    }


def test_named_structures_ignore_other_criteria(region, big):
    obj = target(structures=[region.b.pk], categories=["ch"], departements=["972"])
    assert names(obj) == {region.b.name}
    assert names(target(structures=[str(big.pk), region.a.pk])) == {big.name, region.a.name}


def test_is_targeted_and_a_model_instance(region, big):
    bulletin = Bulletin(title="t", body="b", categories=["ehpad"], departements=["971"])
    assert is_targeted(bulletin, region.b)
    assert not is_targeted(bulletin, region.a2)
    assert not is_targeted(bulletin, region.a)
    assert not is_targeted(bulletin, Structure(name="unsaved"))
    assert not is_empty(bulletin)


@given(capacity=st.integers(min_value=0, max_value=100_000))
def test_size_of_agrees_with_size_label(capacity):
    expected = {"petite": "small", "moyenne": "medium", "grande": "large"}
    label = str(Structure(beds=capacity, places=0).size_label)
    assert size_of(capacity) == expected[label]
