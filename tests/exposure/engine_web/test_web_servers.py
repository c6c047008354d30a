"""Web probe against real HTTP(S) servers on loopback: headers, redirects, cookies, paths."""

from __future__ import annotations

import asyncio
import time

import pytest

from carbet.engines.exposure.checks import all_checks
from carbet.engines.exposure.core import ScanContext, TargetResult
from carbet.engines.exposure.web.probe import scan_web

pytestmark = pytest.mark.realserver

REQUIRED = {
    "web.https.missing": "bare",
    "web.https.no_redirect": "noredirect",
    "web.hsts.missing": "bad",
    "web.csp.missing": "bad",
    "web.xcto.missing": "bad",
    "web.cookie.insecure": "bad",
    "web.sensitive_path": "bare",
    "web.xfo.missing": "bad",
    "web.referrer.missing": "bad",
    "web.securitytxt.missing": "bad",
    "web.version_disclosure": "bad",
    "web.directory_listing": "bare",
    "web.csp.unsafe": "unsafe",
    "web.hsts.short": "unsafe",
}


def checks_of(result: TargetResult) -> set[str]:
    return {observation.check for observation in result.observations}


def web_evidence(result: TargetResult) -> dict:
    (evidence,) = result.evidence["web"].values()
    return evidence


@pytest.mark.parametrize(("check", "server"), sorted(REQUIRED.items()))
def test_check_fires_where_the_weakness_is(web_lab, check, server):
    assert check in checks_of(web_lab.results[server]), web_lab.results[server].observations


@pytest.mark.parametrize("check", sorted(REQUIRED))
def test_check_silent_on_the_good_site(web_lab, check):
    assert check not in checks_of(web_lab.results["good"])


def test_good_site_scores_a_plus(web_lab):
    result = web_lab.results["good"]
    assert result.observations == [] and result.errors == []
    evidence = web_evidence(result)
    assert evidence["observatory_grade"] == "A+"
    assert evidence["observatory_score"] >= 100
    assert evidence["security_txt"] is True
    assert evidence["redirects"] == [{"status": 302, "location": "/accueil"}]
    (cookie,) = evidence["cookies"]
    assert cookie == {
        "name": "sessionid",
        "secure": True,
        "httponly": True,
        "samesite": "lax",
        "session": True,
    }


def test_bad_site_scores_f_with_reasons(web_lab):
    evidence = web_evidence(web_lab.results["bad"])
    assert evidence["observatory_grade"] == "F"
    tests = {reason["test"] for reason in evidence["observatory_reasons"]}
    assert {
        "csp-not-implemented",
        "cookies-session-without-secure-flag",
        "hsts-not-implemented",
    } <= tests
    (cookie_observation,) = [
        o for o in web_lab.results["bad"].observations if o.check == "web.cookie.insecure"
    ]
    assert cookie_observation.severity == 3  # a session cookie without Secure
    (disclosure,) = [
        o for o in web_lab.results["bad"].observations if o.check == "web.version_disclosure"
    ]
    assert "PHP/7.4.3" in disclosure.detail


def test_unsafe_csp_and_short_hsts_grade(web_lab):
    evidence = web_evidence(web_lab.results["unsafe"])
    assert evidence["observatory_score"] == 70  # 100 - 20 (unsafe-inline) - 10 (HSTS < 6 months)
    assert evidence["observatory_grade"] == "B"


def test_csp_in_a_meta_tag_counts_but_not_its_frame_ancestors(web_lab):
    result = web_lab.results["metacsp"]
    assert web_evidence(result)["csp_from_meta"] is True
    assert "web.csp.missing" not in checks_of(result)
    assert "web.xfo.missing" in checks_of(result)  # frame-ancestors is ignored in <meta>


def test_redirect_to_https_needs_nothing_more(web_lab):
    result = web_lab.results["redirect"]
    assert checks_of(result) == set()
    assert web_evidence(result)["redirect_to_https"] is True


def test_sensitive_paths_judged_by_content(web_lab):
    evidence = web_evidence(web_lab.results["bare"])
    assert {item["path"] for item in evidence["sensitive_paths"]} == {
        "/.git/HEAD",
        "/.env",
        "/db.sql",
    }
    assert evidence["directory_listing"] == ["/backup/"]
    (observation,) = [
        o for o in web_lab.results["bare"].observations if o.check == "web.sensitive_path"
    ]
    assert observation.severity is None and all_checks()["web.sensitive_path"].severity == 4


@pytest.mark.parametrize("server", ["soft404", "soft404git"])
def test_soft_404_sites_raise_no_sensitive_path(web_lab, server):
    result = web_lab.results[server]
    assert web_evidence(result)["soft_404"] is True
    assert "web.sensitive_path" not in checks_of(result)
    assert "web.directory_listing" not in checks_of(result)


def test_paths_not_probed_when_disabled(web_lab):
    results = asyncio.run(web_lab.scan_many(["bare"], web_lab.config(web_paths=False)))
    assert "web.sensitive_path" not in checks_of(results["bare"])


def test_requests_carry_the_identifying_user_agent(web_lab):
    seen: list[bytes] = []

    async def recorder(reader, writer):
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    endpoint = web_lab.servers.add("ua", "127.72.0.30", recorder, server_name="ua.example.test")
    config = web_lab.config(web_paths=False)
    result = TargetResult("ua")
    asyncio.run(
        scan_web(
            ScanContext(config), "ua", endpoint.address, endpoint.port, False, "ua.test", result
        )
    )
    assert seen and all(config.user_agent.encode() in request for request in seen)
    assert all(b"Host: ua.test" in request for request in seen)


def test_budget_exhaustion_marks_the_scan_partial_and_stops(web_lab):
    endpoint = web_lab.servers.endpoints["bare"]
    result = TargetResult("bare")
    context = ScanContext(web_lab.config(per_target_budget=4))

    async def scan_then_wait() -> tuple[int, int]:
        await scan_web(context, "bare", endpoint.address, endpoint.port, False, "bare", result)
        spent_at_return = context.spent("bare")
        await asyncio.sleep(0.5)
        return spent_at_return, context.spent("bare")

    at_return, later = asyncio.run(scan_then_wait())
    assert result.complete is False
    assert any("budget" in error for error in result.errors)
    assert at_return == later


HOSTILE = ["hugeheaders", "slowdrip", "garbage", "silent"]


@pytest.fixture(scope="module")
def hostile_scans(web_lab):
    started = time.monotonic()
    results = asyncio.run(web_lab.scan_many(HOSTILE, web_lab.config(read_timeout=1.0)))
    return results, time.monotonic() - started


def test_hostile_servers_never_hang(hostile_scans):
    assert hostile_scans[1] < 8, hostile_scans[1]


@pytest.mark.parametrize("server", HOSTILE)
def test_hostile_servers_leave_a_trace_not_a_crash(hostile_scans, server):
    result = hostile_scans[0][server]
    assert result.errors
    assert "observatory_score" not in web_evidence(result)
