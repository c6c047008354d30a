"""KEV entries matched by KEV's own vendor and product when NVD has not described them.

The store holds the NVD test records (which describe CVE-2024-21762 for FortiOS and
CVE-2024-21887 for Ivanti) and a KEV catalogue and CERT-FR export written here: the other
appliance CVEs have no NVD data at all, as happens for weeks after an appliance flaw is
exploited. NVD still decides whatever it describes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure.checks import get
from carbet.engines.exposure.core import ServiceInfo
from carbet.engines.exposure.vulns import appliances
from carbet.engines.exposure.vulns.feeds import FeedStore
from carbet.engines.exposure.vulns.importer import import_file
from carbet.engines.exposure.vulns.match import match_services
from carbet.engines.exposure.vulns.versions import canonical, compare, in_range, tokens

DATA = Path(__file__).parent / "data"
KEV = [
    ("CVE-2024-21762", "Fortinet", "FortiOS", "Fortinet FortiOS Out-of-Bound Write"),
    ("CVE-2023-27997", "Fortinet", "FortiOS and FortiProxy SSL-VPN",
     "Fortinet FortiOS Heap Overflow"),
    ("CVE-2022-42475", "Fortinet", "FortiOS", "Fortinet FortiOS Heap Buffer Overflow"),
    ("CVE-2024-55591", "Fortinet", "FortiOS and FortiProxy",
     "Fortinet FortiOS Authentication Bypass"),
    ("CVE-2024-21887", "Ivanti", "Connect Secure and Policy Secure", "Ivanti Command Injection"),
    ("CVE-2025-0282", "Ivanti", "Connect Secure, Policy Secure, and ZTA Gateways",
     "Ivanti Stack Overflow"),
    ("CVE-2023-4966", "Citrix", "NetScaler ADC and NetScaler Gateway", "Citrix Bleed"),
    ("CVE-2023-3519", "Citrix", "NetScaler ADC and NetScaler Gateway", "Citrix Code Injection"),
    ("CVE-2025-5777", "Citrix", "NetScaler ADC and Gateway", "Citrix Out-of-Bounds Read"),
    ("CVE-2024-3400", "Palo Alto Networks", "PAN-OS", "PAN-OS Command Injection"),
    ("CVE-2020-3452", "Cisco",
     "Adaptive Security Appliance (ASA) and Firepower Threat Defense (FTD)",
     "Cisco ASA and FTD Read-Only Path Traversal"),
    ("CVE-2021-20038", "SonicWall", "SMA100 Appliances", "SonicWall SMA 100 Stack Overflow"),
    ("CVE-2021-26855", "Microsoft", "Exchange Server", "Microsoft Exchange Server RCE"),
    ("CVE-2023-20118", "Cisco", "Small Business RV Series Routers", "Cisco RV Command Injection"),
]  # fmt: skip
CERTFR = {
    "alerts": [
        {
            "id": "CERTFR-TEST-ALE-4966",
            "title": "Vulnérabilité dans Citrix NetScaler ADC et NetScaler Gateway (essai)",
            "date": "2023-10-18",
            "cves": ["CVE-2023-4966"],
            "products": ["Citrix NetScaler ADC"],
        }
    ]
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kev-vendor")
    catalogue = {
        "catalogVersion": "2025.07.01",
        "dateReleased": "2025-07-01T12:00:00.000Z",
        "vulnerabilities": [
            {
                "cveID": cve, "vendorProject": vendor, "product": product,
                "vulnerabilityName": name, "dateAdded": f"2025-01-{index + 1:02d}",
                "dueDate": "2025-02-01", "knownRansomwareCampaignUse": "Known",
                "requiredAction": "Apply mitigations per vendor instructions.",
            }
            for index, (cve, vendor, product, name) in enumerate(KEV)
        ],
    }  # fmt: skip
    (folder / "kev.json").write_text(json.dumps(catalogue))
    (folder / "certfr.json").write_text(json.dumps(CERTFR))
    store = FeedStore(folder / "feeds.sqlite")
    for path in (DATA / "nvd.json", folder / "kev.json", folder / "certfr.json"):
        import_file(store, path)
    yield store
    store.close()


def found(store, product, version="", port=443, **extra):  # type: ignore[no-untyped-def]
    service = ServiceInfo(port, "https", product, version, extra=dict(extra))
    return match_services([service], store)


def kev_cves(observations) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(o.cve for o in observations if o.check == "vuln.kev")


def to_verify(observations) -> list[str]:  # type: ignore[no-untyped-def]
    (listing,) = [o for o in observations if o.check == "vuln.kev_unverified"] or [None]
    return sorted(item["cve"] for item in listing.evidence["kev"]) if listing else []


def test_citrix_matched_through_kev_with_fixed_version_and_certfr(store):
    observations = found(store, "Citrix NetScaler ADC", "13.1-49.13")
    assert kev_cves(observations) == ["CVE-2023-4966", "CVE-2025-5777"]  # 3519 fixed in 49.13
    bleed = next(o for o in observations if o.cve == "CVE-2023-4966")
    assert bleed.severity == 4 and bleed.kev and bleed.title == "CVE-2023-4966 — Citrix Bleed"
    assert bleed.evidence["fixed_version"] == "13.1-49.15"
    assert bleed.evidence["advisory"] == "CTX579459"
    assert bleed.evidence["certfr"] == ["CERTFR-TEST-ALE-4966"]
    assert "13.1-49.15" in bleed.detail and "CERTFR-TEST-ALE-4966" in bleed.detail
    assert to_verify(observations) == []
    assert kev_cves(found(store, "Citrix NetScaler ADC", "14.1-43.56")) == []


def test_nvd_decides_what_it_describes_and_kev_fills_the_rest(store):
    observations = found(store, "Fortinet FortiOS", "7.0.12 build 0523")
    # 21762 through NVD (fixed in 7.0.14 per its range); 27997 fixed in 7.0.12; 42475 in 7.0.9.
    assert kev_cves(observations) == ["CVE-2024-21762"]
    nvd = observations[0]
    assert nvd.evidence["fixed_version"] == "7.0.14" and "7.0.14" in nvd.detail
    assert "source" not in nvd.evidence  # the NVD path, not the KEV fallback
    assert to_verify(observations) == ["CVE-2024-55591"]  # no NVD, no known ranges
    older = found(store, "Fortinet FortiOS", "7.0.11")
    assert kev_cves(older) == ["CVE-2023-27997", "CVE-2024-21762"]
    fallback = next(o for o in older if o.cve == "CVE-2023-27997")
    assert fallback.evidence["fixed_version"] == "7.0.12"
    assert fallback.evidence["advisory"] == "FG-IR-23-097"


def test_an_appliance_without_version_lists_its_kev_entries_to_check(store):
    observations = found(store, "Palo Alto GlobalProtect", appliance="vpn")
    assert kev_cves(observations) == []
    assert to_verify(observations) == ["CVE-2024-3400"]
    (listing,) = observations
    assert listing.severity is None and get("vuln.kev_unverified").severity == 2  # medium
    assert "version inconnue" in listing.detail
    forti = found(store, "Fortinet FortiGate SSL VPN")
    assert to_verify(forti) == ["CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762",
                                "CVE-2024-55591"]  # fmt: skip


def test_palo_alto_hotfixes(store):
    assert kev_cves(found(store, "Palo Alto PAN-OS", "10.2.8")) == ["CVE-2024-3400"]
    assert kev_cves(found(store, "Palo Alto PAN-OS", "10.2.8-h3")) == []
    assert kev_cves(found(store, "Palo Alto PAN-OS", "10.2.10")) == []
    assert kev_cves(found(store, "Palo Alto PAN-OS", "11.1.2-h1")) == ["CVE-2024-3400"]


def test_ivanti_partial_versions_are_never_guessed(store):
    partial = found(store, "Ivanti Connect Secure", "22.7R2 build 3191", version_partial=True)
    assert kev_cves(partial) == [] and to_verify(partial) == ["CVE-2025-0282"]
    exact = found(store, "Ivanti Connect Secure", "22.7R2.3")
    assert kev_cves(exact) == ["CVE-2025-0282"]
    assert next(o for o in exact if o.kev).evidence["fixed_version"] == "22.7R2.5"
    earlier = found(store, "Ivanti Connect Secure", "22.7R1 build 1234", version_partial=True)
    assert kev_cves(earlier) == [] and to_verify(earlier) == []


def test_cisco_asa_kev_without_ranges_is_listed_with_the_version(store):
    observations = found(store, "Cisco ASA", "9.16(4)27")
    assert to_verify(observations) == ["CVE-2020-3452"]  # never the RV routers' entry
    assert "9.16(4)27" in observations[0].detail


def test_sonicwall_and_exchange(store):
    sma = found(store, "SonicWall SMA", "10.2.1.2-24sv")
    assert kev_cves(sma) == ["CVE-2021-20038"]
    assert next(o for o in sma if o.kev).evidence["fixed_version"] == "10.2.1.3-27sv"
    assert kev_cves(found(store, "SonicWall SMA", "10.2.1.3-27sv")) == []
    assert kev_cves(found(store, "Microsoft Exchange", "15.2.792.3")) == ["CVE-2021-26855"]
    assert kev_cves(found(store, "Microsoft Exchange", "15.2.792.10")) == []
    assert kev_cves(found(store, "Microsoft Exchange", "15.2.858.5")) == []
    # an OWA path's build stops before the security update's number: a cumulative update that
    # received a March 2021 update (2019 CU4, 15.2.529 → 15.2.529.13) cannot be decided...
    cu4 = found(store, "Microsoft Exchange", "15.2.529", version_partial=True)
    assert kev_cves(cu4) == [] and to_verify(cu4) == ["CVE-2021-26855"]
    # ...an older one with no update of its own is affected whatever follows
    rtm_2016 = found(store, "Microsoft Exchange", "15.1.225", version_partial=True)
    assert kev_cves(rtm_2016) == ["CVE-2021-26855"]
    assert kev_cves(found(store, "Microsoft Exchange", "15.1.1779.8")) == []  # CU13 + update
    assert kev_cves(found(store, "Microsoft Exchange", "15.1.1779.7")) == ["CVE-2021-26855"]
    cu8 = found(store, "Microsoft Exchange", "15.2.792", version_partial=True)
    assert kev_cves(cu8) == [] and to_verify(cu8) == ["CVE-2021-26855"]


def test_exchange_builds_are_judged_by_the_advisory_even_when_nvd_names_the_cve(tmp_path):
    """NVD files Exchange by year and cumulative update, never by build: its entries cannot
    decide for the build a scan reads, so the advisory's build ranges do."""
    store = FeedStore(tmp_path / "feeds.sqlite")
    store.begin()
    store.put_cves(
        [
            (
                ("CVE-2021-26855", "2021-03-02", "2021-03-02", 9.8, "3.1", "", "ProxyLogon"),
                [("CVE-2021-26855", "microsoft", "exchange_server", "2019", "", "", "", "",
                  "cpe:2.3:a:microsoft:exchange_server:2019:cumulative_update_8:*:*:*:*:*:*")],
            )
        ]
    )  # fmt: skip
    store.put_kev(
        [("CVE-2021-26855", "Microsoft", "Exchange Server", "Microsoft Exchange Server RCE",
          "2021-11-03", "2021-04-16", "Known", "Apply updates.")]
    )  # fmt: skip
    store.commit()
    try:
        assert kev_cves(found(store, "Microsoft Exchange", "15.2.792.3")) == ["CVE-2021-26855"]
        assert found(store, "Microsoft Exchange", "15.2.792.10") == []
    finally:
        store.close()


