"""Community matching at regional scale: a year of NVD plus KEV against 60,000 product lines.

1. **Feeds**: a deterministic (seeded) synthetic year of NVD CVE 2.0 JSON (40,000 CVEs over
   3,000 products: popular products get most CVEs, 1 to 4 version ranges per CVE, a few with
   long lists of exact versions, CVSS spread like NVD's), a KEV catalogue (1,400 entries, about
   15 % of them not described by NVD) and a CERT-FR file (300 alerts) are written to a temporary
   folder and imported with Carbet's real importer (timed separately).
2. **Inventory**: 3,000 structures × 20 product lines (60,000), drawn from 400 products the way
   people and scanners write them ("Fortinet FortiGate", "FortiOS 7.0.12 build 0523", "Microsoft
   Windows Server 2019", business applications NVD does not know), 10 % without a version.
3. **Full match** (``carbet.engines.community.matcher.match_all``, NVD threshold CVSS 9): wall
   and CPU time, and peak memory (``VmHWM``) of a child process that does nothing else.
   Aim: under 60 s and under 500 MB.
4. **Daily match** (``match_since``): 200 new NVD entries (and 10 KEV additions) imported on top,
   then matched since that day. Aim: under 2 s.
5. **Anchor**, in the same run: what the exposure scanner does today, one ``match_service`` (one
   store query per product line) for a random sample of lines, extrapolated to all lines.

    .venv/bin/python benchmarks/community.py                 # full size
    .venv/bin/python benchmarks/community.py --quick         # 4,000 CVEs, 300 structures
    .venv/bin/python benchmarks/community.py --cves 20000 --structures 1000 --keep

Not a test: it asserts nothing. The figures go in benchmarks/README.md ("Community").
"""

from __future__ import annotations

import os
import sys

# This folder holds benchmarks/platform.py, which would shadow the standard library's module.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AIM_FULL_S = 60.0
AIM_FULL_MB = 500.0
AIM_DAILY_S = 2.0
SEED = 15
YEAR = 2025
NEW_DAY = date(YEAR + 1, 1, 5)

# Real products, as NVD files them, the way people type them, and their version scheme.
REAL = [
    ("o", "fortinet", "fortios", "Fortinet", "FortiGate", "forti"),
    ("a", "openbsd", "openssh", "", "OpenSSH", "openssh"),
    ("a", "apache", "http_server", "Apache", "httpd", "generic"),
    ("o", "microsoft", "windows_server_2019", "Microsoft", "Windows Server 2019", "windows"),
    ("o", "microsoft", "windows_server_2022", "Microsoft", "Windows Server 2022", "windows"),
    ("a", "citrix", "netscaler_application_delivery_controller", "Citrix", "NetScaler ADC",
     "citrix"),
    ("a", "ivanti", "connect_secure", "Ivanti", "Connect Secure", "ivanti"),
    ("o", "paloaltonetworks", "pan-os", "Palo Alto Networks", "PAN-OS", "generic"),
    ("a", "vmware", "vcenter_server", "VMware", "vCenter Server", "generic"),
    ("a", "nextgen", "mirth_connect", "NextGen", "Mirth Connect", "generic"),
    ("a", "microsoft", "exchange_server", "Microsoft", "Exchange Server", "generic"),
    ("a", "f5", "nginx", "", "nginx", "generic"),
]  # fmt: skip
KEV_NAMES = [
    ("Fortinet", "FortiOS"),
    ("Ivanti", "Connect Secure"),
    ("Citrix", "NetScaler ADC"),
    ("Palo Alto Networks", "PAN-OS"),
    ("NextGen Healthcare", "Mirth Connect"),
]


# --- Synthetic feeds ----------------------------------------------------------------------


