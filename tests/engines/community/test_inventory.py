"""What people type and scanners detect, normalised to CPE; versions out of free text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.community.inventory import parse_version, to_cpe
from carbet.engines.exposure.vulns.cpe import parse_cpe
from carbet.engines.exposure.vulns.versions import compare, in_range, tokens


@pytest.mark.parametrize(
    ("vendor", "product", "version", "expected"),
    [
        ("Fortinet", "Fortinet FortiGate", "v7.0.12 build 0523",
         "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
        ("", "FortiOS 7.0.12", "", "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"),
        ("Microsoft", "Microsoft Windows Server 2012 R2", "6.3.9600",
         "cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*"),
        ("Microsoft", "Windows Server 2019", "10.0.17763.6775",
         "cpe:2.3:o:microsoft:windows_server_2019:10.0.17763.6775:*:*:*:*:*:*:*"),
        ("", "Windows 10 22H2", "10.0.19045.4291",
         "cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.4291:*:*:*:*:*:*:*"),
        ("Citrix", "Citrix NetScaler ADC", "13.1-49.15",
         "cpe:2.3:a:citrix:netscaler_application_delivery_controller:13.1-49.15:*:*:*:*:*:*:*"),
        ("Ivanti", "Ivanti Connect Secure", "22.7R2.4",
         "cpe:2.3:a:ivanti:connect_secure:22.7r2.4:*:*:*:*:*:*:*"),
        ("", "OpenSSH", "8.9p1 Ubuntu-3ubuntu0.6", "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*"),
        ("", "Apache httpd", "2.4.58", "cpe:2.3:a:apache:http_server:2.4.58:*:*:*:*:*:*:*"),
        ("Apache", "httpd", "", "cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*"),
        ("NextGen Healthcare", "Mirth Connect", "4.4.0",
         "cpe:2.3:a:nextgen:mirth_connect:4.4.0:*:*:*:*:*:*:*"),
        ("Veeam", "Backup & Replication", "12.1",
         "cpe:2.3:a:veeam:veeam_backup_\\&_replication:12.1:*:*:*:*:*:*:*"),
        ("Cisco", "Cisco IOS", "15.2(4)M3", "cpe:2.3:o:cisco:ios:15.2\\(4\\)m3:*:*:*:*:*:*:*"),
        # As Active Directory writes them (operatingSystem, operatingSystemVersion): edition
        # words dropped, the build naming the Windows 10/11 release NVD files it under.
        ("Microsoft", "Windows Server 2012 R2 Standard", "6.3 (9600)",
         "cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*"),
        ("Microsoft", "Windows Server 2019 Datacenter", "10.0 (17763)",
         "cpe:2.3:o:microsoft:windows_server_2019:10.0.17763:*:*:*:*:*:*:*"),
        ("", "Windows 10 Professionnel", "10.0 (19045)",
         "cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045:*:*:*:*:*:*:*"),
        ("", "Windows 10 Entreprise LTSC", "10.0 (17763)",
         "cpe:2.3:o:microsoft:windows_10_1809:10.0.17763:*:*:*:*:*:*:*"),
        ("", "Windows 11 Pro for Workstations", "10.0 (22631)",
         "cpe:2.3:o:microsoft:windows_11_23h2:10.0.22631:*:*:*:*:*:*:*"),
        ("Éditeur Santé", "Logiciel de soins", "3.2", ""),
        ("", "", "", ""),
    ],
)  # fmt: skip
def test_to_cpe(vendor, product, version, expected):
    assert to_cpe(vendor, product, version) == expected


def test_to_cpe_round_trips_through_the_scanner_parser():
    cpe = to_cpe("Cisco", "Cisco IOS", "15.2(4)M3")
    parsed = parse_cpe(cpe)
    assert (parsed.vendor, parsed.product, parsed.version) == ("cisco", "ios", "15.2(4)m3")
    assert in_range(parsed.version, vendor="cisco", exact="15.2(4)M3")
    given_cpe = to_cpe("", "cpe:2.3:a:acme:dossier_patient:*:*:*:*:*:*:*:*", "v5.1 build 7")
    assert given_cpe == "cpe:2.3:a:acme:dossier_patient:5.1:*:*:*:*:*:*:*"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v7.0.12 build 0523", "7.0.12 build 0523"),
        ("7.0.12,build0523 (GA)", "7.0.12 build 0523"),
        ("FortiOS v7.2.8 build1639 (Mature)", "7.2.8 build 1639"),
        ("2012 R2", "2012R2"),
        ("15.2(4)M3", "15.2(4)M3"),
        ("9.1R14.3", "9.1R14.3"),
        ("8.9p1 Ubuntu-3ubuntu0.6", "8.9p1"),
        ("version 13.1-49.15", "13.1-49.15"),
        ("10.0.17763.6775", "10.0.17763.6775"),
        ("7.0.12)", "7.0.12"),
        ("inconnue", ""),
        ("", ""),
    ],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_the_build_breaks_ties_only():
    assert compare(parse_version("7.0.12 build 0523"), "7.0.13", "fortinet") < 0
    assert compare(parse_version("v7.0.12,build0601"), "7.0.12 build 0523", "fortinet") > 0
    assert compare(parse_version("7.0.12 build 0523"), "7.0.12", "fortinet") == 0


VERSIONISH = st.text(alphabet="0123456789.-_()+ vVbuildRrpPhGA,:#", max_size=40)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), VERSIONISH))
def test_parse_version_properties(text):
    clean = parse_version(text)  # never raises
    assert parse_version(clean) == clean  # idempotent on its own output
    if clean:
        assert clean[0].isdigit() and tokens(clean)  # comparable
        assert clean == clean.strip() and "\n" not in clean
    if not any(c in "0123456789" for c in text):
        assert clean == ""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=99999), min_size=1, max_size=5))
def test_plain_dotted_versions_are_kept(numbers):
    text = ".".join(map(str, numbers))
    assert parse_version(text) == text
    assert parse_version(f"v{text} (GA)") == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=60), st.text(max_size=30))
def test_to_cpe_never_raises_and_gives_a_parsable_cpe(vendor, product, version):
    cpe = to_cpe(vendor, product, version)
    if cpe:
        parsed = parse_cpe(cpe)
        assert parsed is not None and parsed.vendor and parsed.product
        assert cpe.count(":") - cpe.count("\\:") == 12
