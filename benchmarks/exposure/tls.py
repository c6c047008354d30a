"""TLS benchmark: Carbet's TLS probe vs SSLyze's concurrent scanner and testssl.sh, side by side.

The same loopback endpoints (real OpenSSL servers with mixed configurations: good, TLS 1.0/1.1
only with legacy and anonymous suites, no forward secrecy, TLS 1.3 only, expired, self-signed,
wrong host, RSA 1024, unknown CA) are served by a separate process, so neither scanner shares a
CPU-bound event loop with the servers. Each tool enumerates protocols and accepted suites per
protocol and validates the certificate against the same test CA; we compare the verdicts on
protocols, weak suites (classified by one table so the comparison is about what was *seen*) and
certificate validity, and print the time ratios.

SSLyze lives in its own venv (``.bench-venv/sslyze-venv``, created here; its pins would fight
Carbet's), testssl.sh is the Debian package, run on a small sample (it takes tens of seconds per
endpoint). Run alone: ``.venv/bin/python benchmarks/exposure/tls.py [--quick] [--count N]``.
``--legacy``: one TLS 1.0-only ``openssl s_server`` (security level 0, RSA 1024, SHA-1) scanned
end to end (identification, TLS, attack probes, grade) vs testssl.sh (issue 19).
``--attacks [--sample K]``: the attack probes vs SSLyze and testssl.sh (``tls_attacks.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult  # noqa: E402
from carbet.engines.exposure.tls.probe import scan_tls  # noqa: E402
from carbet.engines.exposure.tls.suites import WEAK, describe  # noqa: E402

SSLYZE_VENV = ROOT / ".bench-venv" / "sslyze-venv"
KINDS = (
    "good",
    "legacy10",
    "tls11",
    "nofs",
    "tls13",
    "expired",
    "selfsigned",
    "wronghost",
    "rsa1024",
    "untrusted",
)
NAME_TO_CODE: dict[str, int] = {}


def _code_of(name: str) -> int | None:
    if not NAME_TO_CODE:
        from carbet.engines.exposure.tls.suites import LEGACY_SUITES, TLS13_SUITES

        for code, suite_name in {**LEGACY_SUITES, **TLS13_SUITES}.items():
            NAME_TO_CODE[suite_name] = code
    return NAME_TO_CODE.get(name)


# -- the servers (child process) ----------------------------------------------------------------


def serve(count: int) -> None:
    """Child process: start ``count`` servers, print their JSON description, wait for stdin EOF."""
    import ssl
    import warnings

    from tests.exposure.engine_tls.servers import (
        NOW,
        LoopbackServers,
        drain_and_close,
        make_ca,
        make_leaf,
    )

    warnings.simplefilter("ignore", DeprecationWarning)
    lab = LoopbackServers()
    ca = make_ca()
    other = make_ca("Unknown Root CA")
    ca_file = lab.write("bench-ca.pem", ca.cert_pem)
    v = ssl.TLSVersion
    leaves = {
        "good": make_leaf(ca, ["good.bench.test"]),
        "legacy10": make_leaf(ca, ["legacy10.bench.test"]),
        "tls11": make_leaf(ca, ["tls11.bench.test"]),
        "nofs": make_leaf(ca, ["nofs.bench.test"]),
        "tls13": make_leaf(ca, ["tls13.bench.test"]),
        "expired": make_leaf(
            ca,
            ["expired.bench.test"],
            not_before=NOW - dt.timedelta(days=400),
            not_after=NOW - dt.timedelta(days=3),
        ),
        "selfsigned": make_leaf(None, ["selfsigned.bench.test"]),
        "wronghost": make_leaf(ca, ["elsewhere.bench.test"]),
        "rsa1024": make_leaf(ca, ["rsa1024.bench.test"], key_bits=1024),
        "untrusted": make_leaf(other, ["untrusted.bench.test"]),
    }
    options: dict[str, dict[str, Any]] = {
        "good": {"minimum": v.TLSv1_2},
        "legacy10": {
            "minimum": v.TLSv1,
            "maximum": v.TLSv1_2,
            "ciphers": "ECDHE-RSA-AES128-SHA:AES128-SHA:AECDH-AES128-SHA:ECDHE+AESGCM",
        },
        "tls11": {"minimum": v.TLSv1_1, "maximum": v.TLSv1_1, "ciphers": "ECDHE-RSA-AES128-SHA"},
        "nofs": {
            "minimum": v.TLSv1_2,
            "maximum": v.TLSv1_2,
            "ciphers": "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256",
        },
        "tls13": {"minimum": v.TLSv1_3},
    }
    endpoints = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        context = lab.tls_context(leaves[kind], **options.get(kind, {"minimum": v.TLSv1_2}))
        address = f"127.73.{index // 200}.{index % 200 + 10}"
        endpoint = lab.add(f"{kind}-{index}", address, drain_and_close, context)
        endpoints.append(
            {"kind": kind, "address": address, "port": endpoint.port, "name": f"{kind}.bench.test"}
        )
    print(json.dumps({"ca_file": ca_file, "endpoints": endpoints}), flush=True)
    sys.stdin.read()
    lab.close()


def start_servers(count: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    description = json.loads(process.stdout.readline())
    return process, description


# -- Carbet ---------------------------------------------------------------------------------------


def _weak(suites: dict[str, list[str]]) -> bool:
    return any(
        describe(code).classification == WEAK
        for names in suites.values()
        for name in names
        if (code := _code_of(name)) is not None
    )


async def _carbet(endpoints: list[dict[str, Any]], ca_file: str) -> list[dict[str, Any]]:
    context = ScanContext(ScanConfig(ca_file=ca_file))

    async def one(endpoint: dict[str, Any]) -> dict[str, Any]:
        result = TargetResult(endpoint["name"])
        await scan_tls(
            context,
            f"{endpoint['address']}:{endpoint['port']}",
            endpoint["address"],
            endpoint["port"],
            endpoint["name"],
            result,
        )
        (evidence,) = result.evidence["tls"].values()
        suites = {
            key: sorted(suite["name"] for suite in value)
            for key, value in evidence.get("suites", {}).items()
        }
        certificate = evidence.get("certificate", {})
        return {
            "protocols": sorted(k for k, on in evidence.get("protocols", {}).items() if on),
            "suites": suites,
            "weak": _weak(suites),
            # Valid as a browser (and SSLyze) means: trusted chain, in date, for this name.
            "valid": bool(certificate.get("trusted"))
            and certificate.get("days_left", -1) >= 0
            and certificate.get("hostname_ok") is not False,
            "errors": result.errors,
        }

    return list(await asyncio.gather(*(one(endpoint) for endpoint in endpoints)))


def run_carbet(endpoints: list[dict[str, Any]], ca_file: str) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    verdicts = asyncio.run(_carbet(endpoints, ca_file))
    return time.perf_counter() - started, verdicts


# -- SSLyze (its own venv, its own process) -------------------------------------------------------

SSLYZE_DRIVER = r"""
import json, sys, time
from pathlib import Path
from sslyze import (Scanner, ServerScanRequest, ServerNetworkLocation, ScanCommand,
                    ScanCommandsExtraArguments, CertificateInfoExtraArgument,
                    ServerNetworkConfiguration)