class Product:
    def __init__(self, index: int, rng: random.Random) -> None:
        if index < len(REAL):
            self.part, self.vendor, self.name, self.typed_vendor, self.typed, self.scheme = REAL[
                index
            ]
        else:
            self.part, self.scheme = "a", "generic"
            self.vendor, self.name = f"vendor{index:04d}", f"product_{index:04d}_suite"
            self.typed_vendor, self.typed = f"Vendor{index:04d}", f"Product {index:04d} Suite"
        majors = sorted(rng.sample(range(1, 20), rng.randint(2, 4)))
        self.branches = [(m, rng.randint(0, 6), rng.randint(5, 40)) for m in majors]

    def version(self, branch: tuple[int, int, int], patch: int) -> str:
        major, minor, _top = branch
        if self.scheme == "forti":
            return f"{6 + major % 2}.{minor * 2 % 6}.{patch}"
        if self.scheme == "openssh":
            return f"{8 + major % 2}.{minor}p{1 + patch % 2}"
        if self.scheme == "windows":
            return f"10.0.{17763 if self.name.endswith('2019') else 20348}.{4000 + patch * 37}"
        if self.scheme == "citrix":
            return f"{13 + major % 2}.{minor % 2}-{patch + 40}.{patch % 20}"
        if self.scheme == "ivanti":
            return f"22.{minor % 8}R{1 + major % 3}.{patch}"
        return f"{major}.{minor}.{patch}"

    def cpe(self, version: str = "*") -> str:
        escaped = version.replace("(", "\\(").replace(")", "\\)").lower()
        return f"cpe:2.3:{self.part}:{self.vendor}:{self.name}:{escaped}:*:*:*:*:*:*:*"


def cvss_score(rng: random.Random) -> float:
    roll = rng.random()  # NVD 2024-2025: about 15 % critical, 35 % high
    if roll < 0.15:
        return round(rng.uniform(9.0, 10.0), 1)
    if roll < 0.50:
        return round(rng.uniform(7.0, 8.9), 1)
    return round(rng.uniform(2.0, 6.9), 1)


def cpe_matches(product: Product, rng: random.Random) -> list[dict]:
    roll = rng.random()
    if roll < 0.03:  # a long list of exact versions (Cisco IOS style)
        branch = rng.choice(product.branches)
        return [
            {"vulnerable": True, "criteria": product.cpe(product.version(branch, p))}
            for p in range(0, branch[2])
        ]
    if roll < 0.06:  # "every version"
        return [{"vulnerable": True, "criteria": product.cpe()}]
    rows = []
    for branch in rng.sample(product.branches, rng.randint(1, len(product.branches))):
        fix = rng.randint(1, branch[2])
        rows.append(
            {
                "vulnerable": True,
                "criteria": product.cpe(),
                "versionStartIncluding": product.version(branch, 0),
                "versionEndExcluding": product.version(branch, fix),
            }
        )
    return rows


