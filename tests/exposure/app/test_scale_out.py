"""Scale-out on the real stack: PostgreSQL, Redis/RQ and two ``carbet worker`` processes.

A regional scan fans out one task per structure; both workers take some. One worker (and the
work horse running a scan) is killed mid-scan; the other worker's reaper queues that scan again
and it finishes from where it stopped. In the end every structure has exactly one successful
scan, every target is scanned once, and no observation or finding is duplicated.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.exposure.app import listeners
from tests.ops.realservers import (
    carbet_env,
    django_script,
    postgres_database,
    read_job,
    redis_database,
    run_carbet,
    start_carbet,
    stop_process,
    wait_until,
)

pytestmark = pytest.mark.realserver

STRUCTURES = 6
SLOW = [f"127.77.3.{i}" for i in range(1, STRUCTURES + 1)]
QUICK_RESCUE = {"CARBET_JOB_STALE_SECONDS": "3", "CARBET_JOB_HEARTBEAT_SECONDS": "1"}

SEED = """
import datetime as dt, json
from django.core.files.base import ContentFile
from django.utils import timezone
from carbet.core.models import Asset, Mandate, Organisation, Structure
from carbet.exposure.models import ScanProfile
ScanProfile.objects.update(is_default=False)
ScanProfile.objects.create(
    name="Lent", ports=[8080, 3389], connect_timeout=2, read_timeout=4, target_timeout=60,
    tls=False, web_paths=False, mail_dns=False, is_default=True,
)
org = Organisation.objects.create(finess_ej="750712184", name="Org", legal_status="public")
finess = ["970200010", "970200028", "970200036", "970200044", "970200051", "970200069"]
today = dt.date.today()
for index, address in enumerate(ADDRESSES):
    structure = Structure.objects.create(
        finess_et=finess[index], name=f"Structure {index}", organisation=org, category="ch",
        departement="972",
    )
    Asset.objects.create(  # proven by the centre's review: scannable
        structure=structure, kind="ipv4", value=address, validated=True,
        proven_at=timezone.now(), proof_method="centre_review", proof_note="revue de test",
    )
    mandate = Mandate(
        structure=structure, services=["exposure_scan"], signed_by_name="Dir", signed_on=today,
        valid_from=today, valid_until=today + dt.timedelta(days=30), document_sha256="0" * 64,
    )
    mandate.document.save("m.pdf", ContentFile(b"%PDF-1.4"), save=False)
    mandate.save()
print(json.dumps({"ok": True}))
"""

LAUNCH = """
import json
from carbet.core.tenancy import SYSTEM
from carbet.exposure.services import request_regional_scan
print(json.dumps({"regional": request_regional_scan(SYSTEM).pk}))
"""

FINAL = """
import json
from carbet.exposure.models import ScanObservation, ScanTarget
from carbet.findings.models import Finding
print(json.dumps({
    "targets": ScanTarget.objects.count(),
    "done": ScanTarget.objects.filter(status="done").count(),
    "observations": ScanObservation.objects.count(),
    "distinct_observations": ScanObservation.objects.values("scan_id", "fingerprint")
    .distinct()
    .count(),
    "findings": Finding.objects.count(),
    "rdp_per_structure": sorted(
        ScanObservation.objects.filter(check_id="port.rdp").values_list("structure_id", flat=True)
    ),
}))
"""


def _scans(database_url: str, regional: int) -> list[dict]:
    """Each scan of the regional run with its job, read straight from PostgreSQL (fast)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT s.structure_id, s.status, j.id, j.status, j.attempts, j.worker "
            "FROM exposure_scan s JOIN jobs_job j ON j.id = s.job_id WHERE s.regional_id = %s",
            [regional],
        ).fetchall()
    keys = ("structure", "status", "job", "job_status", "attempts", "worker")
    return [dict(zip(keys, row, strict=True)) for row in rows]


class SlowRdp(listeners.RdpHandler):
    """Answers after a pause: a scan stays in flight long enough to be killed mid-way."""

    def handle(self) -> None:
        time.sleep(2.5)
        super().handle()


@pytest.fixture(scope="module")
def slow_listeners():
    servers = []
    for address in SLOW:
        servers.append(listeners.start(address, 3389, SlowRdp))
        servers.append(listeners.start(address, 8080, listeners.HttpHandler))
    yield
    for server in servers:
        server.shutdown()
        server.server_close()


def _parent_pid(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1])


def test_two_rq_workers_share_a_regional_scan_and_a_killed_one_loses_nothing(
    tmp_path, slow_listeners
):
    with postgres_database("carbet_exposure") as database_url, redis_database() as redis_url:
        env = carbet_env(
            tmp_path / "data",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            CARBET_ALLOW_LOOPBACK_ASSETS="1",
            **QUICK_RESCUE,
        )
        migrated = run_carbet(env, "migrate", "--verbosity", "0")
        assert migrated.returncode == 0, migrated.stderr
        django_script(env, SEED.replace("ADDRESSES", repr(SLOW)))
        logs = [tmp_path / "w1.log", tmp_path / "w2.log", tmp_path / "w3.log"]
        workers = [
            start_carbet(env, "worker", log=logs[0]),
            start_carbet(env, "worker", log=logs[1]),
        ]
        try:
            regional = django_script(env, LAUNCH)["regional"]

            def running_scan():
                for scan in _scans(database_url, regional):
                    if scan["job_status"] == "running" and scan["worker"]:
                        return scan
                return None

            victim = wait_until(running_scan, 120, "a scan to be running on a worker")
            horse = int(victim["worker"].rsplit(":", 1)[1])
            parent = _parent_pid(horse)
            killed = next(w for w in workers if w.pid == parent)
            os.killpg(killed.pid, signal.SIGKILL)
            try:
                os.kill(horse, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed.wait(timeout=30)
            stop_process(killed)
            # A replacement machine joins; the survivor's reaper may already have rescued it.
            workers.append(start_carbet(env, "worker", log=logs[2]))

            def all_finished():
                scans = _scans(database_url, regional)
                finished = [s for s in scans if s["job_status"] in ("succeeded", "failed")]
                return scans if len(scans) == STRUCTURES == len(finished) else None

            scans = wait_until(all_finished, 240, "every structure's scan to finish", interval=1)
            final = django_script(env, FINAL)
        finally:
            for worker in workers:
                stop_process(worker)
        text = "\n".join(p.read_text(errors="replace") for p in logs if p.exists())
        assert all(s["status"] == "succeeded" for s in scans), scans
        victim_job = read_job(env, str(victim["job"]))
        assert victim_job["status"] == "succeeded" and victim_job["attempts"] == 2, victim_job
        assert "job requeued after worker loss" in text
        # The fan-out was shared: the scans ran on at least two of the workers.
        ran_on = [
            log for log in logs if log.exists() and "run_job(" in log.read_text(errors="replace")
        ]
        assert len(ran_on) >= 2, text[-3000:]
        # Nothing lost, nothing duplicated: one target per structure, each scanned, one RDP
        # observation per structure, observations unique, findings as many as observations.
        assert final["targets"] == final["done"] == STRUCTURES
        assert final["observations"] == final["distinct_observations"]
        assert len(final["rdp_per_structure"]) == STRUCTURES
        assert len(set(final["rdp_per_structure"])) == STRUCTURES
        assert final["findings"] == final["observations"]
