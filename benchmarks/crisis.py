"""Benchmark of the crisis service: a 90-day crisis at full size, read and written at once.

1. **Pages**: one case of 90 days with 20,000 main-courante entries (sealed and chained like
   the service writes them), 600 tasks, 300 systems, 40 care activities, three phase changes.
   The log page (``crisis:log``) and the director's
   one-page view (``crisis:director``) are fetched through Django's test client as a member of
   the cell, 50 times each after a warm-up; p50/p95 are printed. Aim: p95 under 200 ms on
   SQLite. Without the pages (``views_case``), the selectors behind them are timed instead and
   the output says so.
2. **Full log PDF** (``carbet.crisis.pdf.log_pdf``) of the 20,000 entries: seconds. Aim: < 10 s.
3. **Writers**: 20 processes append to one case at once (each its own connection, released
   together); entries per second from the release to the last exit, then the chain is walked
   (``verify_log``) and the sequence checked contiguous: nothing lost, chain intact. On SQLite
   always; on PostgreSQL when 127.0.0.1:5432 answers (a throw-away database).

    .venv/bin/python benchmarks/crisis.py
    .venv/bin/python benchmarks/crisis.py --entries 2000 --writers 5 --per-writer 20 --keep
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This folder holds benchmarks/platform.py, which would shadow the standard library's module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


WORKSTREAMS = ["technical", "care", "communication", "legal", "hr", "suppliers"]
STATES = ["compromised", "isolated", "cleaned", "restored", "verified"]
MODES = ["normal", "degraded", "stopped"]


def configure(data_dir: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "carbet.settings",
        "CARBET_DATA_DIR": str(data_dir),
        "CARBET_ALLOWED_HOSTS": "testserver,127.0.0.1",
        "CARBET_PLAIN_STATIC": "1",
        "CARBET_LOG_LEVEL": "WARNING",
        "CARBET_INSECURE_HTTP": "1",
    }
    os.environ.update(env)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def build_crisis(entries: int, tasks: int, assets: int, activities: int):
    """The 90-day case: rows written in bulk, the log sealed exactly as the service seals."""
    from django.utils import timezone

    from carbet.accounts.models import Membership, User
    from carbet.audit import keyring
    from carbet.core.models import Organisation, Structure
    from carbet.core.tenancy import SYSTEM
    from carbet.crisis import services
    from carbet.crisis.models import Activity, CrisisAsset, LogEntry, Task
    from carbet.engines.crisis import chain

    org = Organisation.objects.create(finess_ej="750712184", name="CH Bench", legal_status="public")
    structure = Structure.objects.create(
        finess_et="970200010", name="CH Bench", organisation=org, category="ch",
        departement="972",
    )  # fmt: skip
    director = User.objects.create_user(
        username="dir@bench.test", email="dir@bench.test", password="x" * 20
    )
    Membership.objects.create(user=director, role="director", structure=structure)
    start = timezone.now() - dt.timedelta(days=90)
    case = services.open_case_for(SYSTEM, structure, category="ransomware", now=start)
    key = keyring.current(create=True)
    last = LogEntry.objects.filter(case=case).order_by("-sequence").first()
    sequence, previous = last.sequence, last.entry_hash
    kinds = ["fact", "action", "communication", "situation", "decision"]
    step = dt.timedelta(days=90) / entries
    batch: list[LogEntry] = []
    for i in range(entries):
        sequence += 1
        at = start + step * i
        entry = LogEntry(
            case_id=case.pk, sequence=sequence, event_at=at, recorded_at=at,
            author_label="Cellule de crise <cellule@bench.test>", source="main courante",
            kind=kinds[i % len(kinds)], verified=i % 3 == 0,
            text=f"Entrée {i} : point sur les serveurs, les urgences et la pharmacie. " * 2,
            prev_hash=previous, key_id=key.id,
        )  # fmt: skip
        entry.entry_hash = chain.seal({f: getattr(entry, f) for f in chain.FIELDS}, key.secret)
        previous = entry.entry_hash
        batch.append(entry)
        if len(batch) == 2000:
            LogEntry.objects.bulk_create(batch)
            batch = []
    LogEntry.objects.bulk_create(batch)
    Task.objects.bulk_create(
        Task(
            case=case,
            workstream=["technical", "care", "communication", "legal", "hr", "suppliers"][i % 6],
            title=f"Tâche {i}",
            owner="Informatique",
            priority=1 + i % 3,
            due_at=start + dt.timedelta(hours=i * 3),
            status=["todo", "doing", "done"][i % 3],
        )
        for i in range(tasks)
    )
    CrisisAsset.objects.bulk_create(
        CrisisAsset(case=case, label=f"SRV-{i:03d}", state=STATES[i % 5]) for i in range(assets)
    )
    Activity.objects.filter(case=case).delete()
    Activity.objects.bulk_create(
        Activity(case=case, name=f"Activité {i}", position=i, mode=MODES[i % 3])
        for i in range(activities)
    )
    for n, phase in enumerate(["containment", "remediation", "rebuild"]):
        services.change_phase(
            SYSTEM, case, phase, reason="bench", now=start + dt.timedelta(days=10 + 20 * n)
        )
    return case, director


def client_for(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def time_pages(case, director, repeat: int) -> dict[str, tuple[str, list[float]]]:
    from django.urls import NoReverseMatch, reverse

    results: dict[str, tuple[str, list[float]]] = {}
    client = client_for(director)
    for name in ("log", "director"):
        try:
            path = reverse(f"crisis:{name}", args=[case.pk])
        except NoReverseMatch:
            path = ""
        if path:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200
            results[name] = (f"page {path}", timings)
        else:
            results[name] = ("selectors (no page yet)", _time_selector(name, case, repeat))
    return results


def _time_selector(name: str, case, repeat: int) -> list[float]:
    from carbet.crisis import selectors

    timings = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        if name == "log":
            list(selectors.log_entries(case, newest_first=True)[:200])
        else:
            selectors.director_view(case)
        timings.append(time.perf_counter() - started)
    return timings[1:]


def time_pdf(case) -> tuple[float, int] | None:
    try:
        from carbet.crisis.pdf import log_pdf
    except ImportError:
        return None
    started = time.perf_counter()
    data = log_pdf(case)
    return time.perf_counter() - started, len(data)


def writers(env: dict[str, str], tmp: Path, count: int, each: int, database_url: str = "") -> dict:
    from tests.crisis.concurrency import prepare, run_writers
    from tests.ops.realservers import carbet_env

    extra = {"DATABASE_URL": database_url} if database_url else {}
    sub_env = carbet_env(tmp, **extra)
    case_id = prepare(sub_env)
    return run_writers(sub_env, case_id, count, each, tmp / "go")


def postgres_available() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def report_writers(label: str, result: dict, count: int, each: int) -> None:
    n = count * each
    print(
        f"writers ({label}): {count} processes x {each} = {n} entries in {result['elapsed']:.2f} s"
        f" -> {n / result['elapsed']:.0f} entries/s; kept {result['writer_entries']}/{n}, "
        f"sequence contiguous {result['contiguous']}, chain intact {result['chain_ok']}, "
        f"errors {len(result['errors'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--tasks", type=int, default=600)
    parser.add_argument("--assets", type=int, default=300)
    parser.add_argument("--activities", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--writers", type=int, default=20, help="0: skip the writers")
    parser.add_argument("--per-writer", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="carbet-bench-crisis-"))
    try:
        env = configure(tmp / "data")
        started = time.perf_counter()
        case, director = build_crisis(args.entries, args.tasks, args.assets, args.activities)
        print(
            f"built: {args.entries} entries, {args.tasks} tasks, {args.assets} systems, "
            f"{args.activities} activities in {time.perf_counter() - started:.1f} s (SQLite)"
        )
        for name, (what, timings) in time_pages(case, director, args.repeat).items():
            print(
                f"{name:9s} {what}: p50 {statistics.median(timings) * 1000:.0f} ms, "
                f"p95 {percentile(timings, 95) * 1000:.0f} ms (aim: p95 < 200 ms)"
            )
        pdf = time_pdf(case)
        if pdf is None:
            print("log PDF: carbet.crisis.pdf not available")
        else:
            print(
                f"log PDF: {args.entries} entries in {pdf[0]:.2f} s, {pdf[1] / 1e6:.1f} MB "
                "(aim: < 10 s)"
            )
        from carbet.crisis.services_log import verify_log

        started = time.perf_counter()
        result = verify_log(case)
        walked = time.perf_counter() - started
        print(f"verify:  {result.checked} entries walked in {walked:.2f} s, intact {result.ok}")
        if args.writers <= 0:
            return
        sqlite = writers(env, tmp / "writers-sqlite", args.writers, args.per_writer)
        report_writers("SQLite", sqlite, args.writers, args.per_writer)
        if postgres_available():
            from tests.ops.realservers import postgres_database

            with postgres_database("carbet_bench_crisis") as url:
                pg = writers(env, tmp / "writers-pg", args.writers, args.per_writer, url)
            report_writers("PostgreSQL", pg, args.writers, args.per_writer)
        else:
            print("writers (PostgreSQL): 127.0.0.1:5432 unreachable, skipped")
    finally:
        if args.keep:
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