def nvd_entry(cve_id: str, product: Product, rng: random.Random, published: date) -> dict:
    modified = min(published + timedelta(days=rng.randint(0, 60)), date(YEAR, 12, 31))
    if published.year > YEAR:
        modified = published
    nodes = [{"operator": "OR", "negate": False, "cpeMatch": cpe_matches(product, rng)}]
    if rng.random() < 0.2:  # a platform node: not vulnerable itself
        nodes.append(
            {
                "operator": "OR",
                "negate": False,
                "cpeMatch": [
                    {
                        "vulnerable": False,
                        "criteria": "cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*",
                    }
                ],
            }
        )
    score = cvss_score(rng)
    return {
        "cve": {
            "id": cve_id,
            "sourceIdentifier": "cve@mitre.org",
            "published": f"{published.isoformat()}T10:15:00.000",
            "lastModified": f"{modified.isoformat()}T12:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [{"lang": "en", "value": f"Synthetic flaw in {product.typed}."}],
            "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
                "cvssData": {"version": "3.1", "baseScore": score,
                             "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]},
            "configurations": [{"nodes": nodes}],
        }
    }  # fmt: skip


def write_nvd(path: Path, entries: list[dict]) -> None:
    with path.open("w") as out:
        out.write(
            '{"format": "NVD_CVE", "version": "2.0", "timestamp": "2026-01-05T00:00:00",'
            ' "vulnerabilities": [\n'
        )
        for position, entry in enumerate(entries):
            out.write(("," if position else "") + json.dumps(entry) + "\n")
        out.write("]}\n")


def pick_product(products: list[Product], rng: random.Random) -> Product:
    """Popular products get most CVEs (a Pareto-like draw), the real ones among them."""
    index = min(int(rng.paretovariate(0.9)) - 1, len(products) - 1)
    if rng.random() < 0.5:
        index = rng.randrange(len(products))
    return products[index]


def kev_item(cve_id: str, vendor: str, product: str, added: date, rng: random.Random) -> dict:
    return {
        "cveID": cve_id, "vendorProject": vendor, "product": product,
        "vulnerabilityName": f"{vendor} {product} flaw", "dateAdded": added.isoformat(),
        "shortDescription": "Synthetic.", "requiredAction": "Apply the vendor's updates.",
        "dueDate": (added + timedelta(days=21)).isoformat(),
        "knownRansomwareCampaignUse": "Known" if rng.random() < 0.2 else "Unknown", "notes": "",
    }  # fmt: skip


def generate(folder: Path, cves: int, kev_size: int, alerts: int) -> dict:
    rng = random.Random(SEED)
    products = [Product(index, rng) for index in range(3000)]
    entries, by_cve = [], {}
    for number in range(cves):
        product = pick_product(products, rng)
        cve_id = f"CVE-{YEAR}-{10000 + number}"
        published = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
        entries.append(nvd_entry(cve_id, product, rng, published))
        by_cve[cve_id] = product
    write_nvd(folder / "nvd-2025.json", entries)
    cve_ids = list(by_cve)
    kev = []
    for number, cve_id in enumerate(rng.sample(cve_ids, int(kev_size * 0.85))):
        product = by_cve[cve_id]
        added = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
        kev.append(
            kev_item(
                cve_id, product.typed_vendor or product.vendor.title(), product.typed, added, rng
            )
        )
        del number
    for number in range(kev_size - len(kev)):  # not (yet) described by NVD
        vendor, name = (
            rng.choice(KEV_NAMES)
            if rng.random() < 0.5
            else (
                products[rng.randrange(len(REAL), 400)].typed_vendor,
                products[rng.randrange(len(REAL), 400)].typed,
            )
        )
        added = date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))
        kev.append(kev_item(f"CVE-{YEAR}-{90000 + number}", vendor, name, added, rng))
    kev_doc = {
        "catalogVersion": f"{YEAR}.12.31",
        "dateReleased": f"{YEAR}-12-31T00:00:00Z",
        "count": len(kev),
        "vulnerabilities": kev,
    }
    (folder / "kev.json").write_text(json.dumps(kev_doc))
    certfr = []
    for number in range(alerts):
        chosen = rng.sample(cve_ids, rng.randint(1, 5)) if rng.random() < 0.8 else []
        product = by_cve[chosen[0]] if chosen else products[rng.randrange(400)]
        certfr.append(
            {
                "id": f"CERTFR-{YEAR}-ALE-{number:03d}",
                "title": f"Alerte {product.typed}",
                "date": (date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))).isoformat(),
                "url": "https://www.cert.ssi.gouv.fr/",
                "cves": chosen,
                "products": [f"{product.typed_vendor} {product.typed}".strip()],
            }
        )
    (folder / "certfr.json").write_text(json.dumps({"alerts": certfr}))
    # The next day's feeds: 200 new NVD entries and a KEV catalogue with 10 more entries.
    new = [
        nvd_entry(f"CVE-{YEAR + 1}-{1000 + n}", pick_product(products, rng), rng, NEW_DAY)
        for n in range(200)
    ]
    write_nvd(folder / "nvd-new.json", new)
    for number in range(10):
        kev.append(kev_item(new[number * 7]["cve"]["id"], "Vendor", "Product", NEW_DAY, rng))
    kev_doc["vulnerabilities"] = kev
    (folder / "kev-new.json").write_text(json.dumps(kev_doc))
    return {"entries": len(entries), "kev": len(kev) - 10, "alerts": len(certfr)}


# --- Inventory ------------------------------------------------------------------------------


