"""TLS attack probes: Carbet vs SSLyze's scan commands and testssl.sh, on the same endpoints.

Run through ``benchmarks/exposure/tls.py --attacks`` (issue 19). A separate process serves the
lab on loopback: real ``openssl s_server`` variants (the system's OpenSSL 3) whose attack
verdicts differ (client renegotiation allowed or refused, legacy renegotiation, server or
client cipher order, 0-RTT accepted or not, Extended Master Secret switched off through an
``OPENSSL_CONF``, TLS 1.0-1.2 with and without RSA key exchange) and the crafted responders the
engine's tests use for Heartbleed, CCS injection and ROBOT (vulnerable and patched), imported
from the tests, not copied. Each tool scans every endpoint it can; verdicts are compared one
by one and the wall time of each tool is its own (SSLyze's measured inside its process).
"""

from __future__ import annotations

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
sys.path.insert(0, str(Path(__file__).resolve().parent))

VERDICTS = (
    "heartbleed",
    "ccs_injection",
    "robot",
    "fallback_scsv",
    "secure_renegotiation",
    "client_renegotiation",
    "early_data",
    "extended_master_secret",
    "server_cipher_order",
)
# What each anchor can say (SSLyze 6 has no cipher-order command; testssl.sh 3.0 no 0-RTT test).
SSLYZE_VERDICTS = tuple(v for v in VERDICTS if v != "server_cipher_order")
TESTSSL_VERDICTS = tuple(v for v in VERDICTS if v != "early_data")
NO_EMS_CONF = """openssl_conf = conf
[conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = sys
[sys]
Options = -ExtendedMasterSecret
"""
RSA_AND_ECDHE = "ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES128-SHA:@SECLEVEL=0"
# name -> s_server options; the comment says what should differ from "default".
SSERVERS: dict[str, tuple[str, ...]] = {
    "default": (),  # TLS 1.2 + 1.3, nothing vulnerable, client order
    "client_reneg": ("-no_tls1_3", "-client_renegotiation"),  # client renegotiation allowed
    "legacy_reneg": ("-no_tls1_3", "-legacy_renegotiation"),  # legacy allowed, client refused
    "no_reneg": ("-no_tls1_3", "-no_renegotiation"),
    "serverpref": ("-no_tls1_3", "-serverpref", "-cipher", RSA_AND_ECDHE),
    "clientpref": ("-no_tls1_3", "-cipher", RSA_AND_ECDHE),
    "early_data": ("-tls1_3", "-max_early_data", "16384", "-early_data"),  # 0-RTT accepted
    "early_advertised": ("-tls1_3", "-max_early_data", "16384"),  # in tickets, then refused
    "tls13_only": ("-tls1_3",),  # no 0-RTT, nothing to fall back to
    "no_ems": ("-no_tls1_3",),  # + OPENSSL_CONF without Extended Master Secret
    "legacy_rsa": (
        "-no_tls1_3",
        "-cipher",
        "ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0",
        "-min_protocol",
        "TLSv1",
    ),
    "legacy_ecdhe": (
        "-no_tls1_3",
        "-cipher",
        "ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
        "-min_protocol",
        "TLSv1",
    ),
}
CRAFTED = ("heartbleed_vuln", "heartbleed_fixed", "ccs_vuln", "ccs_fixed", "robot_oracle",
           "robot_fixed")  # fmt: skip


# -- the lab (child process) ----------------------------------------------------------------------


