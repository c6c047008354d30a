"""Server time of Carbet's busiest pages at regional scale, on the embedded default (SQLite).

Builds a throw-away data directory, migrates it, loads a region of 500 structures and 20,000
assets (bulk inserts: this is a fixture, not the thing measured), signs a centre analyst in
with a verified second factor, then times N requests of each page with Django's test client,
in process: what is measured is Carbet's own work (middleware, views, queries, templates),
without a network or a web server in the way. Prints p50 / p95 / max and the queries one
request makes, against the aim: p95 under 150 ms on SQLite.

    .venv/bin/python benchmarks/platform.py [--requests 50] [--structures 500] [--assets 20000]

Not a test: it asserts nothing about time. See benchmarks/README.md for recorded figures.
"""

from __future__ import annotations

import os
import sys

# This file shares its name with the standard library's ``platform`` module, and Python puts a
# script's own folder first on sys.path: drop that folder so that ``import platform`` (which
# uuid, hence Django, needs) finds the real module.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import argparse  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

AIM_P95_MS = 150.0
ROOT = Path(__file__).resolve().parents[1]


def configure(data_dir: Path) -> None:
    """Production settings on a fresh data directory, reachable by the in-process client."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "carbet.settings",
            "CARBET_DATA_DIR": str(data_dir),
            "CARBET_ALLOWED_HOSTS": "testserver,127.0.0.1",
            "CARBET_PLAIN_STATIC": "1",
            "CARBET_LOG_LEVEL": "WARNING",
            "CARBET_ALLOW_LOOPBACK_ASSETS": "1",
        }
    )
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def finess_numbers(count: int, prefix: str) -> list[str]:
    """``count`` distinct valid FINESS numbers: a 5-character prefix, a serial, the Luhn key."""
    from carbet.engines.identifiers import luhn_valid

    numbers = []
    for serial in range(count):
        base = f"{prefix}{serial:03d}" if len(prefix) == 5 else f"{prefix}{serial:04d}"
        key = next(d for d in "0123456789" if luhn_valid(base + d))
        numbers.append(base + key)
    return numbers


def load_region(structures: int, assets: int, seed: int = 42) -> None:
    """A region of ``structures`` structures and ``assets`` assets, inserted in bulk."""
    from carbet.core.models import Asset, Contact, Ght, Mandate, Organisation, Structure

    rng = random.Random(seed)
    departements = ["971", "972", "973", "974", "976"]
    categories = [
        ("chu", 1), ("ch", 6), ("clinique", 6), ("ssr", 4), ("psychiatrie", 2), ("had", 2),
        ("ehpad", 45), ("handicap_enfant", 10), ("handicap_adulte", 12), ("ssiad", 12),
    ]  # fmt: skip
    names, weights = zip(*categories, strict=True)
    ghts = Ght.objects.bulk_create(
        Ght(code=f"BENCH-GHT-{i}", name=f"GHT de banc d'essai {i}") for i in range(8)
    )
    org_count = structures * 3 // 5
    organisations = Organisation.objects.bulk_create(
        Organisation(
            finess_ej=number,
            name=f"Organisation {i:04d}",
            legal_status=rng.choice(["public", "private_non_profit", "private"]),
            ght=ghts[i % len(ghts)] if i % 5 == 0 else None,
        )
        for i, number in enumerate(finess_numbers(org_count, "97190"))
    )
    rows = Structure.objects.bulk_create(
        Structure(
            finess_et=number,
            name=f"Structure {i:04d}",
            organisation=organisations[i % org_count],
            category=rng.choices(names, weights)[0],
            beds=rng.randint(0, 600),
            places=rng.randint(0, 120),
            departement=rng.choice(departements),
            city=f"Commune {i % 90}",
            postal_code="97100",
        )
        for i, number in enumerate(finess_numbers(structures, "9729"))
    )
    Contact.objects.bulk_create(
        Contact(structure=s, role=role, name=f"{role} {s.pk}", email=f"{role}@s{s.pk}.test")
        for s in rows
        for role in ("director", "dpo")
    )
    per_structure = assets // len(rows)
    Asset.objects.bulk_create(
        (
            Asset(
                structure=s,
                kind="hostname",
                value=f"h{n}.s{s.pk}.test",
                label=f"Hôte {n}",
                criticality=rng.choice(["low", "medium", "high", "critical"]),
                validated=rng.random() < 0.7,
            )
            for s in rows
            for n in range(per_structure)
        ),
        batch_size=2000,
    )
    today = date.today()
    Mandate.objects.bulk_create(
        Mandate(
            structure=s,
            reference=f"BENCH-{s.finess_et}",
            services=["exposure_scan"],
            signed_by_name="Direction",
            signed_on=today - timedelta(days=100),
            valid_from=today - timedelta(days=100),
            valid_until=today + timedelta(days=rng.choice([10, 200, 300]) - (i % 7 == 0) * 400),
            document="mandates/bench.pdf",
            document_sha256="0" * 64,
        )
        for i, s in enumerate(rows)
        if i % 5
    )


def analyst_client_and_token():
    """A centre analyst's client with a verified second factor, and a personal API token."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from carbet.accounts.models import ApiToken, User

    user = User.objects.create_user(
        username="analyste@bench.test",
        email="analyste@bench.test",
        centre_role="centre_analyst",
        full_name="Analyste du banc d'essai",
    )
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    _token, raw = ApiToken.issue(user, "bench")
    return client, raw


