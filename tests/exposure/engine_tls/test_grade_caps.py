"""Issue 19 item 2: grades that cannot lie. One row per cap of ``scoring.CAPS`` (and the
severity caps), the same caps on stored scores re-aggregated by the platform, the documentation
listing every cap, and end-to-end scans through the runner: a site serving ``/.env`` with a
database password (was 100/A) and sites with expired, self-signed and mismatched certificates
(were 92/A) get their capped grade.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from carbet.engines.exposure import report, runner, scoring
from carbet.engines.exposure.core import Observation, ScanConfig, TargetResult

from .servers import NOW, LoopbackServers, drain_and_close, http_handler, make_ca, make_leaf

ROOT = Path(__file__).resolve().parents[3]
LETTERS = scoring.LETTERS


def target_with(check: str, severity: int | None = None) -> TargetResult:
    """A target whose only finding is ``check``, every category evaluated and otherwise clean."""
    result = TargetResult("10.9.0.1", kind="ip", addresses=["10.9.0.1"])
    result.evidence = {"open_ports": {"10.9.0.1": [443]}, "tls": {"443": {}}, "web": {"443": {}}}
    result.observations = [Observation(check, port=443, severity=severity)]
    return result


def at_most(letter: str, ceiling: str) -> bool:
    return LETTERS.index(letter) >= LETTERS.index(ceiling)


CAP_ROWS = [(cap.check, cap.grade, cap.min_severity or None) for cap in scoring.CAPS]


@pytest.mark.parametrize(("check", "ceiling", "severity"), CAP_ROWS)
def test_each_cap_sets_the_best_grade_and_says_why(check, ceiling, severity):
    scores = scoring.score_target(target_with(check, severity))
    assert at_most(scores["grade"], ceiling), (check, scores["grade"], scores["score"])
    assert scores["score"] <= scoring.CEILING[ceiling]
    assert scoring.grade(scores["score"]) == scores["grade"] or scores["grade"] == "F"
    (cap,) = [c for c in scores["caps"] if c["check"] == check and c["grade"] == ceiling]
    assert cap["reason"]  # French words beside the grade
    assert at_most(scores["categories"]["tls"]["grade"], ceiling)


@pytest.mark.parametrize(
    ("check", "ceiling"),
    [
        ("web.sensitive_path", "D"),  # critical: /.env with a password
        ("port.rdp", "D"),  # critical
        ("port.database", "B"),  # high: never an A
        ("tls.cert.weak_key", "B"),  # high
    ],
)
def test_severity_caps(check, ceiling):
    scores = scoring.score_target(target_with(check))
    assert at_most(scores["grade"], ceiling), scores
    assert any(cap["grade"] == ceiling and cap["check"] == check for cap in scores["caps"])


def test_forward_secrecy_caps_only_when_no_suite_has_it():
    some = scoring.score_target(target_with("tls.no_forward_secrecy"))
    assert not any(cap["check"] == "tls.no_forward_secrecy" for cap in some["caps"])
    none = scoring.score_target(target_with("tls.no_forward_secrecy", severity=3))
    assert none["grade"] not in ("A+", "A")


def test_informational_notes_do_not_deny_a_plus():
    scores = scoring.score_target(target_with("tls.protocol.tls13_missing"))
    assert (scores["score"], scores["grade"], scores["caps"]) == (100, "A+", [])


def test_stored_scores_re_aggregated_keep_the_caps():
    """The platform stores flat categories (lost entries without severity) and re-aggregates a
    structure with ``scoring.overall``: the caps follow from the stored entries alone."""
    stored = {
        "exposure": {"score": 100, "grade": "A+", "lost": []},
        "tls": {"score": 75, "grade": "F",
                "lost": [{"check": "tls.cert.expired", "points": 25, "title": "x"}]},
    }  # fmt: skip
    overall = scoring.overall(stored)
    assert overall["grade"] == "F" and overall["score"] <= scoring.CEILING["F"]
    assert overall["caps"][0]["check"] == "tls.cert.expired"


def test_caps_in_the_json_contract_come_from_the_findings_alike():
    result = target_with("tls.cert.expired")
    scoring.score_target(result)
    from_scores = report.target_dict(result)["caps"]
    stored = report.target_entry(
        target="x", addresses=[], score=0, grade="F", services=[],
        findings=[report.finding_dict(o) for o in result.observations], refused=[],
    )  # fmt: skip
    assert stored["caps"] == from_scores and from_scores


def test_every_cap_is_documented():
    text = (ROOT / "docs" / "exposure.md").read_text()
    for cap in scoring.CAPS:
        assert f"`{cap.check}`" in text, cap.check


# -- end to end, through the runner ---------------------------------------------------------


DOTENV = b"DB_HOST=db.internal\nDB_PASSWORD=Hopital2024!\nAPP_KEY=base64:abc\n"
GOOD_HEADERS = [
    ("Content-Type", "text/html"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


@pytest.fixture(scope="module")
def capped_sites():
    servers = LoopbackServers()
    ca = make_ca()
    ca_file = servers.write("ca.pem", ca.cert_pem)
    try:
        routes = {"/": (200, GOOD_HEADERS, b"<html>ok</html>"),
                  "/.env": (200, [("Content-Type", "text/plain")], DOTENV)}  # fmt: skip
        servers.add("dotenv", "127.21.0.10", http_handler(routes))
        expired = make_leaf(ca, ["127.21.0.11"], not_before=NOW - dt.timedelta(days=400),
                            not_after=NOW - dt.timedelta(days=3))  # fmt: skip
        for name, address, issued in (
            ("expired", "127.21.0.11", expired),
            ("selfsigned", "127.21.0.12", make_leaf(None, ["127.21.0.12"])),
            ("mismatch", "127.0.0.1", make_leaf(ca, ["other.example.test"])),
        ):
            context = servers.tls_context(issued)
            servers.add(name, address, drain_and_close, context)
        ports = tuple(endpoint.port for endpoint in servers.endpoints.values())
        hints = tuple(
            (endpoint.port, "http" if name == "dotenv" else "https")
            for name, endpoint in servers.endpoints.items()
        )
        config = ScanConfig(ports=ports, port_hints=hints, ca_file=ca_file, mail_dns=False)
        targets = ["127.21.0.10", "127.21.0.11", "127.21.0.12", "host:localhost"]
        results = runner.scan(targets, config)
        yield dict(zip(["dotenv", "expired", "selfsigned", "mismatch"], results, strict=True))
    finally:
        servers.close()


def test_a_site_serving_dotenv_is_capped(capped_sites):
    result = capped_sites["dotenv"]
    assert any(o.check == "web.sensitive_path" for o in result.observations), result.observations
    assert at_most(result.scores["grade"], "D"), result.scores  # was 100/A before issue 19
    assert any(
        cap["check"] == "web.sensitive_path" and cap["grade"] == "D"
        for cap in result.scores["caps"]
    )


@pytest.mark.parametrize(
    ("site", "check"),
    [
        ("expired", "tls.cert.expired"),
        ("selfsigned", "tls.cert.self_signed"),
        ("mismatch", "tls.cert.hostname_mismatch"),
    ],
)
def test_certificates_that_cannot_be_trusted_give_f(capped_sites, site, check):
    result = capped_sites[site]
    assert check in {o.check for o in result.observations}, result.observations
    assert result.scores["grade"] == "F", result.scores  # was 92/A before issue 19
    assert result.scores["score"] <= scoring.CEILING["F"]
    assert any(cap["check"] == check and cap["grade"] == "F" for cap in result.scores["caps"])
    table = report.to_table([result])
    assert "note plafonnée à F" in table
