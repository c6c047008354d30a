"""Scores: the documented scale, reasons with their points, structure aggregation, JSON report."""

from __future__ import annotations

import json

import pytest

from carbet.engines.exposure import report, scoring
from carbet.engines.exposure.checks import UnknownCheck
from carbet.engines.exposure.core import Observation, ServiceInfo, TargetResult


def target(name: str, *checks: str, **evidence) -> TargetResult:
    result = TargetResult(name, kind="ip", addresses=[name])
    result.evidence = {"open_ports": {name: []}, **evidence}
    result.observations = [Observation(check, port=3389) for check in checks]
    return result


def test_a_clean_target_gets_a_plus_only_in_evaluated_categories():
    scores = scoring.score_target(target("10.0.0.1"))
    assert scores["categories"]["exposure"] == {
        "score": 100, "grade": "A+", "reasons": [], "lost": [], "caps": [],
    }  # fmt: skip
    assert scores["categories"]["tls"]["score"] is None  # no TLS service: not evaluated
    assert (scores["score"], scores["grade"]) == (100, "A+")


def test_points_are_lost_once_per_check_with_reasons():
    result = target("10.0.0.2", "port.rdp", "port.rdp.no_nla")
    result.observations.append(Observation("port.rdp", port=3390))  # same check, other port
    scores = scoring.score_target(result)
    exposure = scores["categories"]["exposure"]
    assert exposure["score"] == 100 - 40 - 25
    assert [(entry["check"], entry["points"]) for entry in exposure["lost"]] == [
        ("port.rdp", 40), ("port.rdp.no_nla", 25),
    ]  # fmt: skip
    assert exposure["lost"][0]["ports"] == [3389, 3390]
    assert exposure["reasons"][0].endswith("(−40)")
    assert exposure["grade"] == "E"  # 35


def test_observation_severity_raises_the_cost_and_unknown_checks_are_refused():
    raised = Observation("medical.fhir.open", severity=4)
    assert scoring.observation_cost(raised)[1] == 40
    # An unknown id used to cost 10 silent points; it is now an error where it is made.
    with pytest.raises(UnknownCheck):
        Observation("nobody.knows")


def test_overall_is_capped_by_the_worst_category():
    result = target("10.0.0.3", "medical.dicom.exposed", "medical.hl7.exposed",
                    tls={"443": {}}, web={"443": {}}, dns={"domain": "x"})  # fmt: skip
    scores = scoring.score_target(result)
    assert scores["categories"]["exposure"]["score"] == 0
    assert scores["categories"]["tls"]["score"] == 100
    assert scores["score"] == 20  # average 75, capped at worst (0) + 20
    assert scores["grade"] == "F"


def test_observatory_score_is_used_for_the_web_category():
    result = target("10.0.0.4", web={"443": {"observatory_score": 55}, "80": {"x": 1}})
    assert scoring.score_target(result)["categories"]["web"]["score"] == 55


def test_grades():
    assert [scoring.grade(s) for s in (100, 95, 85, 70, 55, 40, 10)] == [
        "A", "A", "B", "C", "D", "E", "F",
    ]  # fmt: skip
    assert scoring.grade(100, lost_anything=False) == "A+"
    assert scoring.grade(None) == ""


def test_structure_takes_the_worst_target_per_category():
    good, bad = target("10.0.0.5"), target("10.0.0.6", "port.smb")
    scores = scoring.structure_scores([good, bad])
    exposure = scores["categories"]["exposure"]
    assert exposure["score"] == 60 and exposure["target"] == "10.0.0.6"
    assert exposure["reasons"][0].startswith("10.0.0.6 : ")
    assert scores["score"] == 60


def test_json_report_shape_and_order():
    result = target("10.0.0.7", "port.ssh", "port.rdp")
    result.services = [ServiceInfo(3389, "rdp", "Remote Desktop Protocol"), ServiceInfo(22, "ssh")]
    result.observations[0].detail = "SSH-2.0-OpenSSH_9.6"
    scoring.score_target(result)
    document = json.loads(report.to_json([result]))
    (entry,) = document["targets"]
    assert [s["port"] for s in entry["services"]] == [22, 3389]
    assert [f["check"] for f in entry["findings"]] == ["port.rdp", "port.ssh"]
    assert entry["findings"][1]["evidence"]["detail"] == "SSH-2.0-OpenSSH_9.6"
    assert entry["findings"][0]["severity"] == "critical"
    table = report.to_table([result], width=120)
    assert "port.rdp" in table and "critique" in table and "note D (55/100)" in table
