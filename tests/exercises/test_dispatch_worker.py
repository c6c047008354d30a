"""A real ``carbet worker`` runs an exercise's clock; it is killed (SIGKILL, with its whole
process group) mid-exercise and another worker is started: every e-mail inject arrives at the
SMTP server (aiosmtpd) exactly once — nothing lost, nothing sent twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections import Counter

import pytest

from tests.ops.realservers import (
    carbet_env,
    django_script,
    migrated_template,
    start_carbet,
    stop_process,
    wait_until,
)

pytestmark = pytest.mark.realserver

# A dead worker is noticed after 3 s without heartbeat; the reaper looks every 1.5 s.
QUICK_RESCUE = {"CARBET_JOB_STALE_SECONDS": "3", "CARBET_JOB_HEARTBEAT_SECONDS": "1"}
INJECTS = 12

SETUP = """
import datetime as dt, json
from django.core.files.base import ContentFile
from django.utils import timezone
from carbet.core.models import Mandate, Organisation, Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.exercises import jsonformat, model as m
from carbet.exercises import services, services_console
from carbet.exercises.models import ScenarioVersion, SendingProfile

injects = tuple(
    m.Inject(f"I{n}", 2 * n, f"Message {n}", "email", sender=m.Sender("ARS", "ars@x.test"),
             subject=f"Message {n:02d}", body="Point de situation.")
    for n in range(%(count)d)
)
scenario = m.Scenario(
    code="kill", version="1", title="Kill", level="debutant", audience="tous",
    summary="Test.", duration_minutes=30, injects=injects,
    objectives=(m.Objective("O1", "Tenir"),), cells=(m.Cell("crise", "Cellule", "decision"),),
    situation=(m.Section("Contexte", "Texte."),),
    observation_grid=(m.Criterion("C1", "Alerte", "O1", (m.ScaleLevel(1, "Non"),
                                                          m.ScaleLevel(4, "Oui"))),),
)
version = ScenarioVersion.objects.create(code="kill", version="1", title="Kill",
                                         level="debutant", data=jsonformat.to_data(scenario))
org = Organisation.objects.create(finess_ej="750712184", name="CH", legal_status="public")
structure = Structure.objects.create(finess_et="970200010", name="CH Test", organisation=org,
                                     category="ch", departement="972")
today = dt.date.today()
mandate = Mandate(structure=structure, reference="EX-1", services=["exercise"],
                  signed_by_name="Directrice", signed_on=today, valid_from=today,
                  valid_until=today + dt.timedelta(days=30), document_sha256="0" * 64,
                  document_name="mandat.pdf")
mandate.document.save("mandat.pdf", ContentFile(b"%%PDF-1.4 signed"), save=False)
mandate.save()
profile = SendingProfile.objects.create(name="lab", smtp_host="127.0.0.1", smtp_port=%(port)d,
    smtp_security="none", sender_domain="exercice.lab.test",
    reply_address="reponses@exercice.lab.test")
exercise = services.create_exercise(SYSTEM, structure, version,
    planned_start=timezone.now(), compression=60.0, profile=profile)
services.add_participant(SYSTEM, exercise, name="Joueur", email="joueur@ch.test", role="player")
services_console.start(SYSTEM, exercise)
print(json.dumps({"exercise": exercise.pk}))
"""

STATE = """
import json
from carbet.exercises.models import Inject
print(json.dumps(dict(Counter(Inject.objects.values_list("state", flat=True)))))
""".replace("import json", "import json\nfrom collections import Counter")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return migrated_template(tmp_path_factory.mktemp("exercise-worker"))


def test_a_killed_worker_loses_and_duplicates_no_inject(template, tmp_path, smtp):
    shutil.copytree(template, tmp_path / "data")
    env = carbet_env(tmp_path / "data", **QUICK_RESCUE)
    first = start_carbet(env, "worker", log=tmp_path / "first.log")
    second = None
    try:
        django_script(env, SETUP % {"count": INJECTS, "port": smtp.port})
        wait_until(
            lambda: len(smtp.messages) >= 4,
            120,
            "the first worker to send a few injects\n" + _log(tmp_path / "first.log"),
        )
        os.killpg(first.pid, signal.SIGKILL)  # as if the machine died mid-exercise
        first.wait(timeout=30)
        received_at_kill = len(smtp.messages)
        assert received_at_kill < INJECTS, "the exercise ended before the kill: too fast"
        second = start_carbet(env, "worker", log=tmp_path / "second.log")
        wait_until(
            lambda: len(smtp.messages) >= INJECTS,
            180,
            "the second worker to send the rest\n" + _log(tmp_path / "second.log"),
        )
        states = wait_until(
            lambda: (s := django_script(env, STATE)) and s.get("sent") == INJECTS and s,
            60,
            "every inject to be marked sent",
        )
        assert states == {"sent": INJECTS}
    finally:
        if second is not None:
            stop_process(second)
        if first.poll() is None:
            stop_process(first)
    subjects = Counter(str(r.message["Subject"]) for r in smtp.messages)
    assert subjects == Counter({f"[EXERCICE] Message {n:02d}": 1 for n in range(INJECTS)})
    assert json.dumps(sorted(subjects))  # every one exactly once, whatever the kill moment


def _log(path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""