def inventory(structures: int, per_structure: int):
    from carbet.engines.community.inventory import ProductLine

    rng = random.Random(SEED)
    products = [Product(index, rng) for index in range(3000)]
    line_rng = random.Random(SEED + 1)
    catalogue = products[:300] + [None] * 100  # 100 business apps NVD does not know
    lines = []
    for structure in range(structures):
        for slot in range(per_structure):
            key = structure * per_structure + slot
            product = line_rng.choice(catalogue)
            if product is None:
                number = line_rng.randrange(100)
                lines.append(
                    ProductLine(
                        key,
                        structure,
                        f"Éditeur {number}",
                        f"Logiciel métier {number}",
                        f"{line_rng.randint(1, 9)}.{number % 7}",
                    )
                )
                continue
            branch = line_rng.choice(product.branches)
            version = product.version(branch, line_rng.randint(0, branch[2]))
            if line_rng.random() < 0.1:
                version = ""
            elif product.scheme == "forti" and line_rng.random() < 0.5:
                version = f"v{version} build {line_rng.randint(100, 2000):04d}"
            lines.append(ProductLine(key, structure, product.typed_vendor, product.typed, version))
    return lines


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- Phases, each in a child process ---------------------------------------------------------


def child(phase: str, db: str, structures: int, per_structure: int, sample: int) -> dict:
    from carbet.engines.community.index import build_index
    from carbet.engines.community.matcher import match_all, match_since
    from carbet.engines.exposure.vulns.feeds import FeedStore

    lines = inventory(structures, per_structure)
    store = FeedStore(db, readonly=True)
    before_mb = vm_hwm_mb()
    started, cpu = time.perf_counter(), cpu_s()
    if phase == "naive":
        from carbet.engines.exposure.core import ServiceInfo
        from carbet.engines.exposure.vulns.match import match_service

        chosen = random.Random(SEED + 2).sample(lines, min(sample, len(lines)))
        count = 0
        for line in chosen:
            count += len(
                match_service(
                    ServiceInfo(443, "https", line.product, line.version, line.vendor.lower()),
                    store,
                )
            )
        wall = time.perf_counter() - started
        return {
            "wall": wall,
            "cpu": cpu_s() - cpu,
            "lines": len(chosen),
            "matches": count,
            "peak_mb": vm_hwm_mb(),
            "before_mb": before_mb,
        }
    index = build_index(lines)
    indexed = time.perf_counter() - started
    if phase == "full":
        results = match_all(store, index)
    else:
        results = match_since(store, index, NEW_DAY.isoformat())
    count = versions = products = kev = 0
    structures_hit = set()
    for match in results:
        count += 1
        versions += match.certainty == "version"
        products += match.certainty == "product"
        kev += match.kev
        structures_hit.add(match.structure)
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "index": indexed,
        "cpu": cpu_s() - cpu,
        "matches": count,
        "version": versions,
        "product": products,
        "kev": kev,
        "structures": len(structures_hit),
        "lines": len(lines),
        "pairs": len(index.by_pair),
        "peak_mb": vm_hwm_mb(),
        "before_mb": before_mb,
    }


def run_child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def import_feeds(db: Path, files: list[Path]) -> float:
    from carbet.engines.exposure.vulns.feeds import FeedStore
    from carbet.engines.exposure.vulns.importer import import_file

    store = FeedStore(db)
    started = time.perf_counter()
    for path in files:
        import_file(store, path)
    store.close()
    return time.perf_counter() - started


