"""Mail/DNS benchmark: Carbet's mail/DNS probe vs checkdmarc on the same local domains.

One run: ≥ 1,000 domains (each its own zone) with a mix of SPF and DMARC set-ups, good and
broken, served by the loopback authoritative server of the tests (in its own process, so it
does not share Carbet's interpreter). Carbet scans them all (``scan_domain``: MX, SPF, DMARC,
DKIM, MTA-STS, TLS-RPT, STARTTLS on the MX, DNSSEC, CAA, dangling CNAMEs); checkdmarc
(installed into ``.bench-venv``) checks the same domains through the same nameserver (its
``check_domains`` with ``nameservers=``; SPF, DMARC, MX, NS, SOA, DNSSEC, MTA-STS, TLS-RPT,
BIMI; no MX TLS test, its default). We compare the SPF and DMARC verdicts domain by domain
and the wall times (each tool's own work, interpreter start-up excluded).

    .venv/bin/python benchmarks/exposure/maildns.py [--quick] [--domains N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult  # noqa: E402
from carbet.engines.exposure.mail.probe import scan_domain  # noqa: E402

BENCH_VENV = ROOT / ".bench-venv"
DNS_HOST = "127.54.0.1"
RELAY_HOST = "127.54.0.2"
DEAD_MX = "127.54.1.1"  # nothing listens: the MX probes end at once (connection refused)
SOA = (
    "@ 300 IN SOA ns.region.test. hostmaster.region.test. 1 3600 600 86400 300\n"
    "@ NS ns.region.test.\n"
)

SPF_VARIANTS = [
    ['"v=spf1 mx -all"'],
    ['"v=spf1 include:_spf.provider.test ~all"'],
    ['"v=spf1 +all"'],
    ['"v=spf1 ?all"'],
    [],
    ['"v=spf1 include:_big.provider.test -all"'],
    ['"v=spf1 ip4:300.1.1.1 -all"'],
    ['"v=spf1 -all"', '"v=spf1 mx -all"'],
    ['"v=spf1 ip4:192.0.2.0/24 a -all"'],
    ['"v=spf1 mx a include:_spf.provider.test -all"'],
]
DMARC_VARIANTS = [
    '"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"',
    '"v=DMARC1; p=quarantine"',
    '"v=DMARC1; p=none; rua=mailto:dmarc@{domain}"',
    None,
    '"v=DMARC1; p=block"',
    '"v=DMARC1; p=reject; sp=none"',
]


def domain_name(index: int) -> str:
    return f"hosp{index:05d}.region.test"


def zone_texts(count: int) -> dict[str, str]:
    zones = {
        "test.": SOA.replace("region.test", "test"),  # checkdmarc asks _dmarc.test
        "region.test.": SOA + f"ns A {DNS_HOST}\n",
        "provider.test.": SOA
        + '_spf TXT "v=spf1 ip4:198.51.100.0/24 include:_spf2.provider.test -all"\n'
        + '_spf2 TXT "v=spf1 ip4:203.0.113.0/24 -all"\n'
        + '_big TXT "v=spf1 '
        + " ".join(f"include:b{n}.provider.test" for n in range(1, 7))
        + ' -all"\n'
        + "".join(
            f'b{n} TXT "v=spf1 a mx -all"\nb{n} A 192.0.2.{n}\nb{n} MX 10 b{n}.provider.test.\n'
            for n in range(1, 7)
        ),
    }
    for index in range(count):
        domain = domain_name(index)
        lines = [SOA, "@ MX 10 mx\n", f"mx A {DEAD_MX}\n", f"@ A {DEAD_MX}\n"]
        lines += [f"@ TXT {spf}\n" for spf in SPF_VARIANTS[index % len(SPF_VARIANTS)]]
        dmarc = DMARC_VARIANTS[(index * 7 // 10) % len(DMARC_VARIANTS)]
        if dmarc:
            lines.append(f"_dmarc TXT {dmarc.format(domain=domain)}\n")
        if index % 3 == 0:
            lines.append('@ CAA 0 issue "letsencrypt.org"\n')
        zones[domain + "."] = "".join(lines)
    return zones


class NsdServer:
    """NSD (Debian's ``nsd``), the authoritative server of many registries: fast enough that
    the server is not what we measure. Zone files and config in a temporary directory."""

    def __init__(self, zones: dict[str, str]) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="carbet-nsd-")
        base = Path(self.directory.name)
        self.port = _free_udp_tcp_port(DNS_HOST)
        config = [
            "server:",
            f"  ip-address: {DNS_HOST}@{self.port}",
            "  do-ip6: no",
            '  username: ""',
            '  chroot: ""',
            f"  zonesdir: {base}",
            f"  pidfile: {base}/nsd.pid",
            f"  zonelistfile: {base}/zone.list",
            f"  xfrdfile: {base}/xfrd.state",
            f"  xfrdir: {base}",
            '  database: ""',
            f"  logfile: {base}/nsd.log",
            "  server-count: 1",
            "  verbosity: 0",
            "  rrl-ratelimit: 0",
            "  rrl-whitelist-ratelimit: 0",  # no rate limiting
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, text in zones.items():
            name = origin.rstrip(".") or "root"
            (base / f"{name}.zone").write_text(f"$ORIGIN {origin}\n$TTL 300\n{text}")
            config += ["zone:", f"  name: {origin}", f"  zonefile: {name}.zone"]
        (base / "nsd.conf").write_text("\n".join(config) + "\n")
        self.process = subprocess.Popen(
            ["nsd", "-d", "-c", str(base / "nsd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import dns.message
        import dns.query

        query = dns.message.make_query("region.test", "SOA")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                dns.query.udp(query, DNS_HOST, port=self.port, timeout=0.5)
                return
            except Exception:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError("nsd did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.directory.cleanup()


def _free_udp_tcp_port(host: str) -> int:
    import socket

    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
            return port
    raise OSError("no free port")


class _Relay:
    """UDP relay that holds every answer for ``delay`` seconds: the round trip to a real
    recursive resolver (a few ms from cache, tens of ms on a cache miss), which loopback
    does not have. Answers are matched back to their asker by message id."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream = upstream
        self.delay = delay
        self.pending: dict[int, tuple] = {}

    async def run(self, host: str, ready, port_box) -> None:
        loop = asyncio.get_running_loop()
        relay = self

        class Front(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                if len(data) >= 12:
                    relay.pending[int.from_bytes(data[:2], "big")] = addr
                    relay.back.transport.sendto(data)

        class Back(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                client = relay.pending.pop(int.from_bytes(data[:2], "big"), None)
                if client is not None:
                    loop.call_later(relay.delay, relay.front.transport.sendto, data, client)

        _, self.front = await loop.create_datagram_endpoint(Front, local_addr=(host, 0))
        _, self.back = await loop.create_datagram_endpoint(Back, remote_addr=self.upstream)
        port_box.value = self.front.transport.get_extra_info("sockname")[1]
        ready.set()
        await asyncio.Event().wait()


def _run_relay(upstream, delay, host, ready, port_box) -> None:
    asyncio.run(_Relay(upstream, delay).run(host, ready, port_box))


class LatencyRelay:
    def __init__(self, upstream_port: int, delay: float) -> None:
        context = multiprocessing.get_context("fork")
        ready, port_box = context.Event(), context.Value("i", 0)
        self.process = context.Process(
            target=_run_relay,
            args=((DNS_HOST, upstream_port), delay, RELAY_HOST, ready, port_box),
            daemon=True,
        )
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError("the latency relay did not start")
        self.port = port_box.value

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)


class PythonServer:
    """The tests' authoritative server, in its own process (when nsd is not installed)."""

    def __init__(self, zones: dict[str, str]) -> None:
        context = multiprocessing.get_context("fork")
        ready, port_box = context.Event(), context.Value("i", 0)
        self.process = context.Process(target=_serve, args=(zones, ready, port_box), daemon=True)
        self.process.start()
        if not ready.wait(120):
            raise RuntimeError("the DNS server did not start")
        self.port = port_box.value

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)


def _serve(zones: dict[str, str], ready, port_box) -> None:
    from tests.exposure.engine_maildns.authdns import AuthoritativeServer, zone_from_text

    server = AuthoritativeServer(
        [zone_from_text(origin, text) for origin, text in zones.items()], host=DNS_HOST
    ).start()
    port_box.value = server.port
    ready.set()
    while True:
        time.sleep(3600)


# ------------------------------------------------------------------------------ verdicts


def carbet_verdicts(result: TargetResult) -> tuple[str, str]:
    evidence = result.evidence["dns"]
    spf = evidence["spf"]
    if not spf["records"]:
        spf_verdict = "missing"
    elif spf["errors"] or spf["lookups"] > 10 or spf["void_lookups"] > 2:
        spf_verdict = "invalid"
    else:
        spf_verdict = {"-": "fail", "~": "softfail", "?": "neutral", "+": "pass", "": "neutral"}[
            spf["all"]
        ]
    dmarc = evidence["dmarc"]
    if not dmarc.get("records"):
        dmarc_verdict = "missing"
    elif dmarc.get("errors") or len(dmarc["records"]) > 1:
        dmarc_verdict = "invalid"
    else:
        dmarc_verdict = dmarc["policy"]
    return spf_verdict, dmarc_verdict


CHECKDMARC_SCRIPT = r"""
import json, sys, time, logging
logging.disable(logging.CRITICAL)
import warnings; warnings.simplefilter("ignore")
from dns.nameserver import Do53Nameserver
import checkdmarc

host, port, domains_file, out_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
domains = open(domains_file).read().split()
ns = [Do53Nameserver(host, port)]
started = time.perf_counter()
cpu_started = time.process_time()
results = checkdmarc.check_domains(domains, nameservers=ns, timeout=3.0, retries=1,
                                   bimi_selector=None)
elapsed = time.perf_counter() - started
cpu = time.process_time() - cpu_started
if isinstance(results, dict):
    results = [results]

def spf_verdict(spf):
    if spf.get("valid"):
        parsed = spf.get("parsed") or {}
        return parsed.get("all", "neutral")
    error = str(spf.get("error", ""))
    lowered = error.lower()
    if "not exist" in lowered or "no spf" in lowered or "does not have" in lowered:
        return "missing"
    return "invalid"

def dmarc_verdict(dmarc):
    if dmarc.get("valid"):
        tags = dmarc.get("tags") or {}
        return str((tags.get("p") or {}).get("value", ""))
    error = str(dmarc.get("error", ""))
    lowered = error.lower()
    if "does not exist" in lowered or "not found" in lowered:
        return "missing"
    return "invalid"

verdicts = {}
for r in results:
    spf_error = str(r["spf"].get("error", ""))[:120]
    dmarc_error = str(r["dmarc"].get("error", ""))[:120]
    verdicts[r["domain"]] = [spf_verdict(r["spf"]), dmarc_verdict(r["dmarc"]), spf_error,
                             dmarc_error]
json.dump({"elapsed": elapsed, "cpu": cpu, "verdicts": verdicts}, open(out_file, "w"))
"""


def ensure_checkdmarc() -> Path | None:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import checkdmarc"], capture_output=True)
    if probe.returncode != 0:
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "checkdmarc"], capture_output=True
        )
        if install.returncode != 0:
            return None
    return python


