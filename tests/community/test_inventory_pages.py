"""The inventory pages: a structure's software (detected and declared, with its forms), the
centre's regional view of who runs what, the CSV exports, and the cross-tenant refusals."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.community import services_inventory as services
from carbet.community.choices import LineOrigin
from carbet.community.models import SoftwareLine
from carbet.core.tenancy import SYSTEM
from tests.community.test_inventory_sync import FORTI, audit, scan

FORM = {
    "name": "Accès à distance",
    "vendor": "Fortinet",
    "product": "FortiGate",
    "version": "7.0.12",
    "hosting": "on_site",
    "maintainer": "Prestataire Ti Kaz",
}


def page(structure) -> str:
    return reverse("community:inventory", args=[structure.pk])


def declare(structure, **values) -> SoftwareLine:
    return services.create_line(SYSTEM, structure, {**FORM, **values})


def rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_structure_page_shows_detected_and_declared_lines(region):
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    audit(region.a, "alpha.local", {"Windows 10 Pro|10.0 (19045)": 12})
    services.sync()
    declare(region.a, name="Dossier de soins", vendor="Titan", product="Titan Soins")
    response = region.client("director").get(page(region.a))
    assert response.status_code == 200
    text = response.content.decode()
    assert "le jour même" in text  # why the inventory matters, in plain words
    assert "vpn.alpha.test:443" in text and "FortiOS" in text
    assert "12 machines du domaine alpha.local" in text
    assert "Dossier de soins" in text and "Non reconnu" in text
    assert "Détecté sur internet" in text and "Détecté dans l&#x27;annuaire" in text
    assert "_alerts.html" not in text


def test_the_structure_page_links_here(region):
    response = region.client("director").get(reverse("core:structure", args=[region.a.pk]))
    assert response.status_code == 200
    assert page(region.a) in response.content.decode()


def test_a_director_declares_an_application(region):
    client = region.client("director")
    response = client.post(page(region.a), FORM)
    assert response.status_code == 302
    line = SoftwareLine.objects.get(structure=region.a)
    assert line.origin == LineOrigin.DECLARED and line.created_by == region.users["director"]
    assert line.cpe == "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"
    entry = AuditEntry.objects.get(action="community.inventory.create")
    assert entry.changes["product"] == "FortiGate" and entry.changes["cpe"] == line.cpe
    assert "FortiGate" in client.get(page(region.a)).content.decode()


def test_bad_input_is_refused_with_a_clear_message(region):
    client = region.client("referent")
    response = client.post(page(region.a), {**FORM, "product": "   "})
    assert response.status_code == 200
    assert "Indiquez le produit" in response.content.decode()
    response = client.post(page(region.a), {**FORM, "version": "9" * 101})
    assert response.status_code == 200
    assert "100 caractères" in response.content.decode()
    response = client.post(page(region.a), {**FORM, "hosting": "moon"})
    assert response.status_code == 200
    assert not SoftwareLine.objects.exists()


def test_edit_and_delete_a_declared_line(region):
    line = declare(region.a)
    client = region.client("it_provider")
    edit = reverse("community:inventory_line_edit", args=[line.pk])
    assert "7.0.12" in client.get(edit).content.decode()
    response = client.post(edit, {**FORM, "version": "7.2.8"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.version == "7.2.8" and ":7.2.8:" in line.cpe
    entry = AuditEntry.objects.get(action="community.inventory.update")
    assert entry.changes["version"] == ["7.0.12", "7.2.8"]
    delete = reverse("community:inventory_line_delete", args=[line.pk])
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302
    assert not SoftwareLine.objects.filter(pk=line.pk).exists()
    assert AuditEntry.objects.get(action="community.inventory.delete").changes["version"] == "7.2.8"


def test_detected_lines_have_no_form(region):
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    services.sync()
    detected = SoftwareLine.objects.get(structure=region.a)
    client = region.client("director")
    assert (
        client.get(reverse("community:inventory_line_edit", args=[detected.pk])).status_code == 404
    )
    assert (
        client.post(reverse("community:inventory_line_delete", args=[detected.pk])).status_code
        == 404
    )
    assert SoftwareLine.objects.filter(pk=detected.pk).exists()


def test_another_structure_gets_404_on_every_inventory_page(region):
    line = declare(region.a)
    client = region.client("director_b")
    for url in (
        page(region.a),
        reverse("community:inventory_export", args=[region.a.pk]),
        reverse("community:inventory_line_edit", args=[line.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(page(region.a), FORM).status_code == 404
    assert (
        client.post(reverse("community:inventory_line_edit", args=[line.pk]), FORM).status_code
        == 404
    )
    assert (
        client.post(reverse("community:inventory_line_delete", args=[line.pk])).status_code == 404
    )
    line.refresh_from_db()
    assert line.version == "7.0.12"
    assert SoftwareLine.objects.filter(structure=region.b).count() == 0
    assert client.get(page(region.b)).status_code == 200
    assert region.client("nobody").get(page(region.a)).status_code == 404
    assert region.client("ars_viewer").get(page(region.a)).status_code == 404


def test_structure_export_is_a_safe_csv(region):
    declare(region.a, name="=HYPERLINK(1)")
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    services.sync()
    response = region.client("director").get(
        reverse("community:inventory_export", args=[region.a.pk])
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = rows(response)
    assert table[0] == services.LINE_COLUMNS and len(table) == 3
    assert "'=HYPERLINK(1)" in [row[1] for row in table]
    assert AuditEntry.objects.filter(action="community.inventory.export").count() == 1
    # The IT provider keeps the inventory but may not export (the platform's export right).
    assert (
        region.client("it_provider")
        .get(reverse("community:inventory_export", args=[region.a.pk]))
        .status_code
        == 403
    )


# --- The region -------------------------------------------------------------------------------


def region_fixture_lines(region) -> None:
    declare(region.a)  # "Fortinet FortiGate 7.0.12"
    declare(region.b, vendor="", product="FortiOS 7.0.12", version="")
    declare(region.a2, vendor="fortinet", product="FortiOS", version="7.2.8")
    declare(region.b, vendor="Titan", product="Titan Soins", version="3")
    scan(region.a2, {"vpn.ehpad-alpha.test": [FORTI]})
    services.sync()


def test_the_centre_sees_who_runs_what(region):
    region_fixture_lines(region)
    response = region.client("centre_analyst").get(reverse("community:inventory_region"))
    assert response.status_code == 200
    groups = {(g.vendor_key, g.product_key): g for g in response.context["page"].groups}
    forti = groups[("fortinet", "fortios")]
    assert forti.structures == 3 and forti.lines == 4 and forti.cpe
    assert dict(forti.versions) == {"7.0.12": 3, "7.2.8": 1}  # "FortiOS 7.0.12" typed too
    assert groups[("titan", "titan soins")].structures == 1
    assert next(iter(groups)) == ("fortinet", "fortios")  # the most widespread first
    text = response.content.decode()
    assert "?vendor=fortinet&amp;product=fortios" in text


def test_the_regional_filters(region):
    region_fixture_lines(region)
    client = region.client("centre_admin")
    url = reverse("community:inventory_region")

    def keys(**query) -> set[tuple[str, str]]:
        groups = client.get(url, query).context["page"].groups
        return {(g.vendor_key, g.product_key) for g in groups}

    assert keys(q="titan") == {("titan", "titan soins")}
    assert keys(departement="971") == {("fortinet", "fortios"), ("titan", "titan soins")}
    assert keys(category="ch") == {("fortinet", "fortios")}
    assert keys(category="not-a-category") == keys()  # a stale bookmark is ignored


def test_the_drill_down_lists_the_structures_running_a_product(region):
    region_fixture_lines(region)
    client = region.client("centre_analyst")
    url = reverse("community:inventory_region_product")
    response = client.get(url, {"vendor": "fortinet", "product": "fortios"})
    assert response.status_code == 200 and response.context["structures"] == 3
    text = response.content.decode()
    for structure in (region.a, region.a2, region.b):
        assert page(structure) in text
    response = client.get(url, {"vendor": "fortinet", "product": "fortios", "departement": "972"})
    assert response.context["structures"] == 2
    assert client.get(url).context["structures"] == 0


def test_the_regional_view_is_never_shown_to_structures(region):
    region_fixture_lines(region)
    urls = (
        reverse("community:inventory_region"),
        reverse("community:inventory_region_product") + "?vendor=fortinet&product=fortios",
        reverse("community:inventory_region_export"),
    )
    for role in ("director", "referent", "it_provider", "director_b", "ars_viewer", "nobody"):
        client = region.client(role)
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)


def test_regional_export(region):
    region_fixture_lines(region)
    response = region.client("centre_analyst").get(
        reverse("community:inventory_region_export"), {"q": "forti"}
    )
    assert response.status_code == 200
    table = rows(response)
    assert table[0] == services.REGION_COLUMNS
    assert [row[:2] for row in table[1:]] == [["fortinet", "fortios"]]
    assert table[1][4] == "3"
    entry = AuditEntry.objects.get(action="community.inventory.export_region")
    assert entry.changes["filters"]["q"] == "forti"
