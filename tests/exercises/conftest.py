"""Fixtures of the exercises tests: a small scenario of our own (independent of the library), a
structure whose mandate covers exercises, and an exercise with its people (the SMTP and IMAP
servers are the session's: tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.engines.exercises import jsonformat
from carbet.engines.exercises import model as m
from carbet.exercises import services
from carbet.exercises.models import ScenarioVersion, SendingProfile
from tests.conftest import make_mandate
from tests.mailservers import IMAP_USERS, SmtpSink
from tests.mailservers import imap_append as shared_append

IMAP_USER = "reponses"
IMAP_PASSWORD = IMAP_USERS[IMAP_USER]


def scenario() -> m.Scenario:
    """Four injects: a mail to all at 0, a regional press article at 30 min, a phone call at
    60 min, a reminder mail to the communication cell at 90 min if nobody replied to the first."""
    return m.Scenario(
        code="test-rancon",
        version="1.0",
        title="Rançongiciel au {{structure}}",
        level="debutant",
        audience="tous",
        summary="Scénario des tests.",
        duration_minutes=120,
        variables=(
            m.Variable("structure", "Nom de la structure", "la structure"),
            m.Variable("logiciel", "Dossier patient", "DxCare"),
        ),
        objectives=(m.Objective("O1", "Alerter"), m.Objective("O2", "Communiquer")),
        situation=(m.Section("Contexte", "Le {{structure}} utilise {{logiciel}}."),),
        cells=(
            m.Cell("crise", "Cellule de crise", "decision"),
            m.Cell("com", "Communication", "communication"),
        ),
        injects=(
            m.Inject(
                "I1", 0, "Alerte du DSI", "email",
                sender=m.Sender("DSI", "dsi@x.test"),
                subject="Écrans noirs sur {{logiciel}}",
                body="Bonjour, {{logiciel}} ne répond plus au {{structure}}.",
                expectations=(m.Expectation("E1", "La cellule est activée", "O1", "crise"),),
            ),
            m.Inject(
                "I2", 30, "Article de presse", "press", scope="regional",
                sender=m.Sender("Le Quotidien"), subject="Panne au {{structure}}",
                body="Un article.",
            ),
            m.Inject(
                "I3", 60, "Appel du SAMU", "phone", sender=m.Sender("SAMU"),
                phone_script="Demander la situation.", recipients=("directeur",),
            ),
            m.Inject(
                "I4", 90, "Relance de l'ARS", "email", recipients=("com",),
                sender=m.Sender("ARS", "ars@x.test"), subject="Point de situation ?",
                body="Merci de répondre.", depends_on=(m.Dependency("I1", "not_replied"),),
            ),
        ),
        observation_grid=(
            m.Criterion(
                "C1", "Alerte rapide", "O1", (m.ScaleLevel(1, "Non"), m.ScaleLevel(4, "Oui"))
            ),
        ),
    )  # fmt: skip


@pytest.fixture
def version(db) -> ScenarioVersion:
    data = jsonformat.to_data(scenario())
    return ScenarioVersion.objects.create(
        code="test-rancon", version="1.0", title="Rançongiciel", level="debutant", data=data
    )


# --- SMTP: the session's aiosmtpd (``smtp``, tests/conftest.py) ---------------------------


def make_profile(sink: SmtpSink, imap: dict | None = None) -> SendingProfile:
    values = dict(
        name=f"Lab {sink.port} {bool(imap)}",
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_security="none",
        sender_domain="exercice.lab.test",
        reply_address="reponses@exercice.lab.test",
        smtp_password="smtp-secret-value",
    )
    if imap:
        values.update(
            imap_host=imap["host"],
            imap_port=imap["port"],
            imap_security="none",
            imap_username=IMAP_USER,
            imap_password=IMAP_PASSWORD,
        )
    return SendingProfile.objects.create(**values)


@pytest.fixture
def profile(smtp) -> SendingProfile:
    return make_profile(smtp)


def exercise_mandate(structure):
    return make_mandate(structure, covers_exercise=True, reference=f"EX-{structure.pk}")


def prepared(structure, version, profile, *, compression=3600.0, people=True, mandate=True):
    """An exercise of ``structure`` with a director, two players (one per cell), an animator
    and an observer; the structure's mandate covers exercises unless ``mandate`` is False."""
    if mandate:
        exercise_mandate(structure)
    exercise = services.create_exercise(
        SYSTEM,
        structure,
        version,
        planned_start=timezone.now() + dt.timedelta(days=1),
        compression=compression,
        variables={"logiciel": "Hopital Manager"},
        profile=profile,
    )
    if people:
        cells = {c.code: c for c in exercise.cells.all()}
        for name, email, role, cell in (
            ("Directrice Exercice", "directrice@alpha.test", "director", None),
            ("Joueur Crise", "crise@alpha.test", "player", cells["crise"]),
            ("Joueuse Com", "com@alpha.test", "player", cells["com"]),
            ("Animateur", "anim@centre.test", "animator", None),
            ("Observatrice", "obs@centre.test", "observer", None),
        ):
            services.add_participant(SYSTEM, exercise, name=name, email=email, role=role, cell=cell)
    return exercise


@pytest.fixture
def exercise(region, version, profile):
    return prepared(region.a, version, profile)


# --- IMAP: the session's dovecot (``imap_server``, tests/conftest.py), its "reponses" user --


def imap_append(server: dict, raw: bytes) -> None:
    shared_append(server, IMAP_USER, raw)