class QueryCounter:
    """Counts the SQL statements run, across reconnections (CONN_MAX_AGE=0 closes per request)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(client, paths, count: int, headers: dict | None = None):
    """Wall and CPU milliseconds of ``count`` GETs cycling over ``paths``; queries of one GET.

    CPU time (this process only) is reported beside wall time because the whole request runs
    in this process, SQLite included: on a busy machine, wall time also counts the time other
    processes held the cores, CPU time does not.
    """
    from django.db import connection

    headers = headers or {}
    for path in paths[:3]:  # warm-up: template compilation, first connection
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(paths[0], headers=headers)
    wall, cpu = [], []
    for index in range(count):
        path = paths[index % len(paths)]
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return wall, cpu, counter.count


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--structures", type=int, default=500)
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="carbet-bench-"))
    try:
        configure(data_dir)
        from django.core.management import call_command

        from carbet.core.models import Structure

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        load_region(args.structures, args.assets)
        client, token = analyst_client_and_token()
        print(
            f"Fixture: {Structure.objects.count()} structures, {args.assets} assets, "
            f"loaded in {time.perf_counter() - started:.1f} s (data dir {data_dir})"
        )
        rng = random.Random(7)
        pks = list(Structure.objects.values_list("pk", flat=True))
        cases = [
            ("Region overview, page 1", ["/registre/"], {}),
            (
                "Region overview, filtered",
                ["/registre/?category=ehpad&departement=972", "/registre/?q=Structure+01"],
                {},
            ),
            (
                "Structure page (random)",
                [f"/registre/structures/{pk}/" for pk in rng.sample(pks, min(len(pks), 50))],
                {},
            ),
            (
                "API assets, page_size=50",
                ["/api/v1/assets?page_size=50"],
                {"Authorization": f"Bearer {token}"},
            ),
        ]
        print(f"\n{args.requests} requests each, in-process Django test client, SQLite")
        header = (
            f"{'page':<27} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
            f"{'cpu p50':>8} {'cpu p95':>8} {'queries':>8}  aim: p95 < {AIM_P95_MS:.0f} ms"
        )
        print(header)
        print("-" * len(header))
        for label, paths, headers in cases:
            wall, cpu, queries = measure(client, paths, args.requests, headers)
            p95, cpu_p95 = percentile(wall, 0.95), percentile(cpu, 0.95)
            verdict = "ok" if p95 < AIM_P95_MS else "missed"
            if p95 >= AIM_P95_MS and cpu_p95 < AIM_P95_MS:
                verdict += " (ok in CPU time: machine busy?)"
            print(
                f"{label:<27} {statistics.median(wall):>7.1f} {p95:>7.1f} {max(wall):>7.1f} "
                f"{statistics.median(cpu):>8.1f} {cpu_p95:>8.1f} {queries:>8}  {verdict}"
            )
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"\nMachine: {os.cpu_count()} cores, load average {load:.1f} at the end, "
            f"Python {sys.version.split()[0]}"
        )
        return 0
    finally:
        if args.keep:
            print(f"Data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
