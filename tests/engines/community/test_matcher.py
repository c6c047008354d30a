"""Inventory matched against real feed files (NVD CVE 2.0, CISA KEV and CERT-FR JSON, in the
formats the exposure importer reads), imported with the real importer into a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carbet.engines.community.index import build_index, line_pairs
from carbet.engines.community.inventory import ProductLine
from carbet.engines.community.matcher import Match, match_all, match_since
from carbet.engines.exposure.vulns.feeds import FeedError, FeedStore
from carbet.engines.exposure.vulns.importer import import_file

DATA = Path(__file__).parent / "data"

LINES = [
    ProductLine(1, 101, "Fortinet", "Fortinet FortiGate", "v7.0.12 build 0523"),
    ProductLine(2, 102, "", "FortiOS 7.0.13", ""),
    ProductLine(3, 103, "Fortinet", "FortiOS", "7.0.11,build0489 (GA)"),
    ProductLine(4, 104, "Ivanti", "Ivanti Connect Secure", "22.7R2.4"),
    ProductLine(5, 105, "Ivanti", "Connect Secure", "22.7R2.5"),
    ProductLine(6, 105, "Ivanti", "Connect Secure", ""),
    ProductLine(7, 106, "Microsoft", "Windows Server 2019", "10.0.17763.6775"),
    ProductLine(8, 107, "Microsoft", "Windows Server 2019", "10.0.17763.6893"),
    ProductLine(9, 108, "Citrix", "NetScaler ADC", "14.1-38.53"),
    ProductLine(10, 109, "", "OpenSSH", "9.6p1 Ubuntu-3ubuntu13.5"),
    ProductLine(11, 110, "Apache", "httpd", "2.4.62"),
    ProductLine(12, 110, "Apache", "httpd", "2.4.63"),
    ProductLine(13, 111, "NextGen", "Mirth Connect", "4.4.0"),
    ProductLine(14, 112, "Éditeur Santé", "Logiciel de soins", "3.2"),
    ProductLine(15, 113, "", "PostgreSQL", "16.2"),
    ProductLine(16, 114, "Microsoft", "Windows Server 2012 R2", "6.3.9600"),
    ProductLine(17, 115, "Citrix", "NetScaler ADC", "14.1-43.56"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = FeedStore(tmp_path_factory.mktemp("feeds") / "feeds.sqlite")
    for name in ("nvd.json", "kev.json", "certfr.json", "certfr-site.json"):
        import_file(store, DATA / name)
    yield store
    store.close()


@pytest.fixture(scope="module")
def matches(store) -> list[Match]:
    return list(match_all(store, LINES))


def found(matches: list[Match]) -> dict[tuple[int, str], Match]:
    return {(m.key, m.vuln_id): m for m in matches}


def test_one_match_per_line_and_vulnerability(matches):
    assert len(found(matches)) == len(matches)


def test_every_match_is_expected_and_nothing_else(matches):
    assert sorted(found(matches)) == sorted(
        [
            (1, "CVE-2025-24472"),
            (3, "CVE-2025-24472"),
            (3, "CVE-2023-27997"),
            (4, "CVE-2025-0282"),
            (6, "CVE-2025-0282"),
            (7, "CVE-2025-21000"),
            (7, "CVE-2025-29824"),
            (8, "CVE-2025-29824"),
            (9, "CVE-2025-20004"),
            (9, "CVE-2025-6543"),
            (17, "CVE-2025-6543"),
            (10, "CVE-2025-20002"),
            (11, "CVE-2025-20003"),
            (13, "CVE-2025-20005"),
            (13, "CERTFR-2025-ALE-009"),
            (16, "CVE-2025-21000"),
            (16, "CVE-2025-29824"),
        ]
    )


def test_fortios_7_0_12_is_before_the_fix_7_0_13(matches):
    match = found(matches)[(1, "CVE-2025-24472")]
    assert match.certainty == "version" and match.fixed_in == "7.0.13"
    assert match.sources == ("nvd", "kev", "certfr")
    assert match.kev and match.ransomware and match.cvss == 9.8
    assert match.advisories == ("CERTFR-2025-ALE-002",)
    assert match.title.startswith("Fortinet FortiOS and FortiProxy Authentication Bypass")
    assert match.required_action.startswith("Apply mitigations")
    # Published by NVD on 2025-02-11, news again when KEV added it: the latest date counts.
    assert match.published == "2025-03-18" and match.structure == 101


def test_kev_without_nvd_data_uses_the_vendor_advisory_ranges(matches):
    by = found(matches)
    # CVE-2023-27997 (FG-IR-23-097): fixed in 7.0.12, so 7.0.12 build 0523 is clear, 7.0.11 not.
    assert (1, "CVE-2023-27997") not in by
    fortios = by[(3, "CVE-2023-27997")]
    assert fortios.certainty == "version" and fortios.fixed_in == "7.0.12"
    assert fortios.sources == ("kev",) and fortios.cvss is None
    ivanti = by[(4, "CVE-2025-0282")]
    assert ivanti.certainty == "version" and ivanti.fixed_in == "22.7R2.5"
    assert ivanti.advisories == ("CERTFR-2025-ALE-011",)  # the CERT-FR site's JSON shape
    assert ivanti.sources == ("kev", "certfr")
    assert by[(6, "CVE-2025-0282")].certainty == "product"  # version unknown: to verify


def test_kev_without_nvd_data_nor_advisory_range_is_to_verify(matches):
    by = found(matches)
    for key in (9, 17):  # NetScaler, any version: KEV names it, nothing says which versions
        assert by[(key, "CVE-2025-6543")].certainty == "product"
    for key in (7, 8, 16):  # KEV "Microsoft" / "Windows": every Windows Server line
        assert by[(key, "CVE-2025-29824")].certainty == "product"
        assert by[(key, "CVE-2025-29824")].ransomware


def test_windows_builds_and_release_names(matches):
    by = found(matches)
    assert by[(7, "CVE-2025-21000")].fixed_in == "10.0.17763.6893"
    assert (8, "CVE-2025-21000") not in by  # exactly the fixed build
    assert by[(16, "CVE-2025-21000")].certainty == "version"  # NVD names it "r2"


def test_nvd_threshold_and_certfr(store, matches):
    by = found(matches)
    assert (10, "CVE-2025-20001") not in by  # CVSS 5.3: below 9, not KEV, not CERT-FR
    openssh = by[(10, "CVE-2025-20002")]  # CVSS 6.5 but in a CERT-FR advisory
    assert openssh.sources == ("nvd", "certfr") and openssh.advisories == ("CERTFR-2025-AVI-0100",)
    assert openssh.fixed_in == "9.9p2" and openssh.title == "Multiples vulnérabilités dans OpenSSH"
    lower = found(list(match_all(store, LINES, nvd_min_cvss=5.0)))
    assert lower[(10, "CVE-2025-20001")].sources == ("nvd",)


def test_end_including_and_every_version(matches):
    by = found(matches)
    assert by[(11, "CVE-2025-20003")].certainty == "version"
    assert by[(11, "CVE-2025-20003")].fixed_in == ""  # NVD gave the last affected, not the fix
    assert (12, "CVE-2025-20003") not in by
    assert by[(13, "CVE-2025-20005")].certainty == "product"  # NVD: "every version"
    alert = by[(13, "CERTFR-2025-ALE-009")]  # no CVE: matched by the alert's product text
    assert alert.sources == ("certfr",) and alert.certainty == "product"
    assert alert.published == "2025-08-04"


def test_never_a_structure_that_does_not_run_the_product(matches):
    structures = {m.structure for m in matches}
    assert 112 not in structures and 113 not in structures  # business app, PostgreSQL
    assert 102 not in structures  # FortiOS 7.0.13: fixed everywhere
    assert {m.vuln_id for m in matches if m.structure == 105} == {"CVE-2025-0282"}
    assert {m.key for m in matches if m.structure == 105} == {6}  # 22.7R2.5 is fixed


def test_versionless_line_only_product_certainty(store):
    lines = [ProductLine(1, 1, "Fortinet", "FortiOS", ""), ProductLine(2, 2, "", "OpenSSH", "")]
    result = list(match_all(store, lines))
    assert result and all(m.certainty == "product" for m in result)
    assert {m.vuln_id for m in result if m.key == 1} == {"CVE-2025-24472", "CVE-2023-27997"}


def test_a_line_given_by_cpe(store):
    line = ProductLine(1, 1, "", "", "", "cpe:2.3:o:fortinet:fortios:7.2.8:*:*:*:*:*:*:*")
    assert {m.vuln_id: m.fixed_in for m in match_all(store, [line])} == {"CVE-2025-24472": "7.2.9"}


def test_daily_match_only_new_entries(store, matches):
    since = list(match_since(store, LINES, "2025-12-01"))
    assert [(m.key, m.vuln_id) for m in since] == [(11, "CVE-2025-20003")]  # modified 12-20
    june = found(list(match_since(store, LINES, "2025-06-01")))
    assert sorted(june) == sorted(
        [(11, "CVE-2025-20003"), (9, "CVE-2025-20004"), (9, "CVE-2025-6543"),
         (17, "CVE-2025-6543"), (13, "CERTFR-2025-ALE-009")]
    )  # fmt: skip
    everything = found(matches)
    assert all(everything[pair] == match for pair, match in june.items())
    assert list(match_since(store, LINES, "2026-01-01")) == []


def test_index_shares_versions_and_an_empty_inventory(store):
    index = build_index([LINES[0], LINES[0].__class__(99, 200, "Fortinet", "FortiGate", "7.0.12")])
    holders = index.by_pair[("fortinet", "fortios")]
    assert list(holders) == ["7.0.12 build 0523", "7.0.12"]
    assert list(match_all(store, [])) == [] and list(match_since(store, [], "2025-01-01")) == []
    pairs, version = line_pairs(LINES[3])
    assert ("ivanti", "connect_secure") in pairs and version == "22.7R2.4"


def test_store_streams_rows_by_product_cve_and_score(store):
    rows = list(store.stream_rows(products={"openssh"}))
    assert [r.cve_id for r in rows] == ["CVE-2025-20001", "CVE-2025-20002"]
    assert rows[0].published.startswith("2025-03-03") and rows[0].cvss == 5.3
    assert [r.cve_id for r in store.stream_rows(products={"openssh"}, min_cvss=9.0)] == [
        "CVE-2025-20002"  # 6.5, but CERT-FR names it
    ]
    only = list(store.stream_rows(cves={"CVE-2025-21000"}))
    assert {r.product for r in only} == {
        "windows_server_2019",
        "windows_server_2022",
        "windows_server_2012",
    }
    assert [r.cve_id for r in store.stream_rows()] == sorted(r.cve_id for r in store.stream_rows())
    assert store.changed_since("2025-12-01") == {"CVE-2025-20003"}
    assert store.described({"CVE-2025-0282", "CVE-2025-20003"}) == {"CVE-2025-20003"}
    kev = {r.cve_id: r for r in store.kev_records()}
    assert kev["CVE-2025-0282"].nvd_products == 0 and kev["CVE-2025-24472"].nvd_products == 2
    alerts = {a.id: a for a in store.certfr_records()}
    assert alerts["CERTFR-2025-ALE-011"].products == ("Ivanti Connect Secure",)
    assert alerts["CERTFR-2025-ALE-011"].date.startswith("2025-01-09")


@pytest.mark.parametrize(
    "alert",
    [
        {"id": "CERTFR-X", "cves": True},
        {"id": "CERTFR-X", "products": 1},
        {"id": "CERTFR-X", "affected_systems": [{"product": {"vendor": "Ivanti", "name": 3}}]},
        {"id": "CERTFR-X", "cves": [{"name": 7}]},
    ],
)
def test_hostile_certfr_alerts_are_refused_or_read_without_crashing(tmp_path, alert):
    path = tmp_path / "certfr.json"
    path.write_text(json.dumps({"alerts": [alert]}))
    store = FeedStore(tmp_path / "feeds.sqlite")
    try:
        import_file(store, path)
    except FeedError as error:
        assert str(error).startswith("certfr.json: CERTFR-X: ")
    else:
        assert store.certfr_records()[0].products == ()
    finally:
        store.close()
