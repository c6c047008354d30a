"""The demo region: loads through the services, is idempotent, valid, and every login works."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections import Counter
from collections.abc import Iterator

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from carbet.accounts.models import Membership, User
from carbet.audit.models import AuditEntry
from carbet.audit.services import verify
from carbet.core.models import Asset, Contact, Ght, Mandate, Organisation, Structure
from carbet.core.services import mandate_state
from carbet.demo import region
from carbet.demo.services import finess_numbers, password_file
from carbet.engines.identifiers import normalize_finess
from tests.conftest import rolled_back_at_the_end

PASSWORD = "une démo bien gardée 2024"


def load(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    models = (Ght, Organisation, Structure, Contact, Asset, Mandate, User, Membership, AuditEntry)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo loaded once for the module (it takes seconds); each test using ``demo`` runs in
    a savepoint of it and is rolled back to it (tests.conftest.rolled_back_at_the_end)."""
    with rolled_back_at_the_end(django_db_blocker):
        with django_db_blocker.unblock():
            output = load(password=PASSWORD)
        yield output


@pytest.fixture
def demo(demo_once, db) -> str:
    return demo_once


def test_counts_match_the_described_region(demo):
    specs = region.all_structures()
    assert Ght.objects.count() == 1
    assert Organisation.objects.count() == len(region.ORGANISATIONS)
    assert Structure.objects.count() == len(specs) >= 15
    assert User.objects.count() == len(region.USERS)
    assert Mandate.objects.count() == sum(1 for _o, s in specs if s.mandate != "none")
    categories = Counter(Structure.objects.values_list("category", flat=True))
    assert categories == {
        "chu": 1,
        "ch": 3,
        "clinique": 2,
        "ssr": 1,
        "psychiatrie": 1,
        "had": 1,
        "ehpad": 4,
        "handicap_enfant": 1,
        "handicap_adulte": 1,
        "ssiad": 1,
    }
    assert set(Structure.objects.values_list("departement", flat=True)) == {"971", "972", "973"}
    assert Organisation.objects.filter(ght__isnull=False).count() == 5
    # Every structure has a director and a DPO contact, and at least four assets.
    for structure in Structure.objects.all():
        roles = set(structure.contacts.values_list("role", flat=True))
        assert {"director", "dpo"} <= roles
        assert structure.assets.count() >= 4


def test_every_finess_number_is_valid_and_unique(demo):
    numbers = list(Organisation.objects.values_list("finess_ej", flat=True)) + list(
        Structure.objects.values_list("finess_et", flat=True)
    )
    assert len(numbers) == len(set(numbers)) == 31
    for number in numbers:
        assert normalize_finess(number) == number
    ej, et = finess_numbers()
    assert set(numbers) == set(ej.values()) | set(et.values())


def test_nothing_points_outside_the_lab(demo):
    for email in [
        *User.objects.values_list("email", flat=True),
        *Contact.objects.exclude(email="").values_list("email", flat=True),
    ]:
        assert email.endswith((".test", ".example")), email
    for kind, value in Asset.objects.values_list("kind", "value"):
        if kind in {"domain", "hostname", "mail_domain", "ad_domain"}:
            assert value.endswith((".test", ".example")), value
        elif kind in {"ipv4", "cidr"}:
            assert value.startswith("127."), value
    assert Asset.objects.filter(kind="ipv4", internet_exposed=True).exists()


def test_some_assets_are_validated_by_the_structures_people_and_some_not(demo):
    validated = Asset.objects.filter(validated=True)
    assert validated.exists() and Asset.objects.filter(validated=False).exists()
    for asset in validated.select_related("validated_by", "proven_by"):
        assert asset.validated_by.memberships.exists()
        assert asset.validated_at is not None
        # The structure's word is not proof: the centre's review proves each one.
        assert asset.is_proven and asset.proof_method == "centre_review"
        assert asset.proven_by.centre_role
    assert not Asset.objects.filter(validated=False, proven_at__isnull=False).exists()


def test_mandates_cover_every_state_with_a_readable_signed_pdf(demo):
    states = Counter(mandate_state(m) for m in Mandate.objects.all())
    assert states["expiring"] == 1
    assert states["expired"] == 1
    assert states["revoked"] == 1
    assert states["active"] == Mandate.objects.count() - 3
    partial = Mandate.objects.get(all_assets=False)
    assert partial.assets.count() == 2
    for mandate in Mandate.objects.all():
        data = mandate.document.read()
        mandate.document.close()
        assert hashlib.sha256(data).hexdigest() == mandate.document_sha256
        assert 300 < len(data) < 2000
        text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
        assert "DÉMONSTRATION" in text and mandate.structure.finess_et in text


