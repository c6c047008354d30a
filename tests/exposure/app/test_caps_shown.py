"""The structure page says why its grade is held down: the caps stored with the scan's
overall score (one source: the scan record the gauges read)."""

from types import SimpleNamespace

from carbet.exposure.selectors import gauges
from carbet.exposure.services_scores import structure_scores


def test_overall_gauge_lists_the_caps_of_the_stored_scores():
    targets = [
        SimpleNamespace(
            target="www.example.test",
            scores={
                "web": {
                    "score": 90,
                    "grade": "A",
                    "reasons": [],
                    "lost": [{"check": "web.sensitive_path", "points": 10, "severity": 4}],
                },
                "tls": {"score": 95, "grade": "A", "reasons": [], "lost": []},
            },
        )
    ]
    scores = structure_scores(targets)
    assert scores["overall"]["grade"] not in {"A", "A+", "B", "C"}
    _items, overall = gauges(SimpleNamespace(scores=scores))
    assert overall is not None and overall.reasons
    assert all(reason.startswith("Note plafonnée à") for reason in overall.reasons)


def test_no_cap_no_reason():
    scores = structure_scores(
        [SimpleNamespace(target="a", scores={"tls": {"score": 100, "grade": "A+", "lost": []}})]
    )
    _items, overall = gauges(SimpleNamespace(scores=scores))
    assert overall is not None and overall.reasons == []