job = json.load(sys.stdin)
commands = {ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES,
            ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_1_CIPHER_SUITES,
            ScanCommand.TLS_1_2_CIPHER_SUITES,
            ScanCommand.TLS_1_3_CIPHER_SUITES, ScanCommand.CERTIFICATE_INFO,
            ScanCommand.ELLIPTIC_CURVES}
extra = ScanCommandsExtraArguments(
    certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(job["ca_file"])))
requests = [
    ServerScanRequest(
        server_location=ServerNetworkLocation(e["name"], e["port"], e["address"]),
        network_configuration=ServerNetworkConfiguration(e["name"]),
        scan_commands=commands, scan_commands_extra_arguments=extra)
    for e in job["endpoints"]]
started = time.perf_counter()
scanner = Scanner(per_server_concurrent_connections_limit=job["per_server"],
                  concurrent_server_scans_limit=job["concurrent"])
scanner.queue_scans(requests)
out = {}
keys = {"ssl_2_0_cipher_suites": "ssl2", "ssl_3_0_cipher_suites": "ssl3",
        "tls_1_0_cipher_suites": "tls10", "tls_1_1_cipher_suites": "tls11",
        "tls_1_2_cipher_suites": "tls12",
        "tls_1_3_cipher_suites": "tls13"}
for result in scanner.get_results():
    loc = result.server_location
    verdict = {"protocols": [], "suites": {}, "valid": False, "error": ""}
    attempts = result.scan_result
    if attempts is None:
        verdict["error"] = str(result.connectivity_error_trace)[:200]
    else:
        for attr, key in keys.items():
            attempt = getattr(attempts, attr)
            if attempt.result and attempt.result.accepted_cipher_suites:
                verdict["protocols"].append(key)
                verdict["suites"][key] = sorted(
                    s.cipher_suite.name for s in attempt.result.accepted_cipher_suites)
        info = attempts.certificate_info.result
        if info:
            deployment = info.certificate_deployments[0]
            verdict["valid"] = any(p.was_validation_successful
                                   for p in deployment.path_validation_results
                                   if "custom" in p.trust_store.name.lower()
                                   or p.trust_store.path == Path(job["ca_file"]))
            verdict["reason"] = [str(p.validation_error)[:120]
                                 for p in deployment.path_validation_results
                                 if p.trust_store.path == Path(job["ca_file"])]
    out[f"{loc.ip_address}:{loc.port}"] = verdict