def serve() -> None:
    """Child process: start the lab, print its JSON description, wait for stdin EOF."""
    import warnings

    from cryptography.hazmat.primitives import serialization

    warnings.simplefilter("ignore", DeprecationWarning)
    from tests.exposure.engine_tls.servers import LoopbackServers, make_ca, make_leaf
    from tests.exposure.engine_tls.sserver import SServers
    from tests.exposure.engine_tls.test_tls_attacks2 import ccs_stack
    from tests.exposure.engine_tls.test_tls_attacks2_robot import rsa_stack
    from tests.exposure.engine_tls.test_tls_probes import old_stack

    lab = LoopbackServers()
    sservers = SServers(lab.directory)
    try:
        ca = make_ca()
        ca_file = lab.write("bench-ca.pem", ca.cert_pem)
        no_ems = lab.write("no-ems.cnf", NO_EMS_CONF.encode())
        endpoints = []
        for index, (kind, options) in enumerate(SSERVERS.items()):
            address = f"127.74.0.{10 + index}"
            leaf = make_leaf(ca, [f"{kind}.bench.test"])
            saved = os.environ.get("OPENSSL_CONF")
            if kind == "no_ems":  # s_server has no switch for it; the library's options do
                os.environ["OPENSSL_CONF"] = no_ems
            try:
                # s_server refuses -early_data with -www: that one is a plain echo server.
                www = "-early_data" not in options
                server = sservers.start(kind, leaf, *options, address=address, www=www)
            finally:
                os.environ.pop("OPENSSL_CONF", None)
                if saved is not None:
                    os.environ["OPENSSL_CONF"] = saved
            endpoints.append({"kind": kind, "address": address, "port": server.port,
                              "name": f"{kind}.bench.test", "crafted": False})  # fmt: skip
        for index, kind in enumerate(CRAFTED):
            address = f"127.74.1.{10 + index}"
            issued = make_leaf(ca, [f"{kind}.bench.test"])
            der = issued.certificate.public_bytes(serialization.Encoding.DER)
            patched = not kind.endswith(("_vuln", "_oracle"))
            family = kind.split("_")[0]
            if family == "heartbleed":
                handler = old_stack(der, patched)
            elif family == "ccs":
                handler = ccs_stack(der, patched)
            else:
                handler = rsa_stack(issued, not patched)
            endpoint = lab.add(kind, address, handler)
            endpoints.append({"kind": kind, "address": address, "port": endpoint.port,
                              "name": f"{kind}.bench.test", "crafted": True})  # fmt: skip
        print(json.dumps({"ca_file": ca_file, "endpoints": endpoints}), flush=True)
        sys.stdin.read()
    finally:  # a server that failed to start must not leave the others running
        sservers.close()
        lab.close()


def start_lab() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


# -- Carbet: the runner, as a user's scan -------------------------------------------------------


def _carbet_verdicts(evidence: dict[str, Any]) -> dict[str, Any]:
    """Vulnerabilities not found are False (as the anchors say); a property Carbet does not
    ask (TLS 1.3 only: no renegotiation, no EMS; one version: no fallback) stays None."""
    attacks = evidence.get("attacks", {})
    robot = evidence.get("robot") or {}
    return {
        "heartbleed": bool(attacks.get("heartbleed")),
        "ccs_injection": bool(attacks.get("ccs_injection")),
        "robot": bool(robot.get("vulnerable")),
        "fallback_scsv": attacks.get("fallback_scsv"),
        "secure_renegotiation": evidence.get("secure_renegotiation"),
        "client_renegotiation": attacks.get("client_renegotiation"),
        "early_data": attacks.get("early_data"),
        "extended_master_secret": attacks.get("extended_master_secret"),
        "server_cipher_order": attacks.get("server_cipher_order"),
    }


def run_carbet(endpoints: list[dict[str, Any]], ca_file: str) -> tuple[float, list[dict[str, Any]]]:
    """One ``runner.scan`` over all the endpoints (identification, TLS, attack probes)."""
    from carbet.engines.exposure import runner
    from carbet.engines.exposure.core import ScanConfig

    ports = tuple(endpoint["port"] for endpoint in endpoints)
    config = ScanConfig(ports=ports, port_hints=tuple((port, "https") for port in ports),
                        ca_file=ca_file, mail_dns=False, web_paths=False)  # fmt: skip
    started = time.perf_counter()
    results = runner.scan([endpoint["address"] for endpoint in endpoints], config)
    seconds = time.perf_counter() - started
    verdicts = []
    for endpoint, result in zip(endpoints, results, strict=True):
        evidence = result.evidence.get("tls", {}).get(str(endpoint["port"]))
        if evidence is None:
            verdicts.append({"error": "no TLS evidence: " + "; ".join(result.errors)[:200]})
        else:
            verdicts.append(_carbet_verdicts(evidence))
    return seconds, verdicts


