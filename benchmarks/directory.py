"""Directory collection at hospital-group scale: Carbet against raw paging and ldapdomaindump.

Builds once (cached under ``benchmarks/.work/directory-samba``) a Samba AD DC holding the test
seed plus **10,000 users, 2,000 computers and 1,000 nested groups** (a 4-ary tree), loaded
offline into ``sam.ldb`` by the seeding script (far faster than one ``samba-tool`` per object),
then, against the same running DC over loopback LDAPS, as the same non-admin account:

1. **floor**: raw ldap3 paged searches of exactly the attributes Carbet requests (users,
   computers, groups, the small containers), values left undecoded;
2. **carbet**: ``collector.collect`` (SYSVOL scan off: it is not LDAP) then ``analysis.analyse``;
3. **ldapdomaindump** (installed in ``.bench-venv/ldapdomaindump-venv``), dumping the domain
   the way it always does (JSON, HTML and grep files).

Each run is a separate process, so its peak memory (``ru_maxrss``) is its own; each mode runs
``--rounds`` times and the median is kept. CPU time (user + system of the client process) is
printed beside the wall time because the machine may be busy with other work; the server's
time is in the wall time only. Aims: Carbet within 1.5× the floor, at least 2× faster than
ldapdomaindump, under 300 MB.

    .venv/bin/python benchmarks/directory.py [--rounds 3] [--rebuild]

Not a test: it asserts nothing. See benchmarks/README.md ("Directory") for recorded figures.
"""

from __future__ import annotations

import os
import sys

# benchmarks/platform.py would shadow the standard library's ``platform``: drop this folder.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "benchmarks" / ".work" / "directory-samba"
DUMP_VENV = ROOT / ".bench-venv" / "ldapdomaindump-venv"
BULK = 1000  # × (10 users, 2 computers, 1 group)
AIM_FLOOR_RATIO, AIM_ANCHOR_SPEEDUP, AIM_MEMORY_MB = 1.5, 2.0, 300

CHILD_PRELUDE = """
import json, resource, sys, time
def finish(started, cpu_started, **extra):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall": time.perf_counter() - started,
                      "cpu": usage.ru_utime + usage.ru_stime - cpu_started,
                      "peak_mb": usage.ru_maxrss / 1024, **extra}))
def cpu_now():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
"""

FLOOR = (
    CHILD_PRELUDE
    + """
import ldap3, ssl
from carbet.engines.directory import collector as c
host, user, password, base = sys.argv[1:5]
cpu0 = cpu_now(); t0 = time.perf_counter()
server = ldap3.Server(host, port=636, use_ssl=True, get_info=ldap3.NONE,
                      tls=ldap3.Tls(validate=ssl.CERT_NONE))
conn = ldap3.Connection(server, user, password, auto_bind=True, read_only=True)
searches = [
    (base, c.USER_FILTER, c.ACCOUNT_ATTRIBUTES),
    (base, c.COMPUTER_FILTER, c.COMPUTER_ATTRIBUTES),
    (base, "(objectClass=group)", c.GROUP_ATTRIBUTES),
    ("CN=System," + base, "(objectClass=trustedDomain)", c.TRUST_ATTRIBUTES),
    ("CN=Policies,CN=System," + base, "(objectClass=groupPolicyContainer)", c.GPO_ATTRIBUTES),
]
entries = 0
for where, flt, attrs in searches:
    cookie = None
    while True:
        conn.search(where, flt, attributes=list(attrs), paged_size=1000, paged_cookie=cookie)
        entries += sum(1 for e in conn.response if e["type"] == "searchResEntry")
        cookie = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
        if not cookie:
            break
finish(t0, cpu0, entries=entries)
"""
)

CARBET = (
    CHILD_PRELUDE
    + """
from carbet.engines.directory import analysis, collector
from carbet.engines.netpolicy import ConnectPolicy
host, user, password, base = sys.argv[1:5]
cpu0 = cpu_now(); t0 = time.perf_counter()
snap = collector.collect(host, 636, user, password, insecure=True, sysvol=False,
                         policy=ConnectPolicy.open())
collected = time.perf_counter() - t0
result = analysis.analyse(snap)
finish(t0, cpu0, collect=collected, entries=len(snap.users) + len(snap.computers)
       + len(snap.groups), findings=len(result.findings))
"""
)