print(json.dumps({"seconds": time.perf_counter() - started, "results": out}))
"""


def ensure_sslyze() -> Path | None:
    python = SSLYZE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SSLYZE_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import sslyze"], capture_output=True)
    if probe.returncode != 0:
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "sslyze"], capture_output=True, text=True
        )
        if install.returncode != 0:
            print("sslyze could not be installed:", install.stderr[-300:], file=sys.stderr)
            return None
    return python


def run_sslyze(
    python: Path, endpoints: list[dict[str, Any]], ca_file: str
) -> tuple[float, float, list[dict[str, Any]]]:
    """(scan seconds measured inside SSLyze's process, wall seconds with start-up, verdicts)."""
    job = {
        "endpoints": endpoints,
        "ca_file": ca_file,
        # SSLyze's defaults are 5 connections per server and 10 servers at a time; give it the
        # same per-server politeness as Carbet (8) and as many servers at once as it can use.
        "per_server": 8,
        "concurrent": min(len(endpoints), 100),
    }
    started = time.perf_counter()
    completed = subprocess.run(
        [str(python), "-c", SSLYZE_DRIVER],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    payload = json.loads(completed.stdout.strip().splitlines()[-1])
    verdicts = []
    for endpoint in endpoints:
        raw = payload["results"].get(f"{endpoint['address']}:{endpoint['port']}", {})
        suites = raw.get("suites", {})
        verdicts.append(
            {
                "protocols": sorted(raw.get("protocols", [])),
                "suites": suites,
                "weak": _weak(suites),
                "valid": raw.get("valid", False),
                "reason": raw.get("reason"),
            }
        )
    return payload["seconds"], wall, verdicts


# -- testssl.sh (sample) --------------------------------------------------------------------------

TESTSSL_PROTOCOLS = {"SSLv2": "ssl2", "SSLv3": "ssl3", "TLS1": "tls10", "TLS1_1": "tls11",
                     "TLS1_2": "tls12", "TLS1_3": "tls13"}  # fmt: skip


def run_testssl(endpoint: dict[str, Any], ca_file: str) -> tuple[float, dict[str, Any]]:
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    if binary is None:
        raise FileNotFoundError("testssl")
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "out.json")
        command = [
            binary, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
            "-p", "-E", "-S", "--add-ca", ca_file, "--ip", endpoint["address"],
            "--jsonfile", output, f"{endpoint['name']}:{endpoint['port']}",
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, timeout=900, cwd=directory)
        seconds = time.perf_counter() - started
        with open(output) as handle:
            findings = json.load(handle)
    protocols: list[str] = []
    suites: dict[str, list[str]] = {}
    valid = False
    for item in findings:
        identifier, finding = item.get("id", ""), item.get("finding", "")
        if identifier in TESTSSL_PROTOCOLS and finding.startswith("offered"):
            protocols.append(TESTSSL_PROTOCOLS[identifier])
        elif identifier.startswith("cipher-"):
            # e.g. "cipher-tls1_2_xc02f": the protocol and the suite's hex code.
            _, _, rest = identifier.partition("-")
            protocol, _, code_text = rest.rpartition("_x")
            key = {"ssl3": "ssl3", "tls1": "tls10", "tls1_1": "tls11", "tls1_2": "tls12",
                   "tls1_3": "tls13"}.get(protocol)  # fmt: skip
            try:
                code = int(code_text, 16)
            except ValueError:
                continue
            if key:
                suites.setdefault(key, []).append(describe(code).name)
        elif identifier.startswith("cert_chain_of_trust"):
            valid = valid or finding.lower().startswith("passed")
        elif identifier.startswith("cert_expirationStatus") and "expired" in finding.lower():
            valid = False
    return seconds, {
        "protocols": sorted(protocols),
        "suites": {key: sorted(names) for key, names in suites.items()},
        "weak": _weak(suites),
        "valid": valid,
    }


# -- comparison -----------------------------------------------------------------------------------


def agreement(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> str:
    """Share of endpoints with the same verdict, per verdict: "protocols 100%, suites 99%..."."""
    total = max(1, len(ours))
    same = {
        "protocols": sum(
            a["protocols"] == b["protocols"] for a, b in zip(ours, theirs, strict=True)
        ),
        "suites": sum(a["suites"] == b["suites"] for a, b in zip(ours, theirs, strict=True)),
        "weak": sum(a["weak"] == b["weak"] for a, b in zip(ours, theirs, strict=True)),
        "certificate": sum(a["valid"] == b["valid"] for a, b in zip(ours, theirs, strict=True)),
    }
    return ", ".join(f"{key} {round(100 * value / total, 1):g}%" for key, value in same.items())


def disagreements(
    endpoints: list[dict[str, Any]], ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
) -> list[str]:
    counts: dict[str, int] = {}
    for endpoint, a, b in zip(endpoints, ours, theirs, strict=True):
        for key in ("protocols", "weak", "valid", "suites"):
            if a[key] == b[key]:
                continue
            if key == "suites":
                mine = {f"{p}:{n}" for p, names in a["suites"].items() for n in names}
                other = {f"{p}:{n}" for p, names in b["suites"].items() for n in names}
                line = (
                    f"{endpoint['kind']}: suites only carbet={sorted(mine - other)[:3]} "
                    f"only anchor={sorted(other - mine)[:3]}"
                )
            else:
                line = f"{endpoint['kind']}: {key} carbet={a[key]} anchor={b[key]}"
                if b.get("reason"):
                    line += f" ({b['reason']})"
            counts[line] = counts.get(line, 0) + 1
            break
    return [f"{count}× {line}" for line, count in sorted(counts.items(), key=lambda i: -i[1])]


def measure(quick: bool = False, count: int | None = None) -> list[dict[str, Any]]:
    count = count or (20 if quick else 100)
    sample_size = 1 if quick else 3
    process, description = start_servers(count)
    rows: list[dict[str, Any]] = []
    try:
        endpoints, ca_file = description["endpoints"], description["ca_file"]
        carbet_s, ours = run_carbet(endpoints, ca_file)
        python = ensure_sslyze()
        if python is not None:
            sslyze_s, sslyze_wall, theirs = run_sslyze(python, endpoints, ca_file)
            agree = agreement(ours, theirs)
            differences = disagreements(endpoints, ours, theirs)
            rows.append(
                {
                    "bench": f"tls: {count} endpoints, protocols+suites+groups+certificate",
                    "carbet_s": round(carbet_s, 2),
                    "anchor": "SSLyze 6 (concurrent scanner)",
                    "anchor_s": round(sslyze_s, 2),
                    "ratio": round(sslyze_s / carbet_s, 1),
                    "agreement": agree,
                    "notes": f"SSLyze wall with start-up {sslyze_wall:.1f}s; "
                    + ("; ".join(differences[:6]) or "no disagreement"),
                }
            )
        sample_kinds = ("legacy10", "good", "nofs")[:sample_size]
        sample = [next(e for e in endpoints if e["kind"] == kind) for kind in sample_kinds]
        try:
            testssl_runs = [run_testssl(endpoint, ca_file) for endpoint in sample]
        except FileNotFoundError:
            testssl_runs = []
        if testssl_runs:
            ours_sample_s = 0.0
            ours_sample = []
            for endpoint in sample:  # one at a time, as testssl.sh scans one host at a time
                seconds, (verdict,) = run_carbet([endpoint], ca_file)
                ours_sample_s += seconds
                ours_sample.append(verdict)
            testssl_s = sum(seconds for seconds, _ in testssl_runs)
            theirs_sample = [verdict for _, verdict in testssl_runs]
            rows.append(
                {
                    "bench": f"tls: {len(sample)} endpoints one by one ({', '.join(sample_kinds)})",
                    "carbet_s": round(ours_sample_s, 2),
                    "anchor": "testssl.sh 3.0 (-p -E -S)",
                    "anchor_s": round(testssl_s, 1),
                    "ratio": round(testssl_s / ours_sample_s, 1),
                    "agreement": agreement(ours_sample, theirs_sample),
                    "notes": "; ".join(disagreements(sample, ours_sample, theirs_sample)[:4])
                    or "no disagreement",
                }
            )
    finally:
        if process.stdin:
            process.stdin.close()
        process.wait(10)
    return rows


# -- a legacy-only appliance (issue 19): found, judged and graded, vs testssl.sh ----------------


def _legacy_carbet(address: str, port: int, ca_file: str) -> tuple[float, dict[str, Any]]:
    """Carbet as a user runs it: the runner (identification, TLS, attack probes, grade)."""
    from carbet.engines.exposure import runner

    config = ScanConfig(ports=(port,), port_hints=((port, "https"),), ca_file=ca_file,
                        mail_dns=False, web_paths=False)  # fmt: skip
    started = time.perf_counter()
    (result,) = runner.scan([address], config)
    seconds = time.perf_counter() - started
    evidence = result.evidence.get("tls", {}).get(str(port), {})
    checks = {observation.check for observation in result.observations}
    attacks = evidence.get("attacks", {})
    return seconds, {
        "protocols": sorted(k for k, v in evidence.get("protocols", {}).items() if v),
        "heartbleed": bool(attacks.get("heartbleed")),
        "fallback_scsv": attacks.get("fallback_scsv"),
        "weak_key": "tls.cert.weak_key" in checks,
        "sha1": "tls.cert.sha1_signature" in checks,
        "grade": result.scores.get("grade"),
    }


def _legacy_testssl(address: str, port: int, ca_file: str) -> tuple[float, dict[str, Any]]:
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    if binary is None:
        raise FileNotFoundError("testssl")
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "out.json")
        command = [binary, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
                   "-p", "-S", "-H", "-Z", "--add-ca", ca_file, "--jsonfile", output,
                   f"{address}:{port}"]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, timeout=900, cwd=directory)
        seconds = time.perf_counter() - started
        with open(output) as handle:
            findings = {item.get("id", ""): item.get("finding", "") for item in json.load(handle)}
    protocols = sorted(
        key for name, key in TESTSSL_PROTOCOLS.items()
        if findings.get(name, "").startswith("offered")
    )  # fmt: skip
    key_size = findings.get("cert_keySize", "")
    return seconds, {
        "protocols": protocols,
        "heartbleed": findings.get("heartbleed", "").startswith("VULNERABLE"),
        "fallback_scsv": None,  # one protocol only: nothing to fall back from
        "weak_key": "1024" in key_size,
        "sha1": "SHA1" in findings.get("cert_signatureAlgorithm", "").upper(),
        "grade": findings.get("overall_grade") or "(no grade without -g)",
    }