def run_tls_only(endpoints: list[dict[str, Any]], ca_file: str) -> float:
    """Seconds of ``scan_tls`` alone (enumeration, certificate, attack probes) on all the
    endpoints at once: the runner's time also holds discovery, fingerprinting and the web page."""
    import asyncio

    from carbet.engines.exposure.core import ScanConfig, ScanContext, TargetResult
    from carbet.engines.exposure.tls.probe import scan_tls

    async def scan_all() -> None:
        context = ScanContext(ScanConfig(ca_file=ca_file))
        await asyncio.gather(*(
            scan_tls(context, f"{e['address']}:{e['port']}", e["address"], e["port"], e["name"],
                     TargetResult(e["name"]))
            for e in endpoints
        ))  # fmt: skip

    started = time.perf_counter()
    asyncio.run(scan_all())
    return time.perf_counter() - started


# -- SSLyze: the matching scan commands -----------------------------------------------------------

SSLYZE_DRIVER = r"""
import json, sys, time
from sslyze import (Scanner, ServerScanRequest, ServerNetworkLocation, ScanCommand,
                    ServerNetworkConfiguration)
job = json.load(sys.stdin)
commands = {ScanCommand.HEARTBLEED, ScanCommand.OPENSSL_CCS_INJECTION, ScanCommand.ROBOT,
            ScanCommand.TLS_FALLBACK_SCSV, ScanCommand.SESSION_RENEGOTIATION,
            ScanCommand.TLS_1_3_EARLY_DATA, ScanCommand.TLS_EXTENDED_MASTER_SECRET}
requests = [
    ServerScanRequest(
        server_location=ServerNetworkLocation(e["name"], e["port"], e["address"]),
        network_configuration=ServerNetworkConfiguration(e["name"]), scan_commands=commands)
    for e in job["endpoints"]]
started = time.perf_counter()
scanner = Scanner(per_server_concurrent_connections_limit=8,
                  concurrent_server_scans_limit=len(requests))
scanner.queue_scans(requests)
out = {}
fields = {"heartbleed": ("heartbleed", "is_vulnerable_to_heartbleed"),
          "ccs_injection": ("openssl_ccs_injection", "is_vulnerable_to_ccs_injection"),
          "fallback_scsv": ("tls_fallback_scsv", "supports_fallback_scsv"),
          "secure_renegotiation": ("session_renegotiation", "supports_secure_renegotiation"),
          "client_renegotiation": ("session_renegotiation",
                                   "is_vulnerable_to_client_renegotiation_dos"),
          "early_data": ("tls_1_3_early_data", "supports_early_data"),
          "extended_master_secret": ("tls_extended_master_secret", "supports_ems_extension")}
for result in scanner.get_results():
    loc = result.server_location
    verdict = {}
    if result.scan_result is None:
        verdict["error"] = "connectivity: " + str(result.connectivity_error_trace)[-160:]
    else:
        for key, (attr, field) in fields.items():
            attempt = getattr(result.scan_result, attr)
            verdict[key] = getattr(attempt.result, field) if attempt.result else None
            if attempt.error_reason:
                verdict.setdefault("errors", []).append(f"{attr}: {attempt.error_reason}")
        robot = result.scan_result.robot
        verdict["robot"] = robot.result.robot_result.name if robot.result else None
    out[f"{loc.ip_address}:{loc.port}"] = verdict
print(json.dumps({"seconds": time.perf_counter() - started, "results": out}))
"""