def test_every_write_is_in_an_intact_audit_trail(demo):
    actions = Counter(AuditEntry.objects.values_list("action", flat=True))
    assert actions["structure.create"] == Structure.objects.count()
    assert actions["asset.create"] == Asset.objects.count()
    assert actions["mandate.create"] == Mandate.objects.count()
    assert actions["mandate.revoke"] == 1
    assert actions["user.create"] == User.objects.count()
    assert verify(check_anchor=False).ok  # the anchor file moves on commit only


def test_a_second_run_changes_nothing(demo):
    before = table_counts()
    output = load(password=PASSWORD)
    assert table_counts() == before
    assert "rien à changer" in output


def test_the_output_lists_every_login_and_the_mfa_step(demo):
    assert "http://127.0.0.1:8000" in demo
    for spec in region.USERS:
        assert spec.email in demo
    assert PASSWORD in demo
    assert "double authentification" in demo


EXPECTED_VISIBLE = {
    "admin@centre-demo.test": 16,
    "analyste@centre-demo.test": 16,
    "ars@ars-demo.test": 0,
    "directrice@ehpad-hibiscus.test": 1,
    "direction@flamboyants.test": 2,
    "rssi@ght-caraibe-sud.test": 5,
    "direction@ch-anse-bleue.test": 1,
    "technicien@caraibe-infogerance.test": 2,
}


def test_every_demo_user_logs_in_and_sees_only_its_structures(demo):
    structures = list(Structure.objects.all())
    for email, expected in EXPECTED_VISIBLE.items():
        client = Client()
        assert client.login(username=email, password=PASSWORD), email
        user = User.objects.get(email=email)
        visible = set(Structure.objects.visible_to(user))
        assert len(visible) == expected, email
        if user.centre_role:
            # Centre staff and the ARS must first enrol a second factor.
            response = client.get(reverse("core:region"))
            assert response.status_code == 302 and "/compte/" in response["Location"], email
            continue
        for structure in structures:
            response = client.get(reverse("core:structure", args=[structure.pk]))
            assert response.status_code == (200 if structure in visible else 404), (
                email,
                structure,
            )


def test_the_single_structure_director_sees_exactly_her_ehpad(demo):
    user = User.objects.get(email="directrice@ehpad-hibiscus.test")
    assert [s.name for s in Structure.objects.visible_to(user)] == ["EHPAD Les Hibiscus"]


def test_reset_reloads_a_demo_only_database(demo):
    before = table_counts()
    first_ids = set(Structure.objects.values_list("pk", flat=True))
    output = load(password=PASSWORD, reset=True)
    assert "effacée" in output
    after = table_counts()
    assert {k: v for k, v in after.items() if k != "AuditEntry"} == {
        k: v for k, v in before.items() if k != "AuditEntry"
    }
    assert not first_ids & set(Structure.objects.values_list("pk", flat=True))
    assert AuditEntry.objects.filter(action="demo.reset").count() == 1
    assert verify(check_anchor=False).ok  # the anchor file moves on commit only


def test_reset_refuses_when_other_data_is_present(demo):
    User.objects.create_user(username="vraie@ch-reel.test", email="vraie@ch-reel.test")
    before = table_counts()
    with pytest.raises(CommandError, match="1 compte"):
        load(password=PASSWORD, reset=True)
    assert table_counts() == before


def test_demo_loads_even_where_loopback_assets_are_refused(db, settings):
    settings.CARBET_ALLOW_LOOPBACK_ASSETS = False
    load(password=PASSWORD)
    assert Asset.objects.filter(kind="ipv4", value__startswith="127.").exists()


def test_a_generated_password_is_strong_kept_private_and_reused(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = load()
    stored = password_file().read_text().strip()
    assert len(stored) >= 12 and stored in first
    validate_password(stored)
    assert stat.S_IMODE(os.stat(password_file()).st_mode) == 0o600
    second = load()
    assert stored in second and "rien à changer" in second
    assert Client().login(username="admin@centre-demo.test", password=stored)


def test_a_new_password_is_applied_and_a_weak_one_refused(demo):
    with pytest.raises(CommandError):
        load(password="password")
    load(password="un autre mot de passe 99")
    assert Client().login(username="ars@ars-demo.test", password="un autre mot de passe 99")