def store_counts(db: Path) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT count(*) FROM cpe_match").fetchone()[0]
        described = connection.execute("SELECT count(DISTINCT cve_id) FROM cpe_match").fetchone()[0]
    return rows, max(described, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cves", type=int, default=40_000)
    parser.add_argument("--kev", type=int, default=1_400)
    parser.add_argument("--structures", type=int, default=3_000)
    parser.add_argument("--lines", type=int, default=20, help="product lines per structure")
    parser.add_argument("--sample", type=int, default=600, help="lines for the naive anchor")
    parser.add_argument("--quick", action="store_true", help="4,000 CVEs, 300 structures")
    parser.add_argument("--keep", action="store_true", help="keep the feed files and store")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        phase, db, structures, per_structure, sample = options.child
        print(json.dumps(child(phase, db, int(structures), int(per_structure), int(sample))))
        return
    if options.quick:
        options.cves, options.structures, options.kev = 4_000, 300, 300
    folder = Path(tempfile.mkdtemp(prefix="carbet-community-"))
    try:
        bench(options, folder)
    finally:
        if options.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def bench(options: argparse.Namespace, folder: Path) -> None:
    started = time.perf_counter()
    sizes = generate(folder, options.cves, options.kev, max(30, options.cves // 130))
    megabytes = sum(p.stat().st_size for p in folder.glob("*.json")) / 1e6
    print(
        f"feeds written in {time.perf_counter() - started:.1f} s: {sizes['entries']} CVEs, "
        f"{sizes['kev']} KEV, {sizes['alerts']} CERT-FR alerts ({megabytes:.0f} MB of JSON)",
        flush=True,
    )
    db = folder / "feeds.sqlite"
    imported = import_feeds(
        db, [folder / "nvd-2025.json", folder / "kev.json", folder / "certfr.json"]
    )
    rows, described = store_counts(db)
    print(
        f"import (real importer): {imported:.1f} s; {rows} vulnerable cpeMatch rows "
        f"({rows / described:.1f} per described CVE)",
        flush=True,
    )
    lines = options.structures * options.lines
    args = (str(db), str(options.structures), str(options.lines), str(options.sample))
    full = run_child("full", *args)
    print(f"full match done: {full['wall']:.1f} s", flush=True)
    naive = run_child("naive", *args)
    naive_total = naive["wall"] / naive["lines"] * lines
    print(f"naive sample done: {naive['wall']:.1f} s for {naive['lines']} lines", flush=True)
    added = import_feeds(db, [folder / "nvd-new.json", folder / "kev-new.json"])
    daily = run_child("daily", *args)
    cores = os.cpu_count()
    print()
    print(
        f"{options.cves} CVEs, {sizes['kev']} KEV, {sizes['alerts']} CERT-FR alerts; "
        f"{options.structures} structures × {options.lines} = {lines} product lines "
        f"({full['pairs']} CPE pairs); {cores} cores, load average "
        f"{os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}"
    )
    print()
    print(
        "| run | wall s | CPU s | peak MB (before) | matches (version / product) | KEV | "
        "structures hit |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in (("full match_all", full), ("daily match_since (200 new)", daily)):
        print(
            f"| {name} | {row['wall']:.2f} (index {row['index']:.2f}) | {row['cpu']:.2f} | "
            f"{row['peak_mb']:.0f} ({row['before_mb']:.0f}) | {row['matches']} "
            f"({row['version']} / {row['product']}) | {row['kev']} | {row['structures']} |"
        )
    print(
        f"| naive match_service, {naive['lines']} lines | {naive['wall']:.2f} | "
        f"{naive['cpu']:.2f} | {naive['peak_mb']:.0f} ({naive['before_mb']:.0f}) | "
        f"{naive['matches']} observations | — | — |"
    )
    print(f"| naive, extrapolated to {lines} lines | {naive_total:.1f} | — | — | — | — | — |")
    print()
    print(f"import of the new day's feeds: {added:.2f} s")
    print(
        f"ratio naive (extrapolated) / full match: {naive_total / full['wall']:.1f}×; "
        f"per line: naive {naive['wall'] / naive['lines'] * 1000:.2f} ms, "
        f"full {full['wall'] / lines * 1000:.3f} ms"
    )
    verdict = {True: "met", False: "MISSED"}
    print(
        f"aims: full {full['wall']:.1f} s < {AIM_FULL_S:.0f} s {verdict[full['wall'] < AIM_FULL_S]}"
        f"; peak {full['peak_mb']:.0f} MB < {AIM_FULL_MB:.0f} MB "
        f"{verdict[full['peak_mb'] < AIM_FULL_MB]}; daily {daily['wall']:.2f} s < "
        f"{AIM_DAILY_S:.0f} s {verdict[daily['wall'] < AIM_DAILY_S]}"
    )


if __name__ == "__main__":
    main()
