"""Roadmap at regional scale: the nightly indicator computation for 500 structures.

In a fresh data directory (SQLite, the embedded default; ``--backends sqlite,postgresql`` adds
PostgreSQL on 127.0.0.1:5432 in a throw-away database), the script loads a region in bulk with
realistic volumes per structure — a full diagnostic (25 answers) and CaRE D2 answers, a year of
facts from the other services (weekly exposure scans, monthly directory audits, two phishing
campaigns, an exercise), a backup register of three systems with four restore tests each,
automatic evidence, and 30 days of indicator history — then times:

1. ``indicators.compute_all`` (the nightly values of every structure and the regional
   aggregates), against the floor: reading the same input rows into Python lists with plain
   ``values_list`` queries (what any implementation must at least do);
2. the whole night, ``carbet roadmap nightly`` (automatic evidence windows, evidence
   reminders, backup-register findings through the findings ingest, indicators).

Each phase runs with ``tracemalloc`` for its peak Python memory; ``ru_maxrss`` is printed too.
Aim: the nightly indicators under 60 s on SQLite. There is no runnable anchor (CISO Assistant
and MonAideCyber compute no regional nightly indicators), hence the floor.

    .venv/bin/python benchmarks/roadmap.py [--structures 500] [--backends sqlite]

Not a test: it asserts nothing. See benchmarks/README.md ("Roadmap") for recorded figures.
"""

from __future__ import annotations

import os
import sys

# benchmarks/platform.py shadows the standard library's ``platform`` when this folder is first
# on sys.path, as it is for a script: drop the folder.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from datetime import time as dtime  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
AIM_SECONDS = 60.0
HISTORY_DAYS = 30
CATEGORIES = ("ehpad", "ehpad", "ehpad", "ch", "clinique", "ssr", "psychiatrie")