def measure_legacy() -> list[dict[str, Any]]:
    """One TLS 1.0-only ``openssl s_server`` at security level 0 (1024-bit key, SHA-1)."""
    from tests.exposure.engine_tls.servers import make_ca
    from tests.exposure.engine_tls.sserver import SServers
    from tests.exposure.engine_tls.test_tls_legacy import legacy_leaf

    directory = tempfile.mkdtemp(prefix="carbet-bench-legacy-")
    ca = make_ca()
    ca_file = os.path.join(directory, "ca.pem")
    Path(ca_file).write_bytes(ca.cert_pem)
    servers = SServers(directory)
    address = "127.23.0.10"
    try:
        server = servers.start("legacy", legacy_leaf(ca, address, directory), "-tls1",
                               "-cipher", "ALL:@SECLEVEL=0", "-legacy_renegotiation",
                               address=address)  # fmt: skip
        ours_s, ours = _legacy_carbet(address, server.port, ca_file)
        try:
            theirs_s, theirs = _legacy_testssl(address, server.port, ca_file)
        except FileNotFoundError:
            return []
    finally:
        servers.close()
    keys = ("protocols", "heartbleed", "weak_key", "sha1")
    same = [key for key in keys if ours[key] == theirs[key]]
    return [
        {
            "bench": "tls: TLS 1.0-only appliance (SECLEVEL 0, RSA 1024, SHA-1), end to end",
            "carbet_s": round(ours_s, 2),
            "anchor": "testssl.sh 3.0 (-p -S -H -Z)",
            "anchor_s": round(theirs_s, 1),
            "ratio": round(theirs_s / ours_s, 1),
            "agreement": f"{len(same)}/{len(keys)} verdicts ({', '.join(same)})",
            "notes": f"carbet={ours}; testssl={theirs}",
        }
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'bench':58} {'carbet':>8} {'anchor':>9} {'ratio':>6}  agreement / anchor")
    for row in rows:
        agree = row["agreement"]
        print(
            f"{row['bench'][:58]:58} {row['carbet_s']:>7}s {row['anchor_s']:>8}s "
            f"{row['ratio']:>5}x  {agree} / {row['anchor']}"
        )
        print(f"    {row['notes'][:1500]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 endpoints, 1 testssl sample")
    parser.add_argument("--count", type=int, help="number of TLS endpoints (default 100)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--legacy", action="store_true", help="only the TLS 1.0-only appliance")
    parser.add_argument("--attacks", action="store_true", help="attack probes vs SSLyze/testssl")
    parser.add_argument("--sample", type=int, default=4, help="testssl.sh sample (--attacks)")
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve)
    elif arguments.legacy:
        print_table(measure_legacy())
    elif arguments.attacks:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from tls_attacks import measure_attacks

        print_table(measure_attacks(arguments.sample))
    else:
        print_table(measure(quick=arguments.quick, count=arguments.count))
