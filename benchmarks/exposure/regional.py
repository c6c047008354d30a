"""Regional scan benchmark: 200 structures / 1,000 assets through the task backend.

A fresh installation (production settings, its own data directory) is seeded with N structures
of the region, each with 5 validated IPv4 assets on 127.80.x.y and a signed mandate. A separate
process serves those 1,000 "hosts" on loopback: an HTTP site on 8080 everywhere, an SSH banner on
22 for one host in three, an RDP-like listener on 3389 for one in ten. Then ``carbet worker``
processes (2 by default) run a regional scan with the default profile (23 risky and medical
ports, web checks): the fan-out job starts one scan per structure, the workers share them.

Measured: wall time from the request to the last scan finished, and the peak memory of the
workers (RSS summed over the worker processes and their children, sampled every 0.2 s). Aim:
under 3 minutes and 500 MB on 2 cores. Backends: the embedded database queue on SQLite
(``--backend db``, default) or RQ on Redis with PostgreSQL (``--backend rq``).

    .venv/bin/python benchmarks/exposure/regional.py [--quick] [--structures 200]
        [--workers 2] [--backend db|rq]

Not a test: it asserts nothing. Figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ASSETS_PER_STRUCTURE = 5
AIM_SECONDS = 180
AIM_MB = 500
RDP_CONFIRM = bytes.fromhex("030000130ed000001234000200080000000000")
HTTP_BODY = b"<html><body>ok</body></html>"
HTTP_REPLY = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.18.0\r\nContent-Type: text/html\r\nContent-Length: "
    + str(len(HTTP_BODY)).encode()
    + b"\r\nConnection: close\r\n\r\n"
    + HTTP_BODY
)


def host(index: int) -> str:
    return f"127.80.{index // 250}.{index % 250 + 1}"


# --- The loopback "internet" ------------------------------------------------------------------


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.write(HTTP_REPLY)
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        pass
    finally:
        writer.close()


async def _ssh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        writer.write(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.read(256), 3)
    except (OSError, TimeoutError):
        pass
    finally:
        writer.close()


async def _rdp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        data = await asyncio.wait_for(reader.read(256), 5)
        if data[:2] == b"\x03\x00":
            writer.write(RDP_CONFIRM)
            await writer.drain()
        await asyncio.wait_for(reader.read(256), 3)
    except (OSError, TimeoutError):
        pass
    finally:
        writer.close()


async def _serve(count: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    servers = []
    for index in range(count):
        address = host(index)
        servers.append(await asyncio.start_server(_http, address, 8080, backlog=64))
        if index % 3 == 0:
            servers.append(await asyncio.start_server(_ssh, address, 22, backlog=64))
        if index % 10 == 0:
            servers.append(await asyncio.start_server(_rdp, address, 3389, backlog=64))
    print(json.dumps({"listening": len(servers)}), flush=True)
    await asyncio.Event().wait()


def serve(count: int) -> None:
    asyncio.run(_serve(count))


# --- The installation ------------------------------------------------------------------------


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CARBET_", "DJANGO_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="carbet.settings",
        CARBET_DATA_DIR=str(data_dir),
        CARBET_ALLOW_LOOPBACK_ASSETS="1",
        CARBET_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _carbet(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "carbet.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return result


def _script(env: dict[str, str], code: str) -> Any:
    program = "import django, json\ndjango.setup()\n" + code
    result = subprocess.run(
        [sys.executable, "-c", program],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


SEED = """
import datetime as dt
from carbet.core.models import Asset, Mandate, Organisation, Structure
today = dt.date.today()
org = Organisation.objects.create(finess_ej="750712184", name="Bench", legal_status="public")
structures = Structure.objects.bulk_create(
    Structure(finess_et=f"97{i:07d}", name=f"Structure {i:03d}", organisation=org,
              category="ehpad", departement="972")
    for i in range(COUNT)
)
Asset.objects.bulk_create(
    Asset(structure=s, kind="ipv4", value=HOSTS[i * PER + j], validated=True)
    for i, s in enumerate(structures) for j in range(PER)
)
Mandate.objects.bulk_create(
    Mandate(structure=s, services=["exposure_scan"], signed_by_name="Direction", signed_on=today,
            valid_from=today, valid_until=today + dt.timedelta(days=365),
            document="mandates/bench.pdf", document_sha256="0" * 64)
    for s in structures
)
print(json.dumps({"structures": len(structures)}))
"""

LAUNCH = """
from carbet.core.tenancy import SYSTEM
from carbet.exposure.services import request_regional_scan
print(json.dumps({"regional": request_regional_scan(SYSTEM).pk}))
"""

RESULT = """
from django.db.models import Count, Sum
from carbet.exposure.models import Scan, ScanObservation
from carbet.findings.models import Finding
scans = Scan.objects.filter(regional_id=REGIONAL)
print(json.dumps({
    "scans": scans.count(),
    "succeeded": scans.filter(status="succeeded").count(),
    "complete": scans.filter(complete=True).count(),
    "services": scans.aggregate(n=Sum("services_count"))["n"],
    "observations": ScanObservation.objects.count(),
    "rdp": ScanObservation.objects.filter(check_id="port.rdp").count(),
    "findings": Finding.objects.count(),
}))
"""


def _progress(env: dict[str, str], regional: int) -> tuple[int, int]:
    """(scans, finished) read straight from the database."""
    query = (
        "SELECT COUNT(*), SUM(CASE WHEN status IN ('succeeded','failed') THEN 1 ELSE 0 END) "
        f"FROM exposure_scan WHERE regional_id = {int(regional)}"
    )
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
            total, done = connection.execute(query).fetchone()
    else:
        import sqlite3

        connection = sqlite3.connect(Path(env["CARBET_DATA_DIR"]) / "carbet.sqlite3", timeout=30)
        try:
            total, done = connection.execute(query).fetchone()
        finally:
            connection.close()
    return int(total or 0), int(done or 0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(roots: list[int]) -> float:
    tree = _children()
    seen, stack = set(), list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        stack.extend(tree.get(pid, []))
    return sum(_rss_kb(pid) for pid in seen) / 1024


def _postgres_and_redis() -> tuple[str, str, str]:
    import psycopg
    import redis

    name = f"carbet_bench_{secrets.token_hex(4)}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    redis_url = "redis://127.0.0.1:6379/14"
    redis.Redis.from_url(redis_url).flushdb()
    return name, f"postgres://postgres@127.0.0.1:5432/{name}", redis_url


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(structures: int, workers: int, backend: str) -> dict[str, Any]:
    count = structures * ASSETS_PER_STRUCTURE
    tmp = Path(tempfile.mkdtemp(prefix="carbet-regional-"))
    extra: dict[str, str] = {}
    pg_name = None
    if backend == "rq":
        pg_name, database_url, redis_url = _postgres_and_redis()
        extra = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env = _env(tmp / "data", **extra)
    listener = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count)], stdout=subprocess.PIPE, text=True
    )
    processes: list[subprocess.Popen] = []
    try:
        json.loads(listener.stdout.readline())  # type: ignore[union-attr]
        _carbet(env, "migrate", "--verbosity", "0")
        hosts = [host(i) for i in range(count)]
        _script(
            env,
            SEED.replace("COUNT", str(structures))
            .replace("HOSTS", repr(hosts))
            .replace("PER", str(ASSETS_PER_STRUCTURE)),
        )
        logs = [open(tmp / f"worker{i}.log", "wb") for i in range(workers)]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "carbet.cli", "worker", "--interval", "0.2"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for log in logs
        ]
        time.sleep(3)  # workers up (their start is not what we measure)
        base_mb = tree_rss_mb([p.pid for p in processes])
        started = time.monotonic()
        regional = _script(env, LAUNCH)["regional"]
        peak_mb = base_mb
        while True:
            peak_mb = max(peak_mb, tree_rss_mb([p.pid for p in processes]))
            total, done = _progress(env, regional)
            if total and total == done and total >= structures:
                break
            if time.monotonic() - started > 1800:
                raise RuntimeError("regional scan still running after 30 minutes")
            time.sleep(0.2)
        wall = time.monotonic() - started
        outcome = _script(env, RESULT.replace("REGIONAL", str(regional)))
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        listener.terminate()
        listener.wait(timeout=10)
        if pg_name:
            _drop_postgres(pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"wall": wall, "peak_mb": peak_mb, "base_mb": base_mb, **outcome}


def measure(quick: bool = False, structures: int | None = None, workers: int = 2,
            backend: str = "db") -> list[dict[str, Any]]:  # fmt: skip
    structures = structures or (20 if quick else 200)
    result = run(structures, workers, backend)
    label = "database queue on SQLite" if backend == "db" else "RQ on Redis + PostgreSQL"
    expected_rdp = len([i for i in range(structures * ASSETS_PER_STRUCTURE) if i % 10 == 0])
    return [
        {
            "bench": f"regional scan: {structures} structures / "
            f"{structures * ASSETS_PER_STRUCTURE} assets, {workers} workers, {label}",
            "carbet_s": round(result["wall"], 1),
            "anchor": f"aim < {AIM_SECONDS} s and < {AIM_MB} MB",
            "anchor_s": AIM_SECONDS,
            "ratio": round(AIM_SECONDS / result["wall"], 1),
            "agreement": f"{result['succeeded']}/{result['scans']} scans done, "
            f"RDP found {result['rdp']}/{expected_rdp}",
            "notes": f"peak workers RSS {result['peak_mb']:.0f} MB (idle {result['base_mb']:.0f}"
            f" MB); {result['services']} services, {result['observations']} observations, "
            f"{result['findings']} findings",
        }
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(f"{row['bench']}\n  wall {row['carbet_s']} s ({row['anchor']}); {row['agreement']}")
        print(f"  {row['notes']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 structures / 100 assets")
    parser.add_argument("--structures", type=int, help="number of structures (default 200)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", choices=["db", "rq"], default="db")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve)
    else:
        print_table(
            measure(arguments.quick, arguments.structures, arguments.workers, arguments.backend)
        )