DUMP = (
    CHILD_PRELUDE
    + """
import ldapdomaindump
host, user, password, out = sys.argv[1:5]
cpu0 = cpu_now(); t0 = time.perf_counter()
sys.argv = ["ldapdomaindump", "-u", user, "-p", password, "-at", "SIMPLE", "-o", out,
            "ldaps://" + host]
try:
    ldapdomaindump.main()
except SystemExit as exc:
    if exc.code:
        raise
import os
finish(t0, cpu0, entries=sum(len(json.load(open(os.path.join(out, name))))
                             for name in ("domain_users.json", "domain_computers.json",
                                          "domain_groups.json")))
"""
)


def ensure_dump_venv() -> Path:
    python = DUMP_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DUMP_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "ldapdomaindump"], check=True)
    return python


def run_child(python: str, program: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [python, "-c", program, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        check=False,
        timeout=1800,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached directory")
    options = parser.parse_args()
    from tests.directory.samba import READER, WORKGROUP, samba_available, start_samba

    if not samba_available():
        sys.exit("Samba AD DC is not installed (apt-get install samba samba-ad-dc)")
    if options.rebuild:
        shutil.rmtree(WORK, ignore_errors=True)
    dump_python = str(ensure_dump_venv())
    built = (WORK / "seeded.json").exists()
    started = time.perf_counter()
    with start_samba(WORK, bulk=BULK, reuse=True) as dc:
        print(
            f"directory {'reused' if built else 'built'} in {time.perf_counter() - started:.0f} s"
            f" ({dc.host}, LDAPS)",
            flush=True,
        )
        args = (dc.host, dc.reader_user, dc.reader_password, dc.base_dn)
        results: dict[str, list[dict]] = {"floor": [], "carbet": [], "ldapdomaindump": []}
        for round_number in range(options.rounds):
            results["floor"].append(run_child(sys.executable, FLOOR, *args))
            results["carbet"].append(run_child(sys.executable, CARBET, *args))
            with tempfile.TemporaryDirectory() as out:
                # ldapdomaindump wants DOMAIN\\user, even for a simple bind.
                dump_user = f"{WORKGROUP}\\{READER}"
                results["ldapdomaindump"].append(
                    run_child(dump_python, DUMP, dc.host, dump_user, dc.reader_password, out)
                )
            print(f"round {round_number + 1}/{options.rounds} done", flush=True)
    report(results)


def report(results: dict[str, list[dict]]) -> None:
    floor = median(results["floor"], "wall")
    carbet = median(results["carbet"], "wall")
    dump = median(results["ldapdomaindump"], "wall")
    print()
    print("| run | wall s (median) | × floor | CPU s | peak MB | objects |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        wall = median(runs, "wall")
        objects = int(median(runs, "entries")) if "entries" in runs[0] else "—"
        print(
            f"| {name} | {wall:.2f} | {wall / floor:.2f} | {median(runs, 'cpu'):.2f} | "
            f"{max(r['peak_mb'] for r in runs):.0f} | {objects} |"
        )
    collect = median(results["carbet"], "collect")
    print()
    print(
        f"carbet collect alone: {collect:.2f} s ({collect / floor:.2f}× floor), analyse: "
        f"{carbet - collect:.2f} s, findings: {results['carbet'][0]['findings']}"
    )
    peak = max(r["peak_mb"] for r in results["carbet"])
    print(
        f"aims: carbet/floor {carbet / floor:.2f} (≤ {AIM_FLOOR_RATIO}), "
        f"ldapdomaindump/carbet {dump / carbet:.2f} (≥ {AIM_ANCHOR_SPEEDUP}), "
        f"carbet peak {peak:.0f} MB (< {AIM_MEMORY_MB})"
    )


if __name__ == "__main__":
    main()
