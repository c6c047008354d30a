"""Detected product/version → CPE → NVD ranges, with KEV/EPSS/CVSS priority; the comparator."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.checks import get
from carbet.engines.exposure.core import ScanConfig, ServiceInfo
from carbet.engines.exposure.vulns.cpe import candidates, parse_cpe
from carbet.engines.exposure.vulns.feeds import FeedStore
from carbet.engines.exposure.vulns.importer import import_file
from carbet.engines.exposure.vulns.match import default_store, match_services
from carbet.engines.exposure.vulns.versions import compare, in_range, tokens

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = FeedStore(tmp_path_factory.mktemp("feeds") / "feeds.sqlite")
    for name in ("nvd.json", "kev.json", "epss.csv", "certfr.json"):
        import_file(store, DATA / name)
    yield store
    store.close()


def cves(observations) -> list[str]:
    return [o.cve for o in observations]


def test_openssh_on_ssh_port_is_raised(store):
    found = match_services([ServiceInfo(22, "ssh", "OpenSSH", "8.9p1")], store)
    assert cves(found) == ["CVE-2024-6387", "CVE-2023-38408"]  # EPSS 0.39 before 0.05
    regresshion, agent = found
    assert regresshion.check == "vuln.cve" and regresshion.cvss == 8.1
    assert regresshion.epss == pytest.approx(0.3875)
    assert regresshion.severity == 4  # high (8.1) raised one level: SSH is remote access
    assert regresshion.evidence["raised_for_exposure"] is True
    assert regresshion.port == 22 and regresshion.product == "OpenSSH 8.9p1"
    assert agent.severity == 4


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("9.3p1", ["CVE-2024-6387", "CVE-2023-38408"]),
        ("9.3p2", ["CVE-2024-6387"]),
        ("9.8p1", []),
        ("8.4p1", ["CVE-2023-38408"]),
        ("8.9p1 Ubuntu-3ubuntu0.6", ["CVE-2024-6387", "CVE-2023-38408"]),
    ],
)
def test_openssh_ranges(store, version, expected):
    assert cves(match_services([ServiceInfo(2222, "ssh", "OpenSSH", version)], store)) == expected


def test_fortios_build_numbers_and_kev(store):
    found = match_services(
        [ServiceInfo(10443, "https", "Fortinet FortiOS", "7.0.12 build 0601")], store
    )
    (kev,) = found
    assert kev.check == "vuln.kev" and kev.kev and kev.severity == 4
    assert kev.title.startswith("CVE-2024-21762 — Fortinet FortiOS")
    assert kev.evidence["certfr"] == ["CERTFR-2024-ALE-005"]
    assert get("vuln.kev").severity == 4
    assert match_services([ServiceInfo(443, "https", "FortiOS", "7.0.14 build 0601")], store) == []
    assert cves(match_services([ServiceInfo(443, "https", "FortiOS", "v7.2.6,build1575")], store))


def test_ivanti_releases(store):
    def hit(version):
        return cves(
            match_services([ServiceInfo(443, "https", "Ivanti Connect Secure", version)], store)
        )

    assert hit("9.1R14") == ["CVE-2024-21887"]
    assert hit("9.1r18") == ["CVE-2024-21887"]
    assert hit("9.1R15") == []
    assert hit("22.6R2") == ["CVE-2024-21887"]
    # Pulse Secure's old name maps to the same products
    assert cves(
        match_services([ServiceInfo(443, "https", "Pulse Connect Secure", "9.1R14")], store)
    )


def test_cisco_and_nginx_and_orthanc(store):
    cisco = match_services([ServiceInfo(23, "telnet", "Cisco IOS", "15.2(4)M3")], store)
    assert cves(cisco) == ["CVE-2017-6663"] and cisco[0].severity == 3  # 6.5 raised: telnet
    assert match_services([ServiceInfo(80, "http", "Cisco IOS", "15.2(4)M4")], store) == []
    nginx = match_services([ServiceInfo(80, "http", "nginx", "1.18.0")], store)
    assert cves(nginx) == ["CVE-2021-23017"]
    assert nginx[0].severity == 3  # 7.7 is high; EPSS 0.61 keeps it high; HTTP not raised
    assert match_services([ServiceInfo(80, "http", "nginx", "1.20.1")], store) == []
    dicom = match_services([ServiceInfo(4242, "dicom", "Orthanc", "1.12.1")], store)
    assert cves(dicom) == ["CVE-2025-0001"] and dicom[0].severity == 3  # medium raised


def test_unbounded_match_and_unknowns_claim_nothing(store):
    assert match_services([ServiceInfo(6379, "redis", "Redis", "7.2.4")], store) == []
    assert match_services([ServiceInfo(80, "http", "nginx", "")], store) == []
    assert match_services([ServiceInfo(80, "http", "", "")], store) == []
    assert match_services([ServiceInfo(22, "ssh", "OpenSSH", "9.3p1")], None) == []


def test_kev_first_across_services(store):
    found = match_services(
        [ServiceInfo(22, "ssh", "OpenSSH", "8.9p1"), ServiceInfo(443, "https", "FortiOS", "7.0.1")],
        store,
    )
    assert found[0].cve == "CVE-2024-21762"


def test_cpe_from_the_service(store):
    service = ServiceInfo(443, "https", cpe="cpe:2.3:o:fortinet:fortios:7.4.2:*:*:*:*:*:*:*")
    assert cves(match_services([service], store)) == ["CVE-2024-21762"]
    assert candidates("OpenSSH") == [("openbsd", "openssh")]
    # a banner-built CPE under an old name still reaches NVD's current one
    assert candidates("nginx", "nginx", "cpe:2.3:a:nginx:nginx:1.18.0:*:*:*:*:*:*:*") == [
        ("nginx", "nginx"),
        ("f5", "nginx"),
    ]
    iis = ServiceInfo(
        80,
        "http",
        "Microsoft IIS",
        "10.0",
        vendor="microsoft",
        cpe="cpe:2.3:a:microsoft:iis:10.0:*:*:*:*:*:*:*",
    )
    assert ("microsoft", "internet_information_services") in candidates(
        iis.product, iis.vendor, iis.cpe
    )
    nginx = ServiceInfo(
        80, "http", "nginx", "1.18.0", vendor="f5", cpe="cpe:2.3:a:f5:nginx:1.18.0:*:*:*:*:*:*:*"
    )
    assert cves(match_services([nginx], store)) == ["CVE-2021-23017"]
    assert parse_cpe("cpe:2.3:o:cisco:ios:15.2\\(4\\)m3:*:*:*:*:*:*:*").version == "15.2(4)m3"
    assert parse_cpe("cpe:/a:old:format") is None


def test_default_store_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CARBET_FEEDS_DB", str(tmp_path / "absent.sqlite"))
    assert default_store(ScanConfig()) is None
    FeedStore(tmp_path / "present.sqlite").close()
    monkeypatch.setenv("CARBET_FEEDS_DB", str(tmp_path / "present.sqlite"))
    store = default_store(ScanConfig())
    assert store is not None and store.counts()["nvd"] == 0
    store.close()
    monkeypatch.delenv("CARBET_FEEDS_DB")
    monkeypatch.setenv("CARBET_DATA_DIR", str(tmp_path))
    assert default_store(ScanConfig()) is None  # no feeds.sqlite there
    (tmp_path / "feeds.sqlite").write_text("not a database")
    assert default_store(ScanConfig()) is None  # unreadable: the scan goes on without feeds


ORDERED = [
    ("8.9", "8.9p1"),
    ("8.9p1", "8.9p2"),
    ("8.9p2", "9.0"),
    ("9.3p1", "9.3p2"),
    ("9.1R9", "9.1R14"),
    ("9.1R14", "9.1R14.3"),
    ("9.1R14.3", "9.1R15"),
    ("7.0.12 build 0601", "7.0.13"),
    ("7.0.12 build 0523", "7.0.12 build 0601"),
    ("15.2(4)M3", "15.2(4)M10"),
    ("15.2(4)M10", "15.2(5)E"),
    ("2.0rc1", "2.0"),
    ("2.0beta2", "2.0rc1"),
    ("1.1.1", "1.1.1a"),
    ("1.1.1z", "1.1.2"),
    ("1.9", "1.10"),
    ("v2.4.57", "2.4.58"),
]


@pytest.mark.parametrize(("low", "high"), ORDERED)
def test_vendor_versions_order(low, high):
    assert compare(low, high) == -1 and compare(high, low) == 1


def test_equal_forms():
    assert compare("9.1R14", "9.1r14") == 0
    assert compare("7.0.12 build 0601", "7.0.12") == 0  # NVD never speaks of builds
    assert compare("15.2\\(4\\)m3", "15.2(4)M3") == 0
    assert in_range("7.0.12 build 0601", start_including="7.0.0", end_excluding="7.0.14")
    assert not in_range("", end_excluding="1.0")


versions = st.lists(
    st.one_of(
        st.integers(0, 30).map(str), st.sampled_from(["p", "r", "R", "rc", "beta", "m", "a"])
    ),
    min_size=1,
    max_size=6,
).flatmap(
    lambda parts: st.lists(
        st.sampled_from([".", "", "-", "(", ")", " build "]),
        min_size=len(parts),
        max_size=len(parts),
    ).map(lambda seps: "".join(p + s for p, s in zip(parts, seps, strict=True)))
)


@settings(max_examples=150, deadline=None)
@given(versions, versions, versions)
def test_comparator_is_a_total_order(a, b, c):
    assert compare(a, a) == 0
    assert compare(a, b) == -compare(b, a)
    if compare(a, b) <= 0 and compare(b, c) <= 0:
        assert compare(a, c) <= 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_comparator_never_crashes(a, b):
    assert compare(a, b) in (-1, 0, 1)
    tokens(a)
    in_range(a, start_including=b, end_excluding=b)