def test_kev_products_match_whole_words_only():
    assert appliances.kev_concerns("cisco_asa", "Cisco", "Adaptive Security Appliance (ASA)")
    assert not appliances.kev_concerns("cisco_asa", "Cisco", "Small Business RV Series Routers")
    assert appliances.kev_concerns("sonicwall_sma", "SonicWall", "SMA1000 Appliances")
    assert not appliances.kev_concerns("fortios", "Fortinet", "FortiWeb")
    assert not appliances.kev_concerns("fortios", "Other", "FortiOS")


# --- vendor-aware versions (hypothesis) ---------------------------------------------------------

VERSION = st.from_regex(
    r"\A(?:v?\d{1,3}(?:[.\-]\d{1,4}){0,4}(?:[Rr]\d{1,3}(?:\.\d{1,3})?)?(?:-h\d{1,2}|p\d|sv)?"
    r"|\d{1,2}\.\d{1,2}\(\d{1,3}\)\d{0,3})(?: build \d{1,5})?\Z"
)


@given(VERSION, VERSION)
def test_compare_is_antisymmetric(a, b):
    for vendor in ("", "ivanti", "citrix", "paloaltonetworks", "cisco", "fortinet"):
        assert compare(a, b, vendor) == -compare(b, a, vendor)


@given(VERSION, VERSION, VERSION)
def test_compare_is_transitive(a, b, c):
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0