def run_sslyze(python: Path, endpoints: list[dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:
    completed = subprocess.run(
        [str(python), "-c", SSLYZE_DRIVER],
        input=json.dumps({"endpoints": endpoints}),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    payload = json.loads(completed.stdout.strip().splitlines()[-1])
    verdicts = []
    for endpoint in endpoints:
        raw = dict(payload["results"].get(f"{endpoint['address']}:{endpoint['port']}", {}))
        if "robot" in raw:  # strong and weak oracles are both "vulnerable"
            raw["robot"] = raw["robot"] is not None and raw["robot"].startswith("VULNERABLE")
        verdicts.append(raw)
    return payload["seconds"], verdicts


# -- testssl.sh (a sample: it is slow) ------------------------------------------------------------


def _testssl_state(finding: str) -> bool | None:
    """ "not vulnerable", "probably not vulnerable but...": False; "VULNERABLE", "likely
    VULNERABLE", "potentially VULNERABLE": True; anything else (a test that failed): None."""
    text = finding.lower()
    if "not vulnerable" in text or text.startswith(("no ", "not ")):
        return False
    return True if "vulnerable" in text else None


def testssl_verdicts(findings: dict[str, str]) -> dict[str, Any]:
    """testssl.sh's JSON findings (id -> finding) as the benchmark's verdicts."""
    fallback = findings.get("fallback_SCSV", "").lower()
    order = findings.get("cipher_order", "").lower()
    return {
        "heartbleed": bool(_testssl_state(findings.get("heartbleed", ""))),
        "ccs_injection": bool(_testssl_state(findings.get("CCS", ""))),
        "robot": bool(_testssl_state(findings.get("ROBOT", ""))),
        "fallback_scsv": True if fallback.startswith("supported")
        else False if "downgrade attack prevention not supported" in fallback
        or fallback.startswith("not supported") else None,
        "secure_renegotiation": findings.get("secure_renego", "").lower().startswith("support"),
        "client_renegotiation": bool(_testssl_state(findings.get("secure_client_renego", ""))),
        "extended_master_secret": "extended master secret" in findings.get("TLS_extensions", ""),
        "server_cipher_order": order.startswith("server"),
    }  # fmt: skip


def run_testssl(endpoint: dict[str, Any], ca_file: str) -> tuple[float, dict[str, Any]]:
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    if binary is None:
        raise FileNotFoundError("testssl")
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "out.json")
        command = [
            binary, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
            "-H", "-I", "-BB", "-R", "-Z", "-P", "-S", "--add-ca", ca_file,
            "--ip", endpoint["address"], "--jsonfile", output,
            f"{endpoint['name']}:{endpoint['port']}",
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, timeout=900, cwd=directory)
        seconds = time.perf_counter() - started
        try:
            with open(output) as handle:
                items = json.load(handle)
        except (OSError, ValueError) as exc:
            return seconds, {"error": f"no JSON output ({exc})"}
    findings = {item.get("id", ""): item.get("finding", "") for item in items}
    if not any(key in findings for key in ("heartbleed", "CCS", "ROBOT")):
        scan_problem = findings.get("scanProblem") or findings.get("engine_problem", "")
        return seconds, {"error": f"no verdict: {scan_problem[:160]}"}
    return seconds, testssl_verdicts(findings)


# -- comparison -----------------------------------------------------------------------------------


def compare(
    endpoints: list[dict[str, Any]],
    ours: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
    keys: tuple[str, ...],
) -> tuple[dict[str, tuple[int, int]], list[str], list[str]]:
    """Per verdict (same, compared) over the endpoints both tools scanned; the differences
    (a verdict one tool does not give, None, is listed apart, not counted); the endpoints the
    anchor (or Carbet) could not scan."""
    tally = {key: (0, 0) for key in keys}
    differences: list[str] = []
    unscanned: list[str] = []
    for endpoint, a, b in zip(endpoints, ours, theirs, strict=True):
        if "error" in a or "error" in b:
            unscanned.append(f"{endpoint['kind']}: {a.get('error') or b.get('error')}")
            continue
        for key in keys:
            mine, other = a.get(key), b.get(key)
            if mine is None or other is None:
                if mine != other:
                    differences.append(f"(n/a) {endpoint['kind']} {key}: carbet={mine} "
                                       f"anchor={other}")  # fmt: skip
                continue
            same, total = tally[key]
            tally[key] = (same + (mine == other), total + 1)
            if mine != other:
                differences.append(f"{endpoint['kind']} {key}: carbet={mine} anchor={other}")
    differences.sort(key=lambda line: line.startswith("(n/a)"))
    for endpoint, b in zip(endpoints, theirs, strict=True):
        if b.get("errors"):
            differences.append(f"[anchor errors on {endpoint['kind']}: {b['errors']}]")
    return tally, differences, unscanned


def _agreement_text(tally: dict[str, tuple[int, int]]) -> str:
    same = sum(s for s, _ in tally.values())
    total = sum(t for _, t in tally.values())
    per = ", ".join(f"{key} {s}/{t}" for key, (s, t) in tally.items() if t)
    return f"{same}/{total} verdicts ({per})"


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def measure_attacks(sample: int = 4) -> list[dict[str, Any]]:
    from tls import ensure_sslyze  # the same venv as the default comparison

    process, description = start_lab()
    rows: list[dict[str, Any]] = []
    try:
        endpoints, ca_file = description["endpoints"], description["ca_file"]
        load_before = _load()
        carbet_s, ours = run_carbet(endpoints, ca_file)
        python = ensure_sslyze()
        if python is not None:
            sslyze_s, theirs = run_sslyze(python, endpoints)
            tally, differences, unscanned = compare(endpoints, ours, theirs, SSLYZE_VERDICTS)
            scanned = [e for e, v in zip(endpoints, theirs, strict=True) if "error" not in v]
            # Carbet again on what SSLyze could scan, for a like-for-like time.
            like_s, _ = run_carbet(scanned, ca_file) if scanned else (0.0, [])
            tls_all_s, tls_like_s = run_tls_only(endpoints, ca_file), run_tls_only(scanned, ca_file)
            rows.append({
                "bench": f"tls attacks: {len(endpoints)} endpoints ({len(scanned)} scannable by "
                         "SSLyze)",
                "carbet_s": round(carbet_s, 2), "anchor": "SSLyze 6.3 (7 scan commands)",
                "anchor_s": round(sslyze_s, 2),
                "ratio": round(sslyze_s / like_s, 1) if like_s else 0,
                "agreement": _agreement_text(tally),
                "notes": f"Carbet on the {len(scanned)} SSLyze could scan: {like_s:.2f}s "
                f"(scan_tls alone: {tls_like_s:.2f}s; on all {len(endpoints)}: {tls_all_s:.2f}s); "
                         f"load {load_before} -> {_load()}; differences: "
                         + ("; ".join(differences) or "none") + "; not scanned: "
                         + ("; ".join(unscanned) or "none"),
            })  # fmt: skip
        rows.extend(_testssl_rows(endpoints, ca_file, sample))
    finally:
        if process.stdin:
            process.stdin.close()
        process.wait(20)
    return rows


def _testssl_rows(
    endpoints: list[dict[str, Any]], ca_file: str, sample: int
) -> list[dict[str, Any]]:
    kinds = ("default", "client_reneg", "serverpref", "no_ems", "heartbleed_vuln", "ccs_vuln",
             "robot_oracle", "legacy_rsa")[:sample]  # fmt: skip
    chosen = [e for kind in kinds for e in endpoints if e["kind"] == kind]
    try:
        runs = [run_testssl(endpoint, ca_file) for endpoint in chosen]
    except FileNotFoundError:
        return []
    ours_times, ours = [], []
    for endpoint in chosen:  # one at a time, as testssl.sh scans one host at a time
        seconds, (verdict,) = run_carbet([endpoint], ca_file)
        ours_times.append(seconds)
        ours.append(verdict)
    theirs = [verdict for _, verdict in runs]
    tally, differences, unscanned = compare(chosen, ours, theirs, TESTSSL_VERDICTS)
    # The ratio is over the endpoints testssl.sh could scan (both tools' times on those).
    scanned = [i for i, v in enumerate(theirs) if "error" not in v]
    ours_s = sum(ours_times[i] for i in scanned)
    anchor_s = sum(runs[i][0] for i in scanned)
    return [{
        "bench": f"tls attacks: {len(chosen)} endpoints one by one ({', '.join(kinds)})",
        "carbet_s": round(ours_s, 2), "anchor": "testssl.sh 3.0.8 (-H -I -BB -R -Z -P -S)",
        "anchor_s": round(anchor_s, 1),
        "ratio": round(anchor_s / ours_s, 1) if ours_s else 0,
        "agreement": _agreement_text(tally),
        "notes": f"times over the {len(scanned)} endpoints testssl.sh scanned; per endpoint "
                 + ", ".join(f"{e['kind']} {s:.1f}s/{c:.2f}s"
                           for e, (s, _), c in zip(chosen, runs, ours_times, strict=True))
                 + "; differences: " + ("; ".join(differences) or "none")
                 + "; not scanned: " + ("; ".join(unscanned) or "none"),
    }]  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        from tls import print_table

        print_table(measure_attacks(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
