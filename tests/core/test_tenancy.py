"""The central tenancy rules: who sees which structure."""

from carbet.accounts.roles import Perm
from carbet.core.models import Asset, Mandate, Organisation, Structure
from carbet.core.tenancy import SYSTEM, can


def names(qs):
    return sorted(s.name for s in qs)


def test_centre_staff_see_the_whole_region(region):
    for role in ("centre_admin", "centre_analyst"):
        assert Structure.objects.visible_to(region.users[role]).count() == 3


def test_ars_sees_no_structure_detail(region):
    ars = region.users["ars_viewer"]
    assert not Structure.objects.visible_to(ars).exists()
    assert not Asset.objects.visible_to(ars, Perm.ASSET_VIEW).exists()
    assert can(ars, Perm.REGION_AGGREGATES)
    assert not can(ars, Perm.FINDINGS_DETAIL)


def test_structure_membership_covers_only_that_structure(region):
    director = region.users["director"]
    assert names(Structure.objects.visible_to(director)) == [region.a.name]
    assert list(Asset.objects.visible_to(director).values_list("value", flat=True)) == [
        "alpha.test"
    ]
    assert can(director, Perm.MANDATE_EDIT, region.a)
    assert not can(director, Perm.MANDATE_EDIT, region.b)


def test_organisation_membership_covers_its_structures(region):
    visible = Structure.objects.visible_to(region.users["org_director"])
    assert names(visible) == sorted([region.a.name, region.a2.name])
    orgs = Organisation.objects.visible_to(region.users["director"])
    assert list(orgs) == [region.org_a]


def test_ght_membership_covers_the_organisations_structures(region):
    visible = Structure.objects.visible_to(region.users["ght_referent"])
    assert names(visible) == sorted([region.a.name, region.a2.name])


def test_role_limits_what_a_membership_grants(region):
    it = region.users["it_provider"]
    assert Asset.objects.visible_to(it, Perm.ASSET_VIEW).count() == 1
    assert not Mandate.objects.visible_to(it, Perm.MANDATE_VIEW).exists()


def test_no_membership_sees_nothing_and_system_sees_all(region):
    assert not Structure.objects.visible_to(region.users["nobody"]).exists()
    assert not Structure.objects.visible_to(None).exists()
    assert Structure.objects.visible_to(SYSTEM).count() == 3