@given(st.text(max_size=60), st.sampled_from(["", "ivanti", "pulsesecure", "citrix", "cisco"]))
def test_canonical_and_tokens_never_raise(text, vendor):
    value = canonical(text, vendor)
    assert isinstance(tokens(value), list)
    in_range(value, vendor=vendor, start_including="1.0", end_excluding="99.0")


@given(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99999))
def test_ivanti_dotted_versions_read_as_releases(major, minor, release, build):
    dotted = f"{major}.{minor}.{release}.{build}"
    assert canonical(dotted, "ivanti") == f"{major}.{minor}R{release} build {build}"
    assert compare(canonical(dotted, "ivanti"), f"{major}.{minor}R{release}.1", "ivanti") < 0
    assert canonical(dotted, "citrix") == dotted


@given(st.sampled_from(sorted(appliances.KNOWN_FIXES)), VERSION, st.booleans())
def test_assessing_any_version_against_any_known_fix_never_raises(cve, version, partial):
    state, fixed = appliances.KNOWN_FIXES[cve].assess(version, partial=partial)
    assert state in (appliances.AFFECTED, appliances.CLEAR, appliances.UNSURE)
    assert bool(fixed) == (state != appliances.CLEAR)


def test_ranges_corrected_against_the_advisories():
    """The corrections of issue 19 (each checked against the advisory's CVE record or CERT)."""
    fixes = appliances.KNOWN_FIXES
    # FG-IR-22-398 lists 5.0 to 5.6 too, with no fix in those branches
    assert fixes["CVE-2022-42475"].assess("5.6.14") == (appliances.AFFECTED, "6.0.16")
    assert fixes["CVE-2022-42475"].assess("6.0.16")[0] == appliances.CLEAR
    # FG-IR-24-015: no 6.0 fix, migrate to a fixed branch
    assert fixes["CVE-2024-21762"].assess("6.0.17") == (appliances.AFFECTED, "6.2.16")
    # SA44101's CVE-2019-11510 does not name 8.1
    assert fixes["CVE-2019-11510"].assess("8.1R14")[0] == appliances.CLEAR
    assert fixes["CVE-2019-11510"].assess("9.0R3.3") == (appliances.AFFECTED, "9.0R3.4")
