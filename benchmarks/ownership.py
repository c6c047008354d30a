"""The mandate gate's cost: the connect-time policy and its construction at regional scale.

Every address the exposure engine is about to contact is checked against the scan's policy
(``carbet.engines.netpolicy``): public only, never the centre's ranges, never another
structure's declared address. A region declares thousands of addresses and networks, so the
check must cost nothing next to a TCP connect. This benchmark measures, side by side in one run:

* **Carbet's check** (single addresses in a hash set, networks scanned, IPv6 transition forms
  unwrapped) on a region of N declared addresses and networks;
* **the naive floor a reviewer would write**: ``any(address in network for network in
  declared)`` with the standard library's ``ipaddress``;
* the time to **build the policy from the registry** for one structure (``connect_policy``), as
  every scan chunk does, on SQLite with the region loaded.

Run: ``.venv/bin/python benchmarks/ownership.py [--structures 300] [--assets 10]``. Only
loopback-free, private-free pure computation and an in-process SQLite database: no network.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The script's folder holds platform.py: it must not shadow the standard library module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)


def _region(structures: int, assets: int, rng: random.Random) -> list[str]:
    """Declared public addresses (90 %) and /28–/24 networks (10 %) of a whole region."""
    declared = []
    for _ in range(structures * assets):
        base = ipaddress.IPv4Address(rng.randint(int(ipaddress.IPv4Address("11.0.0.0")),
                                                 int(ipaddress.IPv4Address("99.255.255.255"))))
        if rng.random() < 0.9:
            declared.append(str(base))
        else:
            declared.append(str(ipaddress.ip_network(f"{base}/{rng.choice([24, 26, 28])}",
                                                     strict=False)))
    return declared


def _time(fn, probes: list[str]) -> float:
    started = time.perf_counter()
    for address in probes:
        fn(address)
    return time.perf_counter() - started


def bench_checks(structures: int, assets: int, probes_count: int) -> None:
    from carbet.engines import netpolicy

    rng = random.Random(7)
    declared = _region(structures, assets, rng)
    policy = netpolicy.ConnectPolicy(foreign_networks=netpolicy.parse_networks(declared))
    networks = [ipaddress.ip_network(value, strict=False) for value in declared]
    probes = [str(ipaddress.IPv4Address(rng.randint(0x0B000000, 0x63FFFFFF)))
              for _ in range(probes_count)]
    probes[: probes_count // 10] = [d.split("/")[0] for d in declared[: probes_count // 10]]

    def naive(address: str) -> bool:
        parsed = ipaddress.ip_address(address)
        return any(parsed in network for network in networks)

    policy.address_refusal(probes[0])  # build the cached sets
    carbet_runs = [_time(policy.address_refusal, probes) for _ in range(3)]
    naive_probes = probes[: max(1, probes_count // 20)]
    naive_runs = [_time(naive, naive_probes) for _ in range(3)]
    carbet_us = min(carbet_runs) / len(probes) * 1e6
    naive_us = min(naive_runs) / len(naive_probes) * 1e6
    agree = all(
        (policy.address_refusal(a) == "other_structure") == naive(a) for a in naive_probes
    )
    print(f"\nRegion: {len(declared):,} declared addresses and networks "
          f"({structures} structures × {assets})")
    print(f"{'check':<42}{'µs per address':>16}{'ratio':>10}")
    print(f"{'Carbet ConnectPolicy.address_refusal':<42}{carbet_us:>16.2f}{1:>10.1f}")
    print(f"{'naive any(address in network)':<42}{naive_us:>16.2f}{naive_us / carbet_us:>10.1f}")
    print(f"same verdicts on {len(naive_probes):,} probes: {'yes' if agree else 'NO'}")


def bench_build(structures: int, assets: int) -> None:
    data = tempfile.mkdtemp(prefix="carbet-bench-ownership-")
    os.environ.update(
        CARBET_DATA_DIR=data, DJANGO_SETTINGS_MODULE="carbet.settings",
        CARBET_ALLOW_LOOPBACK_ASSETS="0",
    )  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from carbet.core import ownership
    from carbet.core.models import Asset, Organisation, Structure

    rng = random.Random(11)
    org = Organisation.objects.create(finess_ej="750712184", name="Bench", legal_status="public")
    rows = [
        Structure(finess_et=f"97{i:06d}"[:8] + "0", name=f"S{i}", organisation=org,
                  category="ehpad", departement="972")
        for i in range(structures)
    ]  # fmt: skip
    for index, row in enumerate(rows):  # FINESS need not be valid for a bulk insert
        row.finess_et = f"{970000000 + index}"
    Structure.objects.bulk_create(rows)
    saved = list(Structure.objects.all())
    declared = _region(structures, assets, rng)
    Asset.objects.bulk_create(
        Asset(structure=saved[i % len(saved)], kind="cidr" if "/" in value else "ipv4",
              value=value)
        for i, value in enumerate(declared)
    )  # fmt: skip
    timings = []
    for structure in saved[:20]:
        started = time.perf_counter()
        ownership.connect_policy(structure)
        timings.append(time.perf_counter() - started)
    print(f"\nconnect_policy(structure) from the registry ({len(declared):,} assets, SQLite): "
          f"p50 {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=300)
    parser.add_argument("--assets", type=int, default=10)
    parser.add_argument("--probes", type=int, default=200_000)
    args = parser.parse_args()
    bench_checks(args.structures, args.assets, args.probes)
    bench_build(args.structures, args.assets)


if __name__ == "__main__":
    main()
