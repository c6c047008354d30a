"""Shared solutions: eligibility of offers, one answer per structure and offer, needs, the
demand aggregated by category and size, and the audit trail."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from carbet.audit.models import AuditEntry
from carbet.community import selectors_solutions, services_solutions
from carbet.community.models import OfferInterest
from carbet.core.tenancy import SYSTEM


def offer_values(**extra):
    return {
        "title": "Sauvegarde externalisée financée par CaRE",
        "kind": "care_funded",
        "category": "backup",
        "description": "Une **sauvegarde** hors ligne.\n\n<script>alert(1)</script>",
        "provider": "GIP régional",
        "how_to_join": "Signer la convention.",
        "status": "open",
        **extra,
    }


@pytest.fixture
def offers(region):
    admin = region.users["centre_admin"]
    return {
        "all": services_solutions.save_offer(admin, offer_values(title="Pour tous")),
        "ehpad": services_solutions.save_offer(
            admin, offer_values(title="EHPAD seulement", categories=["ehpad"])
        ),
        "a_only": services_solutions.save_offer(
            admin, offer_values(title="A seulement", structures=[region.a.pk])
        ),
        "ght": services_solutions.save_offer(
            admin, offer_values(title="GHT seulement", ghts=[region.ght.pk])
        ),
        "large": services_solutions.save_offer(
            admin, offer_values(title="Grandes structures", sizes=["large"])
        ),
        "draft": services_solutions.save_offer(
            admin, offer_values(title="Brouillon", status="draft")
        ),
    }


def _titles(user) -> set[str]:
    return set(selectors_solutions.offers_shown_to(user).values_list("title", flat=True))


def test_eligibility(region, offers):
    users = region.users
    # a: CH, 300 beds (medium), in the GHT; b: EHPAD, 60 places (small), no GHT.
    assert _titles(users["director"]) == {"Pour tous", "A seulement", "GHT seulement"}
    assert _titles(users["director_b"]) == {"Pour tous", "EHPAD seulement"}
    # The organisation's director covers a and a2 (an EHPAD): the union.
    assert _titles(users["org_director"]) == {
        "Pour tous",
        "A seulement",
        "GHT seulement",
        "EHPAD seulement",
    }
    # The centre sees the whole catalogue, drafts included; the ARS and others nothing.
    assert len(_titles(users["centre_analyst"])) == 6
    assert _titles(users["ars_viewer"]) == set() and _titles(users["nobody"]) == set()


def test_only_the_centre_writes_offers(region):
    with pytest.raises(PermissionDenied):
        services_solutions.save_offer(region.users["director"], offer_values())
    with pytest.raises(ValidationError) as error:
        services_solutions.save_offer(
            region.users["centre_admin"],
            offer_values(title="", kind="x", categories=["nope"], structures=[999_999]),
        )
    assert {"title", "kind", "categories", "structures"} <= set(error.value.error_dict)
    offer = services_solutions.save_offer(region.users["centre_admin"], offer_values())
    assert AuditEntry.objects.filter(
        action="community.solutions.offer.create", object_id=str(offer.pk)
    ).exists()


def test_interest_is_one_per_structure_editable_and_audited(region, offers):
    director = region.users["director"]
    offer = offers["a_only"]
    first = services_solutions.set_interest(
        director, offer, region.a, {"kind": "interested", "quantity": 40, "comment": "40 postes"}
    )
    again = services_solutions.set_interest(
        director, offer, region.a, {"kind": "joined", "quantity": 45}
    )
    assert first.pk == again.pk and OfferInterest.objects.filter(offer=offer).count() == 1
    again.refresh_from_db()
    assert (again.kind, again.quantity, again.comment) == ("joined", 45, "")
    assert (
        AuditEntry.objects.filter(
            action="community.solutions.interest.save", structure=region.a
        ).count()
        == 2
    )
    with pytest.raises(ValidationError):
        services_solutions.set_interest(director, offer, region.a, {"kind": "maybe"})
    with pytest.raises(ValidationError):
        services_solutions.set_interest(director, offer, region.a, {"kind": "need", "quantity": -1})


def test_interest_refused_out_of_eligibility_rights_or_dates(region, offers):
    users = region.users
    with pytest.raises(PermissionDenied):  # b is not eligible for an offer made for a
        services_solutions.set_interest(
            users["director_b"], offers["a_only"], region.b, {"kind": "need"}
        )
    with pytest.raises(PermissionDenied):  # b's director does not speak for a
        services_solutions.set_interest(
            users["director_b"], offers["all"], region.a, {"kind": "need"}
        )
    with pytest.raises(PermissionDenied):  # the IT provider has no say on purchases
        services_solutions.set_interest(
            users["it_provider"], offers["all"], region.a, {"kind": "need"}
        )
    with pytest.raises(PermissionDenied):  # the centre reads the answers, it does not answer
        services_solutions.set_interest(
            users["centre_admin"], offers["all"], region.a, {"kind": "need"}
        )
    closed = services_solutions.save_offer(users["centre_admin"], offer_values(status="closed"))
    with pytest.raises(ValidationError):
        services_solutions.set_interest(users["director"], closed, region.a, {"kind": "need"})


def test_a_structure_keeps_seeing_an_offer_it_answered_once_closed(region, offers):
    users = region.users
    offer = offers["all"]
    services_solutions.set_interest(users["director_b"], offer, region.b, {"kind": "need"})
    services_solutions.save_offer(
        users["centre_admin"], offer_values(title="Pour tous", status="closed"), offer
    )
    assert "Pour tous" in _titles(users["director_b"])
    assert "Pour tous" not in _titles(users["director"])


def test_needs_are_private_to_their_structure_and_the_centre(region):
    users = region.users
    need = services_solutions.declare_need(
        users["referent"], region.a, {"category": "mfa", "description": "MFA pour 80 comptes"}
    )
    assert list(selectors_solutions.needs_shown_to(users["director"])) == [need]
    assert list(selectors_solutions.needs_shown_to(users["director_b"])) == []
    assert list(selectors_solutions.needs_shown_to(users["centre_analyst"])) == [need]
    with pytest.raises(PermissionDenied):
        services_solutions.declare_need(
            users["director_b"], region.a, {"category": "mfa", "description": "x"}
        )
    with pytest.raises(ValidationError):
        services_solutions.declare_need(users["director"], region.a, {"category": "mfa"})
    with pytest.raises(PermissionDenied):
        services_solutions.delete_need(users["director_b"], need)
    services_solutions.delete_need(users["director"], need)
    assert (
        AuditEntry.objects.filter(
            action__startswith="community.solutions.need.", structure=region.a
        ).count()
        == 2
    )


def test_demand_is_aggregated_by_category_and_size(region, offers):
    users = region.users
    offer = offers["all"]
    services_solutions.set_interest(
        users["director"], offer, region.a, {"kind": "need", "quantity": 300}
    )
    services_solutions.set_interest(
        SYSTEM, offer, region.a2, {"kind": "interested", "quantity": 20}
    )
    services_solutions.set_interest(
        users["director_b"], offer, region.b, {"kind": "interested", "quantity": 15}
    )
    result = selectors_solutions.demand(offer)
    rows = {(r.category, r.size): r for r in result.rows}
    assert set(rows) == {("ch", "medium"), ("ehpad", "small")}
    ehpad = rows[("ehpad", "small")]
    assert ehpad.counts["interested"] == 2 and ehpad.quantities["interested"] == 35
    assert rows[("ch", "medium")].counts["need"] == 1
    assert result.totals.structures == 3 and result.totals.quantity == 335
    table = list(csv.reader(io.StringIO(selectors_solutions.demand_csv(offer)), delimiter=";"))
    assert table[0][:2] == ["Catégorie", "Taille"] and table[-1][0] == "Total"
    assert table[-1][2:] == ["2", "35", "1", "300", "0", "0"]


def test_needs_summary_groups_by_domain_category_and_size(region):
    users = region.users
    for structure, user in ((region.a2, "org_director"), (region.b, "director_b")):
        services_solutions.declare_need(
            users[user], structure, {"category": "backup", "description": "Sauvegarde"}
        )
    services_solutions.declare_need(
        users["director_b"], region.b, {"category": "backup", "description": "Une autre"}
    )
    services_solutions.declare_need(
        users["director"], region.a, {"category": "training", "description": "Formation"}
    )
    groups = {
        (g.domain, g.category_label, str(g.size_label)): g
        for g in selectors_solutions.needs_summary()
    }
    ehpad = groups[("backup", "EHPAD", "petite")]
    assert (ehpad.structures, ehpad.needs) == (2, 3)
    assert groups[("training", "Centre hospitalier", "moyenne")].structures == 1
    assert "Sauvegardes" in selectors_solutions.needs_csv()
