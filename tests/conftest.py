"""Shared fixtures: a small region with two organisations, users for every role, logins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts.models import Membership, User
from carbet.accounts.roles import CentreRole, StructureRole
from carbet.core.models import Asset, Contact, Ght, Mandate, Organisation, Structure

PASSWORD = "correct horse battery staple 42"

# Fixtures that build an expensive data set once per module (the demo region) and let each test
# of the module run in a savepoint of it; see ``rolled_back_at_the_end``.
MODULE_SHARED_FIXTURES = ("demo_once",)
# The browser tests' demo region and live server, built once per session (tests/browser).
SESSION_SHARED_FIXTURE = "shared_demo"


def pytest_collection_modifyitems(config, items) -> None:
    """Order the tests so that shared data sets never meet tests that expect an empty database.

    Within a module, the tests on a module-shared data set run after the module's other tests
    (the data set is built at its first use and rolled back when the module ends); the browser
    tests on the session's shared demo run last of all. Otherwise the order is unchanged.
    """
    first_seen: dict[str, int] = {}
    for item in items:
        first_seen.setdefault(item.nodeid.split("::")[0], len(first_seen))

    def rank(item) -> tuple[bool, int, bool]:
        names = getattr(item, "fixturenames", ())
        return (
            SESSION_SHARED_FIXTURE in names,
            first_seen[item.nodeid.split("::")[0]],
            any(name in names for name in MODULE_SHARED_FIXTURES),
        )

    items.sort(key=rank)  # stable: the collected order holds inside each group


@contextmanager
def rolled_back_at_the_end(django_db_blocker) -> Iterator[None]:
    """Rows written inside stay for the tests that follow, and are rolled back at the end.

    Django's ``TestCase.setUpTestData`` pattern: pytest-django's ``db`` fixture nests each test
    in a savepoint of this transaction, so a test that writes is rolled back to the shared data
    set, never past it. Only for tests using ``db``: a ``transactional_db`` test would commit
    and flush inside it (the ordering hook above runs those first in their module).
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def make_user(email: str, centre_role: str = "", **memberships) -> User:
    user = User.objects.create_user(
        username=email,
        email=email,
        password=PASSWORD,
        centre_role=centre_role,
        full_name=email.split("@")[0],
    )
    for role, scopes in memberships.items():
        for scope in scopes:
            kind = type(scope).__name__.lower()
            Membership.objects.create(user=user, role=role, **{kind: scope})
    return user


def login(client: Client, user: User) -> Client:
    """Log ``user`` in with a verified second factor (as after a correct TOTP code)."""
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@dataclass
class Region:
    """Two organisations; ``a``/``a2`` belong to org A (in a GHT), ``b`` to org B."""

    ght: Ght
    org_a: Organisation
    org_b: Organisation
    a: Structure
    a2: Structure
    b: Structure
    users: dict[str, User] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        return login(Client(), self.users[role])


def proven(**extra) -> dict:
    """Fields of an asset whose ownership the centre has reviewed (``Asset(**proven())``)."""
    from django.utils import timezone

    return {
        "validated": True,
        "proven_at": timezone.now(),
        "proof_method": "centre_review",
        "proof_note": "revue de test",
        **extra,
    }


def prove(asset: Asset) -> Asset:
    """Mark an existing asset as proven by the centre's review (tests only)."""
    for name, value in proven().items():
        setattr(asset, name, value)
    asset.save()
    return asset


def make_mandate(structure: Structure, **overrides) -> Mandate:
    today = dt.date.today()
    values = dict(
        structure=structure,
        reference=f"M-{structure.finess_et}",
        services=["exposure_scan", "directory_audit"],
        signed_by_name="Directrice",
        signed_on=today,
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
        document_sha256="0" * 64,
        document_name="mandat.pdf",
    )
    # ``covers_<kind>=True/False`` adds or removes a kind (the tests' shorthand).
    kinds = list(values["services"])
    for name in [key for key in overrides if key.startswith("covers_")]:
        kind = name.removeprefix("covers_")
        if overrides.pop(name):
            kinds = [*kinds, kind] if kind not in kinds else kinds
        else:
            kinds = [k for k in kinds if k != kind]
    values["services"] = kinds
    values.update(overrides)
    mandate = Mandate(**values)
    mandate.document.save("mandat.pdf", ContentFile(b"%PDF-1.4 signed"), save=False)
    mandate.save()
    return mandate


@pytest.fixture
def region(db) -> Region:
    ght = Ght.objects.create(code="GHT-TEST", name="GHT des Tests")
    org_a = Organisation.objects.create(
        finess_ej="750712184", name="CH Alpha", legal_status="public", ght=ght
    )
    org_b = Organisation.objects.create(
        finess_ej="750100125", name="Association Beta", legal_status="private_non_profit"
    )
    a = Structure.objects.create(
        finess_et="970200010",
        name="CH Alpha — site principal",
        organisation=org_a,
        category="ch",
        beds=300,
        departement="972",
    )
    a2 = Structure.objects.create(
        finess_et="970200028",
        name="EHPAD Alpha",
        organisation=org_a,
        category="ehpad",
        places=80,
        departement="972",
    )
    b = Structure.objects.create(
        finess_et="970200036",
        name="EHPAD Beta",
        organisation=org_b,
        category="ehpad",
        places=60,
        departement="971",
    )
    for structure, host in ((a, "alpha.test"), (a2, "ehpad-alpha.test"), (b, "beta.test")):
        Asset.objects.create(structure=structure, kind="domain", value=host, **proven())
        Contact.objects.create(structure=structure, role="director", name=f"Dir {host}")
        make_mandate(structure)
    r = Region(ght, org_a, org_b, a, a2, b)
    r.users = {
        "centre_admin": make_user("admin@centre.test", CentreRole.ADMIN),
        "centre_analyst": make_user("analyst@centre.test", CentreRole.ANALYST),
        "ars_viewer": make_user("ars@ars.test", CentreRole.ARS),
        "director": make_user("dir@alpha.test", **{StructureRole.DIRECTOR: [a]}),
        "referent": make_user("ref@alpha.test", **{StructureRole.REFERENT: [a]}),
        "it_provider": make_user("it@presta.test", **{StructureRole.IT_PROVIDER: [a]}),
        "org_director": make_user("dg@alpha.test", **{StructureRole.DIRECTOR: [org_a]}),
        "ght_referent": make_user("rssi@ght.test", **{StructureRole.REFERENT: [ght]}),
        "director_b": make_user("dir@beta.test", **{StructureRole.DIRECTOR: [b]}),
        "nobody": make_user("nobody@nowhere.test"),
    }
    return r


@pytest.fixture(scope="session")
def smtp_server():
    """One real SMTP server (aiosmtpd on loopback) for the session: see ``tests/mailservers``."""
    from tests.mailservers import smtp_sink

    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def smtp(smtp_server):
    """The session's SMTP server, emptied of the previous tests' messages."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture(scope="session")
def imap_server():
    """One real IMAP server (dovecot on loopback) for the session: see ``tests/mailservers``."""
    from tests.mailservers import dovecot

    with dovecot() as server:
        yield server