def configure(data_dir: Path, database_url: str | None) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "carbet.settings",
            "CARBET_DATA_DIR": str(data_dir),
            "CARBET_PLAIN_STATIC": "1",
            "CARBET_LOG_LEVEL": "WARNING",
            "CARBET_TASKS_IMMEDIATE": "1",
        }
    )
    os.environ.pop("REDIS_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _aware(day: date):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, dtime(9, 0)))


def load_region(count: int, today: date) -> dict[str, int]:
    """Bulk-load ``count`` structures with a year of roadmap data each."""
    from django.db import transaction

    from carbet.core.models import Organisation, Structure
    from carbet.roadmap.models import (
        Answer,
        Assessment,
        AutoEvidence,
        BackupSystem,
        Framework,
        IndicatorValue,
        RestoreTest,
        ServiceFact,
    )

    diagnostic = Framework.objects.get(code="diagnostic")
    d2 = Framework.objects.get(code="care-d2")
    questions = list(diagnostic.requirements.all())
    objectives = list(d2.requirements.all())
    auto_requirements = [r for r in objectives if r.auto]
    with transaction.atomic():
        organisations = Organisation.objects.bulk_create(
            [
                Organisation(
                    finess_ej=f"97{i:07d}", name=f"Organisation {i}", legal_status="public"
                )
                for i in range(count // 4 + 1)
            ]
        )
        structures = Structure.objects.bulk_create(
            [
                Structure(
                    finess_et=f"96{i:07d}",
                    name=f"Structure {i:04d}",
                    organisation=organisations[i // 4],
                    category=CATEGORIES[i % len(CATEGORIES)],
                    places=80,
                    activity_weight=50 + i % 300,
                    departement="972",
                )
                for i in range(count)
            ]
        )
        assessments = Assessment.objects.bulk_create(
            [Assessment(structure=s, framework=f) for s in structures for f in (diagnostic, d2)]
        )
        answers = []
        for index, assessment in enumerate(assessments):
            rows = questions if assessment.framework_id == diagnostic.pk else objectives
            for number, requirement in enumerate(rows):
                if assessment.framework_id == diagnostic.pk:
                    score = (index + number) % 4
                    answers.append(
                        Answer(
                            assessment=assessment,
                            requirement=requirement,
                            score=score,
                            result="unknown" if (index + number) % 11 == 0 else "",
                        )
                    )
                else:
                    result = ("met", "partial", "not_met", "met", "na")[(index + number) % 5]
                    answers.append(
                        Answer(assessment=assessment, requirement=requirement, result=result)
                    )
        Answer.objects.bulk_create(answers, batch_size=5000)
        facts = []
        for index, structure in enumerate(structures):
            for week in range(52):
                facts.append(
                    ServiceFact(
                        structure=structure,
                        kind="exposure_scan",
                        at=_aware(today - timedelta(weeks=week)),
                        value={
                            "critical": (index + week) % 3,
                            "dmarc_reject": (index + week) % 4 == 0,
                            "mfa_remote_access": index % 3 == 0,
                        },
                        reference=f"scan-{week}",
                    )
                )
            for month in range(12):
                facts.append(
                    ServiceFact(
                        structure=structure,
                        kind="directory_audit",
                        at=_aware(today - timedelta(days=30 * month + 1)),
                        value={"anssi_level": 1 + (index + month) % 5, "score": 50},
                        reference=f"audit-{month}",
                    )
                )
            for campaign in range(2):
                facts.append(
                    ServiceFact(
                        structure=structure,
                        kind="phishing_campaign",
                        at=_aware(today - timedelta(days=90 + 150 * campaign)),
                        value={"reporting_rate": 0.1 * (1 + index % 7)},
                        reference=f"phish-{campaign}",
                    )
                )
            if index % 5:
                facts.append(
                    ServiceFact(
                        structure=structure,
                        kind="exercise",
                        at=_aware(today - timedelta(days=index % 200)),
                        value={"continuity_test": index % 2 == 0},
                        reference="exercise",
                    )
                )
        ServiceFact.objects.bulk_create(facts, batch_size=5000)
        systems = BackupSystem.objects.bulk_create(
            [
                BackupSystem(
                    structure=s,
                    name=name,
                    method="image",
                    copies=3 - i % 2,
                    media=2,
                    offsite=i % 3 != 0,
                    immutable_offline=i % 2 == 0,
                    last_success_on=today - timedelta(days=i % 9),
                )
                for i, s in enumerate(structures)
                for name in ("DPI", "Messagerie", "Fichiers")
            ]
        )
        RestoreTest.objects.bulk_create(
            [
                RestoreTest(
                    system=b,
                    structure_id=b.structure_id,
                    scope="Restauration",
                    tested_on=today - timedelta(days=90 * t + i % 60),
                    result=("success", "success", "partial", "failure")[(i + t) % 4],
                    business_referent="Cadre",
                )
                for i, b in enumerate(systems)
                for t in range(4)
            ],
            batch_size=5000,
        )
        AutoEvidence.objects.bulk_create(
            [
                AutoEvidence(structure=s, requirement=r, satisfied=(i + n) % 2 == 0)
                for i, s in enumerate(structures)
                for n, r in enumerate(auto_requirements)
            ],
            batch_size=5000,
        )
        codes = [
            "exercise_this_year",
            "directory_level",
            "dmarc_reject",
            "restore_tested",
            "mfa_remote_access",
            "phishing_reporting_rate",
            "diagnostic_score",
            "care_d2_progress",
        ]
        history = [
            IndicatorValue(structure=s, code=code, day=today - timedelta(days=d), value=1.0)
            for s in structures
            for code in codes
            for d in range(1, HISTORY_DAYS + 1)
        ]
        IndicatorValue.objects.bulk_create(history, batch_size=5000)
    return {
        "structures": count,
        "answers": len(answers),
        "facts": len(facts),
        "backup systems": len(systems),
        "indicator history rows": len(history),
    }


def floor_read() -> None:
    """What any implementation must at least do: read the inputs once."""
    from carbet.core.models import Structure
    from carbet.roadmap.models import Answer, AutoEvidence, RestoreTest, ServiceFact

    list(Structure.objects.values_list("pk", "category"))
    list(ServiceFact.objects.values_list("structure_id", "kind", "at", "value"))
    list(
        Answer.objects.values_list("assessment__structure_id", "requirement_id", "result", "score")
    )
    list(AutoEvidence.objects.values_list("structure_id", "requirement_id", "satisfied"))
    list(RestoreTest.objects.values_list("structure_id", "tested_on", "result"))


def measure(function) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    function()
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1e6


def run_backend(name: str, count: int) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"carbet-bench-roadmap-{name}-"))
    database_url = None
    pg_name = None
    if name == "postgresql":
        pg_name = f"carbet_bench_roadmap_{os.getpid()}"
        subprocess.run(["psql", PG_DSN, "-qc", f"CREATE DATABASE {pg_name}"], check=True)
        database_url = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    try:
        configure(data_dir, database_url)
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        today = timezone.localdate()
        started = time.perf_counter()
        volumes = load_region(count, today)
        load_seconds = time.perf_counter() - started
        from carbet.roadmap import indicators
        from carbet.roadmap.job_kinds import run_nightly

        floor_s, floor_mb = measure(floor_read)
        compute_s, compute_mb = measure(lambda: indicators.compute_all(today))
        again_s, _again_mb = measure(lambda: indicators.compute_all(today))
        nightly_s, nightly_mb = measure(lambda: run_nightly(today))
        return {
            "backend": name,
            "volumes": volumes,
            "load_s": round(load_seconds, 1),
            "floor_s": round(floor_s, 2),
            "floor_peak_mb": round(floor_mb, 1),
            "indicators_s": round(compute_s, 2),
            "indicators_peak_mb": round(compute_mb, 1),
            "indicators_rerun_s": round(again_s, 2),
            "nightly_s": round(nightly_s, 2),
            "nightly_peak_mb": round(nightly_mb, 1),
            "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if pg_name:
            from django.db import connections

            connections.close_all()
            subprocess.run(["psql", PG_DSN, "-qc", f"DROP DATABASE IF EXISTS {pg_name}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--structures", type=int, default=500)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_backend(args.child, args.structures)))
        return
    results = []
    for backend in args.backends.split(","):
        # One process per backend: Django is configured once per process.
        output = subprocess.run(
            [sys.executable, __file__, "--child", backend, "--structures", str(args.structures)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    for result in results:
        print(f"\n{result['backend']}: {json.dumps(result['volumes'])}")
        print(f"  bulk load of the region        {result['load_s']:>8.1f} s")
        print(f"{'phase':<34}{'time (s)':>10}{'peak (MB)':>11}{'× floor':>9}")
        floor = result["floor_s"] or 1e-9
        for label, key in (
            ("floor: read the inputs", "floor"),
            ("nightly indicators", "indicators"),
            ("the whole night", "nightly"),
        ):
            seconds = result[f"{key}_s"]
            print(
                f"  {label:<32}{seconds:>10.2f}{result[f'{key}_peak_mb']:>11.1f}"
                f"{seconds / floor:>9.1f}"
            )
        print(f"  indicators again (same day)     {result['indicators_rerun_s']:>8.2f} s")
        verdict = "met" if result["indicators_s"] < AIM_SECONDS else "MISSED"
        print(
            f"  aim < {AIM_SECONDS:.0f} s for the nightly indicators: {verdict}; "
            f"process max RSS {result['maxrss_mb']} MB"
        )


if __name__ == "__main__":
    main()
