"""FortiGate SSL-VPN and GlobalProtect portals: the firmware's build date, and what it proves.

The portals are real HTTPS servers on loopback answering with response shapes written for
these tests after the way the two products present themselves: a login page linking its
static files, and those files served with an ``ETag`` whose last eight hex digits are the
build's Unix time (FortiOS ``"<size>_<n>_<time>"``, PAN-OS ``"<4 hex><time>"``) and the same
moment as ``Last-Modified``; PAN-OS 10.0.4 and later send no ETag. No vendor file is copied.
The scan is the real path (``scan_address``, then ``match_services``; ``carbet scan --json``
as a subprocess for the contract); the verdicts are then checked one by one at a fixed date.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.exposure.core import ScanConfig, ScanContext, ServiceInfo, TargetResult
from carbet.engines.exposure.ports.probe import scan_address
from carbet.engines.exposure.vulns import builds
from carbet.engines.exposure.vulns.feeds import FeedStore
from carbet.engines.exposure.vulns.match import match_services
from carbet.engines.exposure.web import builddate

from ..engine_tls.servers import LoopbackServers, http_handler, make_ca, make_leaf

ROOT = Path(__file__).resolve().parents[3]
BLOCK = os.getpid() % 200
TODAY = date(2026, 12, 6)
HTML = [("Content-Type", "text/html; charset=utf-8")]

FORTI_OLD = datetime(2021, 6, 1, 9, 12, 40, tzinfo=UTC)  # before every SSL-VPN fix since 2022
FORTI_RECENT = datetime(2024, 6, 3, 15, 0, 0, tzinfo=UTC)  # after the 2024-02 fix
GP_OLD = datetime(2019, 3, 1, 4, 30, 0, tzinfo=UTC)
GP_2023 = datetime(2023, 9, 1, 11, 0, 0, tzinfo=UTC)  # before CVE-2024-3400's hotfixes


def fortios_etag(moment: datetime, size: int = 0x2F8A) -> str:
    return f'"{size:x}_{0x1A3:x}_{int(moment.timestamp()):08x}"'


def panos_etag(moment: datetime) -> str:
    return f'"6e18{int(moment.timestamp()):08x}"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


FORTI_LOGIN = b"""<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<title>SSL VPN</title><script src="/remote/fgt_lang?lang=en"></script>
<script type="text/javascript" src="/sslvpn/js/login.js?q=8a4c2e17d0b35f96"></script>
<link href="/sslvpn/css/login.css" rel="stylesheet"></head>
<body class="main-app"><form action="/remote/logincheck" method="post" name="f">
<input id="username" name="username"><input id="credential" name="credential" type="password">
</form></body></html>"""
FORTI_JS = b"/* login.js */ function try_login(){return false;}\n"
GP_LOGIN = b"""<html><head><title>GlobalProtect Portal</title>
<link rel="stylesheet" href="/global-protect/portal/css/login.css"></head>
<body><form name="login" action="/global-protect/login.esp" method="post">
<input name="user"><input name="passwd" type="password"></form></body></html>"""
GP_CSS = b"body{font-family:Arial}.login-box{width:320px}\n"


def static(body: bytes, *headers: tuple[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "application/octet-stream"), *headers], body


def forti(built: datetime) -> dict[str, tuple[int, list[tuple[str, str]], bytes]]:
    return {
        "/": (302, [("Location", "/remote/login?lang=en")], b""),
        "/remote/login?lang=en": (200, HTML, FORTI_LOGIN),
        "/sslvpn/js/login.js": static(
            FORTI_JS, ("ETag", fortios_etag(built)), ("Last-Modified", http_date(built))
        ),
    }


def globalprotect(*headers: tuple[str, str]) -> dict[str, tuple[int, list, bytes]]:
    return {
        "/": (302, [("Location", "/global-protect/login.esp")], b""),
        "/global-protect/login.esp": (200, HTML, GP_LOGIN),
        "/global-protect/portal/css/login.css": static(GP_CSS, *headers),
    }


PORTALS = {
    "forti_old": forti(FORTI_OLD),
    "forti_recent": forti(FORTI_RECENT),
    "gp_etag": globalprotect(("ETag", panos_etag(GP_OLD))),
    # PAN-OS 10.0.4 and later: no ETag any more, the Last-Modified alone
    "gp_last_modified": globalprotect(("Last-Modified", http_date(GP_2023))),
    "gp_nothing": globalprotect(),
    # an ETag whose time is 2005 and a Last-Modified in the future: neither is a build
    "gp_implausible": globalprotect(
        ("ETag", panos_etag(datetime(2005, 1, 1, tzinfo=UTC))),
        ("Last-Modified", "Sat, 01 Jan 2061 00:00:00 GMT"),
    ),
}


@pytest.fixture(scope="module")
def portals():
    servers = LoopbackServers()
    ca = make_ca()
    spots = {}
    for index, (name, routes) in enumerate(PORTALS.items(), start=1):
        context = servers.tls_context(make_leaf(ca, [f"{name}.example.test"]))
        spots[name] = servers.add(name, f"127.61.{BLOCK}.{index}", http_handler(routes), context)
    yield spots
    servers.close()


def fingerprint(endpoint) -> ServiceInfo:  # type: ignore[no-untyped-def]
    config = ScanConfig(
        ports=(endpoint.port,), port_hints=((endpoint.port, "https"),), read_timeout=3.0
    )
    result = TargetResult(endpoint.address, kind="ip", addresses=[endpoint.address])
    asyncio.run(scan_address(ScanContext(config), result, endpoint.address))
    (service,) = result.services
    return service


@pytest.mark.parametrize(
    ("name", "day", "source"),
    [
        ("forti_old", "2021-06-01", "ETag + Last-Modified de /sslvpn/js/login.js"),
        ("forti_recent", "2024-06-03", "ETag + Last-Modified de /sslvpn/js/login.js"),
        ("gp_etag", "2019-03-01", "ETag de /global-protect/portal/css/login.css"),
        ("gp_last_modified", "2023-09-01", "Last-Modified de /global-protect/portal/css/login.css"),
    ],
)
def test_the_build_date_is_read_from_the_static_files(portals, name, day, source):
    service = fingerprint(portals[name])
    assert service.version == ""  # no version is invented from a date
    assert service.extra["build_date"] == day
    assert service.extra["build_source"] == source


def test_the_portals_own_links_come_first_and_few_files_are_asked(portals):
    forti = fingerprint(portals["forti_old"])
    # the login page (the version path), then the script it links: found at the first file
    assert forti.extra["paths_tried"] == ["/remote/login?lang=en", "/sslvpn/js/login.js"]
    nothing = fingerprint(portals["gp_nothing"])
    assert "build_date" not in nothing.extra
    assert len(nothing.extra["paths_tried"]) <= 1 + builddate.MAX_FETCHES


def test_implausible_dates_are_refused(portals):
    service = fingerprint(portals["gp_implausible"])
    assert "build_date" not in service.extra


# --- the verdicts, one by one -------------------------------------------------------------------


def judged(portals, name, store=None):  # type: ignore[no-untyped-def]
    return match_services([fingerprint(portals[name])], store, today=TODAY)


def by_check(observations, check):  # type: ignore[no-untyped-def]
    return [o for o in observations if o.check == check]


def listed(observations) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    (listing,) = by_check(observations, "vuln.kev_unverified")
    return {item["cve"]: item for item in listing.evidence["kev"]}


def test_built_before_any_fixed_version_existed_is_a_finding(portals):
    observations = judged(portals, "forti_old")
    findings = {o.cve: o for o in by_check(observations, "vuln.kev")}
    assert sorted(findings) == ["CVE-2022-42475", "CVE-2023-27997", "CVE-2024-21762"]
    xortigate = findings["CVE-2023-27997"]
    assert xortigate.severity == 4 and xortigate.kev
    assert "construit le 2021-06-01, avant qu'existe toute version corrigée" in xortigate.detail
    assert "7.0.12" in xortigate.detail and "FG-IR-23-097" in xortigate.detail
    assert xortigate.evidence["certfr"] == ["CERTFR-2023-ALE-004"]
    assert xortigate.evidence["first_fixed_published"] == "2023-04-12"
    assert xortigate.evidence["certainty"].startswith("forte")
    assert xortigate.evidence["version"] == ""
    # CVE-2018-13379's fixes have no checked date: listed to check, never claimed
    assert listed(observations)["CVE-2018-13379"]["build_verdict"] == builds.NO_DATE


def test_built_after_the_fix_is_only_to_check(portals):
    observations = judged(portals, "forti_recent")
    assert by_check(observations, "vuln.kev") == []
    items = listed(observations)
    assert items["CVE-2024-21762"]["build_verdict"] == builds.AFTER_FIX
    assert "après le premier correctif (2024-02-07) : à vérifier" in items["CVE-2024-21762"]["note"]
    (listing,) = by_check(observations, "vuln.kev_unverified")
    assert "version inconnue, micrologiciel construit le 2024-06-03" in listing.detail
    assert by_check(observations, "vuln.firmware_old") == []  # 2.5 years: not "very old"


def test_built_before_a_fix_of_some_branches_only_is_to_check_with_why(portals):
    observations = judged(portals, "gp_last_modified")
    assert by_check(observations, "vuln.kev") == []  # 9.1 or 10.1 were never affected
    item = listed(observations)["CVE-2024-3400"]
    assert item["build_verdict"] == builds.BEFORE_FIX_SOME_BRANCHES
    assert "touché seulement si la branche installée est concernée" in item["note"]
    assert "10.2.9-h1" in item["fixed_versions"]


def test_very_old_firmware_is_reported_on_its_own(portals):
    observations = judged(portals, "gp_etag")
    (old,) = by_check(observations, "vuln.firmware_old")
    assert old.evidence["build_date"] == "2019-03-01"
    assert "il y a plus de 7 ans" in old.detail
    forti = by_check(judged(portals, "forti_old"), "vuln.firmware_old")
    assert len(forti) == 1  # 2021-06-01: five years before TODAY


def test_built_before_the_oldest_branch_an_advisory_assesses_is_only_to_check():
    service = ServiceInfo(443, "https", "Fortinet FortiGate SSL VPN", extra={
        "build_date": "2016-05-10", "appliance": "vpn", "appliance_family": "fortios"})  # fmt: skip
    observations = match_services([service], None, today=TODAY)
    # FG-IR-22-398 lists 5.x: a 2016 firmware cannot hold its fix
    assert [o.cve for o in by_check(observations, "vuln.kev")] == ["CVE-2022-42475"]
    items = listed(observations)  # 6.0 came out in 2018: a 2016 firmware is an older branch
    assert items["CVE-2023-27997"]["build_verdict"] == builds.OLDER_BRANCH
    assert "non évaluée par l'éditeur" in items["CVE-2024-21762"]["note"]


def test_a_version_shown_always_wins_over_a_date():
    service = ServiceInfo(443, "https", "Fortinet FortiOS", "7.0.15", extra={
        "build_date": "2019-01-01", "appliance": "vpn", "appliance_family": "fortios"})  # fmt: skip
    assert match_services([service], None, today=TODAY) == []


def test_with_feeds_the_kev_listing_and_the_build_verdicts_merge(portals, tmp_path):
    store = FeedStore(tmp_path / "feeds.sqlite")
    store.begin()
    store.put_kev(
        [("CVE-2022-42475", "Fortinet", "FortiOS", "Fortinet FortiOS Heap-Based Buffer Overflow",
          "2022-12-13", "2023-01-03", "Known", "Apply updates."),
         ("CVE-2024-55591", "Fortinet", "FortiOS and FortiProxy",
          "Fortinet FortiOS Authentication Bypass", "2025-01-14", "2025-01-21", "Known",
          "Apply mitigations.")]
    )  # fmt: skip
    store.commit()
    try:
        observations = judged(portals, "forti_old", store)
    finally:
        store.close()
    heap = next(o for o in by_check(observations, "vuln.kev") if o.cve == "CVE-2022-42475")
    assert heap.title == "CVE-2022-42475 — Fortinet FortiOS Heap-Based Buffer Overflow"
    assert heap.evidence["kev"]["added"] == "2022-12-13"
    items = listed(observations)
    assert "CVE-2022-42475" not in items  # judged, not listed twice
    assert "CVE-2024-55591" in items and "CVE-2018-13379" in items


@pytest.mark.realserver
def test_carbet_scan_json_shows_the_build_date(portals, tmp_path):
    endpoint = portals["forti_old"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "carbet.settings",
           "CARBET_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": "postgres://nobody@127.0.0.1:9/absent"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", endpoint.address, "--ports",
         f"{endpoint.port}:https", "--json", "--timeout", "30"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (target,) = json.loads(result.stdout)["targets"]
    findings = {(f["check"], f["evidence"].get("cve", "")): f for f in target["findings"]}
    portal = findings[("port.vpn.portal", "")]
    assert portal["evidence"]["build_date"] == "2021-06-01"
    kev = findings[("vuln.kev", "CVE-2024-21762")]
    assert kev["severity"] == "critical" and kev["evidence"]["build_date"] == "2021-06-01"
    assert ("vuln.firmware_old", "") in findings


# --- the parsers (hypothesis) -------------------------------------------------------------------

NOW = datetime(2026, 12, 6, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80), st.integers(-5, 700))
def test_build_parsers_never_raise_and_stay_in_bounds(etag, modified, status):
    response = {"status": status, "headers": {"ETag": etag, "Last-Modified": modified}}
    for moment in (builddate.from_etag(etag, NOW), builddate.from_last_modified(modified, NOW)):
        assert moment is None or builddate.EARLIEST <= moment <= NOW + builddate.FUTURE_SLACK
    found = builddate.parse_build("/x.css", response, NOW)
    assert found is None or 200 <= status < 300


@given(st.datetimes(min_value=datetime(2010, 1, 2), max_value=datetime(2026, 12, 1)),
       st.sampled_from(["fortios", "panos"]))  # fmt: skip
def test_a_build_time_round_trips_through_each_etag_shape(naive, family):
    moment = naive.replace(tzinfo=UTC, microsecond=0)
    etag = fortios_etag(moment) if family == "fortios" else panos_etag(moment)
    assert builddate.from_etag(etag, NOW) == moment
    assert builddate.from_etag("W/" + etag, NOW) == moment
    assert builddate.from_last_modified(http_date(moment), NOW) == moment


def test_a_content_hash_etag_is_no_date():
    assert builddate.from_etag('"9e107d9d372bb6826bd81d3542a419d6"', NOW) is None  # md5
    assert builddate.from_etag('"1d3_40_4d434fb7"', NOW) == datetime(
        2011, 1, 28, 23, 22, 31, tzinfo=UTC
    )


@given(st.binary(max_size=3000), st.sampled_from(["fortios", "panos", "other"]))
def test_linked_paths_never_raise_and_stay_under_the_prefixes(body, family):
    for path in builddate.linked_paths(family, [body]):
        assert path.startswith(("/sslvpn/", "/remote/", "/global-protect/")) and ".." not in path


@given(st.dates(min_value=date(2010, 1, 1), max_value=date(2026, 12, 6)),
       st.sampled_from(["fortios", "panos"]))  # fmt: skip
def test_every_flaw_of_the_family_gets_exactly_one_verdict(built, family):
    verdicts = builds.judge(family, built)
    assert sorted(v.fix.cve for v in verdicts) == sorted(
        fix.cve for fix in builds.BUILD_FIXES if fix.family == family
    )
    for verdict in verdicts:
        first = verdict.fix.first_fixed
        if verdict.state in (builds.BEFORE_FIX, builds.BEFORE_FIX_SOME_BRANCHES):
            assert first is not None and built < first - timedelta(days=90)
        since = verdict.fix.listed_since
        if verdict.state == builds.BEFORE_FIX:  # a finding: every condition of the claim holds
            assert verdict.fix.every_branch and (since is None or built >= since)
        if verdict.state == builds.OLDER_BRANCH:
            assert since is not None and built < since