def run_carbet(nameserver: str, domains: list[str]) -> tuple[float, dict[str, TargetResult]]:
    config = ScanConfig(
        nameserver=nameserver, dns_timeout=3.0, connect_timeout=2.0, smtp_port=25, mta_sts_port=443
    )

    async def run() -> dict[str, TargetResult]:
        ctx = ScanContext(config)
        results = {d: TargetResult(target=d, kind="domain") for d in domains}
        await asyncio.gather(*(scan_domain(ctx, d, results[d]) for d in domains))
        return results

    started, cpu_started = time.perf_counter(), time.process_time()
    results = asyncio.run(run())
    run_carbet.cpu = time.process_time() - cpu_started
    return time.perf_counter() - started, results


def run_checkdmarc(python: Path, host: str, port: int, domains: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        domains_file = Path(directory) / "domains.txt"
        out_file = Path(directory) / "out.json"
        domains_file.write_text("\n".join(domains))
        subprocess.run(
            [
                str(python),
                "-c",
                CHECKDMARC_SCRIPT,
                host,
                str(port),
                str(domains_file),
                str(out_file),
            ],
            check=True,
            timeout=3600,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        return json.loads(out_file.read_text())


def compare_once(
    python: Path | None, host: str, port: int, domains: list[str], label: str, server_name: str
) -> dict:
    count = len(domains)
    carbet_s, results = run_carbet(f"{host}:{port}", domains)
    carbet_cpu = run_carbet.cpu
    ours = {d: carbet_verdicts(results[d]) for d in domains}
    row = {
        "bench": f"mail/DNS {count} domains, {label}",
        "carbet_s": round(carbet_s, 2),
        "anchor": "checkdmarc",
        "anchor_s": None,
        "ratio": None,
        "agreement": None,
        "notes": f"served by {server_name}; Carbet also checks DKIM, CAA, dangling CNAMEs "
        "and probes each MX",
    }
    if python is None:
        row["notes"] = "checkdmarc could not be installed"
        return row
    anchor = run_checkdmarc(python, host, port, domains)
    theirs = anchor["verdicts"]
    spf_same = sum(d in theirs and ours[d][0] == theirs[d][0] for d in domains)
    dmarc_same = sum(d in theirs and ours[d][1] == theirs[d][1] for d in domains)
    differing = [d for d in domains if d not in theirs or list(ours[d]) != theirs[d][:2]]
    for domain in differing[:5]:
        print(f"  differs: {domain}: carbet {ours[domain]} / checkdmarc {theirs.get(domain)}")
    row.update(
        anchor_s=round(anchor["elapsed"], 2),
        ratio=round(anchor["elapsed"] / carbet_s, 1) if carbet_s else None,
        agreement=f"SPF {spf_same}/{count}, DMARC {dmarc_same}/{count}",
    )
    row["notes"] = f"CPU {carbet_cpu:.1f} s vs {anchor['cpu']:.1f} s; " + row["notes"]
    return row


def measure(
    quick: bool = False, count: int | None = None, latencies_ms: tuple[int, ...] = (0, 10)
) -> list[dict]:
    """One row per resolver round-trip time: 0 (raw loopback) and 10 ms (a resolver on the
    LAN or a warm cache; real cache misses cost more)."""
    count = count or (100 if quick else 1000)
    domains = [domain_name(i) for i in range(count)]
    zones = zone_texts(count)
    server = NsdServer(zones) if shutil.which("nsd") else PythonServer(zones)
    server_name = "nsd" if isinstance(server, NsdServer) else "the tests' Python server"
    python = ensure_checkdmarc()
    rows = []
    try:
        for latency in latencies_ms:
            if latency == 0:
                rows.append(
                    compare_once(
                        python, DNS_HOST, server.port, domains, "loopback (0 ms)", server_name
                    )
                )
                continue
            relay = LatencyRelay(server.port, latency / 1000)
            try:
                rows.append(
                    compare_once(
                        python,
                        RELAY_HOST,
                        relay.port,
                        domains,
                        f"resolver RTT {latency} ms",
                        server_name,
                    )
                )
            finally:
                relay.stop()
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 domains instead of 1,000")
    parser.add_argument("--domains", type=int, help="number of domains")
    parser.add_argument(
        "--latency",
        type=int,
        action="append",
        help="resolver round trip in ms (repeatable; default 0 and 10)",
    )
    args = parser.parse_args()
    rows = measure(args.quick, args.domains, tuple(args.latency or (0, 10)))
    print(f"{'bench':<40} {'carbet s':>9} {'anchor':<11} {'anchor s':>9} {'ratio':>7}  agreement")
    for row in rows:
        print(
            f"{row['bench']:<40} {row['carbet_s']!s:>9} {row['anchor']:<11} "
            f"{row['anchor_s']!s:>9} {row['ratio']!s:>6}×  {row['agreement']}"
        )
        print(f"  {row['notes']}")


if __name__ == "__main__":
    main()
