"""Port discovery: Carbet's TCP connect scan vs ``nmap -sT -T4 -n -Pn`` on the same endpoints.

A listener process opens a deterministic mix of ports on 50 loopback addresses (127.45.0.x;
10 with ``--quick``) × 12 ports; Carbet's discovery (``services.discover``, the same code a
real scan runs, under its default concurrency limits) and nmap then probe every address × port
in one run each. Both must find exactly the same open set; the table gives both times and
the ratio (nmap time / Carbet time: above 1, Carbet is faster). A second row does the same with
fingerprinting: Carbet's full service identification vs ``nmap -sT -sV --version-light``.

A third row is the internet's common case: 16 addresses (127.46.0.x; 4 with ``--quick``) ×
the 23 default ports, each address with 3 *silent* ports (firewalled: a listener whose accept
queue is full, so the kernel drops every SYN and the connect gets no answer at all — this
kernel has no ``netem``), 1 or 2 *slow responders* (open, the banner comes 1.5 s late) and a
few ordinary open ports, the rest closed. Carbet's discovery must find the same open set as
nmap (slow responders included, silent ports left out) and report the silent ones filtered.

    .venv/bin/python benchmarks/exposure/ports.py [--quick]

``measure(quick)`` returns the rows for ``benchmarks/exposure/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from carbet.engines.exposure.core import (  # noqa: E402
    DEFAULT_PORTS,
    ScanConfig,
    ScanContext,
    TargetResult,
)
from carbet.engines.exposure.ports.discovery import discover_states  # noqa: E402
from carbet.engines.exposure.ports.probe import discover, scan_address  # noqa: E402

PORTS = (2121, 2222, 2323, 2575, 3306, 3389, 4450, 5432, 5900, 6379, 8080, 9200)
BANNERS = {
    2121: b"220 (vsFTPd 3.0.3)\r\n",
    2222: b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    2323: b"\xff\xfd\x01\xff\xfb\x03login: ",
    3306: b"\x1d\x00\x00\x00\x0a8.0.36\x00" + bytes(25),
    5900: b"RFB 003.008\n",
}


def layout(addresses: int) -> dict[str, list[int]]:
    """A reproducible mix: each address has 2 to 6 of the ports open."""
    chooser = random.Random(20250101)
    return {
        f"127.45.0.{index}": sorted(chooser.sample(PORTS, chooser.randint(2, 6)))
        for index in range(1, addresses + 1)
    }


def firewalled_layout(addresses: int) -> dict[str, dict[str, list[int]]]:
    """Per address: 3 silent ports, 1–2 slow responders, 2–6 ordinary open ports."""
    chooser = random.Random(20261206)
    plan = {}
    for index in range(1, addresses + 1):
        ports = list(DEFAULT_PORTS)
        chooser.shuffle(ports)
        slow = chooser.randint(1, 2)
        opened = chooser.randint(2, 6)
        plan[f"127.46.0.{index}"] = {
            "silent": sorted(ports[:3]),
            "slow": sorted(ports[3 : 3 + slow]),
            "open": sorted(ports[3 + slow : 3 + slow + opened]),
        }
    return plan


def _serve_firewalled(plan: dict[str, dict[str, list[int]]], ready: Any) -> None:
    """Ordinary and slow listeners (asyncio), silent ones (a full accept queue)."""
    import socket

    async def ordinary(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _greet(reader, writer, 0.0)

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _greet(reader, writer, 1.5)

    async def _greet(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        try:
            await asyncio.sleep(delay)
            writer.write(b"220 lab ready\r\n")
            await writer.drain()
            await asyncio.wait_for(reader.read(4096), 5)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    def silent(host: str, port: int) -> list[socket.socket]:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(0)
        fillers = []
        for _ in range(3):  # more than the queue holds: it stays full, later SYNs are dropped
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((host, port))
            fillers.append(filler)
        return [listener, *fillers]

    async def main() -> None:
        keep: list[Any] = []
        for host, kinds in plan.items():
            for port in kinds["open"]:
                keep.append(await asyncio.start_server(ordinary, host, port, reuse_address=True))
            for port in kinds["slow"]:
                keep.append(await asyncio.start_server(slow, host, port, reuse_address=True))
            for port in kinds["silent"]:
                keep += silent(host, port)
        await asyncio.sleep(0.5)  # the fillers' handshakes complete, the queues are full
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _serve(plan: dict[str, list[int]], ready: Any) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            if port in BANNERS:
                writer.write(BANNERS[port])
                await writer.drain()
            await asyncio.wait_for(reader.read(4096), 5)
            if port in (8080, 9200):
                writer.write(
                    b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Length: 0\r\n\r\n"
                )
                await writer.drain()
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [
            await asyncio.start_server(handler, host, port, reuse_address=True, backlog=512)
            for host, ports in plan.items()
            for port in ports
        ]
        ready.set()
        await asyncio.Event().wait()
        del servers

    asyncio.run(main())


class Listeners:
    """The endpoints, in their own process (neither scanner shares its CPU time with them)."""

    def __init__(self, plan: dict[str, Any], serve: Any = None) -> None:
        context = multiprocessing.get_context("fork")
        self.ready = context.Event()
        self.process = context.Process(target=serve or _serve, args=(plan, self.ready), daemon=True)

    def __enter__(self) -> Listeners:
        self.process.start()
        if not self.ready.wait(60):
            raise RuntimeError("the listeners did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)


def carbet_discovery(plan: dict[str, list[int]]) -> tuple[float, set[tuple[str, int]]]:
    async def run() -> list[list[int]]:
        ctx = ScanContext(ScanConfig(ports=PORTS))
        return await asyncio.gather(*(discover(ctx, host, host, PORTS) for host in plan))

    started = time.perf_counter()
    found = asyncio.run(run())
    elapsed = time.perf_counter() - started
    return elapsed, {
        (host, port) for host, ports in zip(plan, found, strict=True) for port in ports
    }


def carbet_firewalled(
    plan: dict[str, dict[str, list[int]]],
) -> tuple[float, set[tuple[str, int]], set[tuple[str, int]]]:
    """Discovery of the default ports on the firewalled lab: (time, open set, filtered set)."""

    async def run() -> list[Any]:
        ctx = ScanContext(ScanConfig())
        return await asyncio.gather(
            *(discover_states(ctx, host, host, DEFAULT_PORTS) for host in plan)
        )

    started = time.perf_counter()
    found = asyncio.run(run())
    elapsed = time.perf_counter() - started
    opened: set[tuple[str, int]] = set()
    filtered: set[tuple[str, int]] = set()
    for host, outcome in zip(plan, found, strict=True):
        opened |= {(host, port) for port in outcome.open}
        filtered |= {(host, port) for port in outcome.filtered}
    return elapsed, opened, filtered


def carbet_fingerprint(plan: dict[str, list[int]]) -> tuple[float, set[tuple[str, int]], int]:
    async def run() -> list[TargetResult]:
        config = ScanConfig(ports=PORTS, port_hints=((4450, "smb"),), read_timeout=2.0)
        ctx = ScanContext(config)
        results = [TargetResult(host, kind="ip", addresses=[host]) for host in plan]
        await asyncio.gather(*(scan_address(ctx, result, result.target) for result in results))
        return results

    started = time.perf_counter()
    results = asyncio.run(run())
    elapsed = time.perf_counter() - started
    found = {(result.target, service.port) for result in results for service in result.services}
    named = sum(service.service != "unknown" for result in results for service in result.services)
    return elapsed, found, named


def nmap(
    plan: dict[str, Any], version: bool = False, ports: tuple[int, ...] = PORTS
) -> tuple[float, set[tuple[str, int]]]:
    command = ["nmap", "-sT", "-T4", "-n", "-Pn", "-p", ",".join(map(str, ports)), "-oX", "-"]
    if version:
        command[2:2] = ["-sV", "--version-light"]
    started = time.perf_counter()
    output = subprocess.run(
        [*command, *plan], capture_output=True, text=True, check=True, timeout=1800
    ).stdout
    elapsed = time.perf_counter() - started
    found = set()
    for host in ET.fromstring(output).iter("host"):
        address = host.find("address").get("addr")  # type: ignore[union-attr]
        for port in host.iter("port"):
            state = port.find("state")
            if state is not None and state.get("state") == "open":
                found.add((address, int(port.get("portid", "0"))))
    return elapsed, found


def _row(bench: str, carbet_s: float, anchor: str, anchor_s: float, agree: bool, notes: str):
    return {
        "bench": bench,
        "carbet_s": round(carbet_s, 3),
        "anchor": anchor,
        "anchor_s": round(anchor_s, 3),
        "ratio": round(anchor_s / carbet_s, 1) if carbet_s else None,
        "agreement": "same open set" if agree else "DIFFERENT",
        "notes": notes,
    }


def measure(quick: bool = False) -> list[dict[str, Any]]:
    if shutil.which("nmap") is None:
        return [
            {
                "bench": "ports",
                "carbet_s": None,
                "anchor": "nmap",
                "anchor_s": None,
                "ratio": None,
                "agreement": "n/a",
                "notes": "nmap is not installed",
            }
        ]
    plan = layout(10 if quick else 50)
    expected = {(host, port) for host, ports in plan.items() for port in ports}
    endpoints = len(plan) * len(PORTS)
    rows = []
    repeats = 2 if quick else 5
    with Listeners(plan):
        # Alternate the two, several times, and keep each one's best time: on a shared
        # machine the other processes' load would otherwise decide the ratio.
        carbet_times, nmap_times = [], []
        agree = True
        for _ in range(repeats):
            carbet_s, carbet_found = carbet_discovery(plan)
            nmap_s, nmap_found = nmap(plan)
            carbet_times.append(carbet_s)
            nmap_times.append(nmap_s)
            agree = agree and carbet_found == nmap_found == expected
        rows.append(
            _row(
                "ports: TCP connect discovery",
                min(carbet_times),
                "nmap -sT -T4 -n -Pn",
                min(nmap_times),
                agree,
                f"{endpoints} endpoints, {len(expected)} open; Carbet {len(carbet_found)}, "
                f"nmap {len(nmap_found)}; best of {repeats} (medians "
                f"{median(carbet_times):.3f} / {median(nmap_times):.3f} s)",
            )
        )
        sample = dict(list(plan.items())[: 5 if quick else 20])
        sample_open = {(host, port) for host, ports in sample.items() for port in ports}
        carbet_s, carbet_found, named = carbet_fingerprint(sample)
        nmap_s, nmap_found = nmap(sample, version=True)
        rows.append(
            _row(
                "ports: discovery + fingerprinting",
                carbet_s,
                "nmap -sT -sV --version-light",
                nmap_s,
                carbet_found == nmap_found == sample_open,
                f"{len(sample) * len(PORTS)} endpoints, {len(sample_open)} open, "
                f"{named} identified by Carbet",
            )
        )
    rows.append(measure_firewalled(quick))
    return rows


def measure_firewalled(quick: bool = False) -> dict[str, Any]:
    """Discovery with silent (firewalled) ports and slow responders, vs nmap."""
    plan = firewalled_layout(4 if quick else 16)
    expected = {
        (host, port) for host, kinds in plan.items() for port in kinds["open"] + kinds["slow"]
    }
    silent = {(host, port) for host, kinds in plan.items() for port in kinds["silent"]}
    repeats = 2 if quick else 3
    carbet_times, nmap_times = [], []
    agree = True
    filtered_ok = True
    with Listeners(plan, _serve_firewalled):
        for _ in range(repeats):
            carbet_s, carbet_found, filtered = carbet_firewalled(plan)
            nmap_s, nmap_found = nmap(plan, ports=DEFAULT_PORTS)
            carbet_times.append(carbet_s)
            nmap_times.append(nmap_s)
            agree = agree and carbet_found == nmap_found == expected
            filtered_ok = filtered_ok and filtered == silent
    return _row(
        "ports: discovery, firewalled ports",
        min(carbet_times),
        "nmap -sT -T4 -n -Pn",
        min(nmap_times),
        agree,
        f"{len(plan)} addresses × {len(DEFAULT_PORTS)} ports, {len(expected)} open (slow "
        f"responders included), {len(silent)} silent; silent ports reported filtered: "
        f"{'yes' if filtered_ok else 'no'}; best of {repeats} (medians "
        f"{median(carbet_times):.3f} / {median(nmap_times):.3f} s)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 addresses instead of 50")
    parser.add_argument("--firewalled", action="store_true", help="only the firewalled-ports row")
    args = parser.parse_args()
    rows = [measure_firewalled(args.quick)] if args.firewalled else measure(args.quick)
    columns = ("bench", "carbet_s", "anchor", "anchor_s", "ratio", "agreement", "notes")
    widths = [max(len(c), *(len(str(r.get(c))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row.get(c)).ljust(w) for c, w in zip(columns, widths, strict=True)))


if __name__ == "__main__":
    main()
