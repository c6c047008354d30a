"""The security-by-design engine: measures derived from a description (a table of cases),
automatic statuses from facts, the cyber index and its limits, the track's steps."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.bydesign import index, track
from carbet.engines.bydesign.auto import Facts, auto_status
from carbet.engines.bydesign.catalogue import (
    AVAILABILITIES,
    DATA_KINDS,
    HOSTINGS,
    SERVICE_KINDS,
    CatalogueError,
    Description,
    derive,
    parse,
)

DATA = Path(__file__).resolve().parents[3] / "carbet" / "bydesign" / "data" / "measures.json"
CATALOGUE = parse(json.loads(DATA.read_text(encoding="utf-8")))
TODAY = date(2026, 12, 6)


def codes(description: Description) -> dict[str, bool]:
    return {a.code: a.essential for a in derive(CATALOGUE, description)}


# (description, measures that must apply with their level, measures that must not apply)
CASES = [
    (  # a care record at a SaaS vendor, reachable from internet, care stops within hours
        Description("care_record", "health", "saas", True, True, "hours"),
        {
            "gov.hds": True,
            "gov.contract": True,
            "gov.register": True,
            "pro.mfa": True,
            "res.vendor_backups": True,
            "res.degraded": True,
            "def.exposure": True,
            "pro.encryption": True,
            "def.logs": True,
            "gov.risk": False,
        },
        {"res.backups", "pro.isolation", "pro.mail", "pro.mfa_saas"},
    ),
    (  # a web site on site, no personal data, can wait days
        Description("website", "none", "on_site", None, True, "week"),
        {
            "pro.isolation": True,
            "def.exposure": True,
            "pro.mfa": False,
            "res.backups": False,
            "gov.accounts": False,
            "def.logs": False,
        },
        {"gov.hds", "gov.register", "gov.contract", "res.degraded", "res.vendor_backups"},
    ),
    (  # e-mail at the IT provider
        Description("email", "personal", "it_provider", None, True, "day"),
        {
            "pro.mail": True,
            "gov.register": False,
            "gov.contract": True,
            "pro.mfa": True,
            "res.degraded": False,
        },
        {"gov.hds", "res.backups", "pro.isolation"},
    ),
    (  # billing software installed on site, not reachable from internet
        Description("billing", "personal", "on_site", None, False, "week"),
        {"res.backups": True, "gov.accounts": True, "pro.passwords": True},
        {"pro.mfa", "def.exposure", "pro.encryption", "pro.isolation", "gov.hds"},
    ),
    (  # telemedicine SaaS not exposed as such: the vendor's MFA
        Description("telemedicine", "health", "saas", False, False, "day"),
        {"pro.mfa_saas": True, "gov.hds": True, "res.degraded": False},
        {"pro.mfa", "def.exposure"},
    ),
]


@pytest.mark.parametrize(("description", "expected", "absent"), CASES)
def test_measures_derived_from_the_description(description, expected, absent):
    found = codes(description)
    for code, essential in expected.items():
        assert code in found, code
        assert found[code] is essential, code
    assert not absent & set(found)


def test_essentials_come_first_and_every_measure_is_linked():
    items = derive(CATALOGUE, Description("care_record", "health", "saas", True, True, "hours"))
    flags = [a.essential for a in items]
    assert flags == sorted(flags, reverse=True)
    for measure in CATALOGUE:
        assert measure.hygiene or measure.care or measure.vendor, measure.code


def test_hds_is_required_only_for_health_data_at_a_third_party():
    assert Description(data_kind="health", hosting="saas").hds_required
    assert not Description(data_kind="health", hosting="on_site").hds_required
    assert not Description(data_kind="personal", hosting="saas").hds_required


@given(
    st.sampled_from(SERVICE_KINDS),
    st.sampled_from(DATA_KINDS),
    st.sampled_from(HOSTINGS),
    st.sampled_from([True, False, None]),
    st.booleans(),
    st.sampled_from(AVAILABILITIES),
)
def test_every_description_gets_the_basics(kind, data, hosting, hds, exposed, availability):
    found = codes(Description(kind, data, hosting, hds, exposed, availability))
    assert {"gov.owner", "pro.passwords", "pro.updates", "def.incident"} <= set(found)
    assert found["gov.owner"] is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "measures"),
        ({"measures": [{"code": "x"}]}, "category"),
        (
            {
                "measures": [
                    {
                        "code": "x",
                        "category": "gouvernance",
                        "title": "t",
                        "why": "w",
                        "how": "h",
                        "when": {"colour": ["red"]},
                    }
                ]
            },
            "unknown field",
        ),
        (
            {
                "measures": [
                    {
                        "code": "x",
                        "category": "defense",
                        "title": "t",
                        "why": "w",
                        "how": "h",
                        "auto": "telepathy",
                    }
                ]
            },
            "unknown rule",
        ),
        (
            {
                "measures": [
                    {
                        "code": "x",
                        "category": "defense",
                        "title": "t",
                        "why": "w",
                        "how": "h",
                        "hygiene": [99],
                    }
                ]
            },
            "hygiene",
        ),
    ],
)
def test_a_malformed_catalogue_is_refused_clearly(data, message):
    with pytest.raises(CatalogueError, match=message):
        parse(data)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_hostile_catalogue_documents_raise_only_catalogue_errors(data):
    try:
        parse(data)
    except CatalogueError:
        pass


def test_a_bad_description_is_refused():
    with pytest.raises(ValueError, match="hosting"):
        Description(hosting="cloud")


# --- automatic statuses ----------------------------------------------------------------------

AUTO_CASES = [
    ("password_policy", Facts(directory_on=TODAY), "done"),
    (
        "password_policy",
        Facts(directory_on=TODAY, directory_rules=frozenset({"no_lockout"})),
        "not_done",
    ),
    (
        "password_policy",
        Facts(directory_on=TODAY, directory_rules=frozenset({"password_length_below_12"})),
        "in_progress",
    ),
    ("password_policy", Facts(directory_on=TODAY - timedelta(days=400)), None),
    ("exposure", Facts(exposure_on=TODAY, exposure_critical=1), "not_done"),
    ("exposure", Facts(exposure_on=TODAY, exposure_high=2), "in_progress"),
    ("exposure", Facts(exposure_on=TODAY), "done"),
    ("exposure", Facts(exposure_on=TODAY - timedelta(days=91)), None),
    ("mail_dmarc", Facts(exposure_on=TODAY, dmarc_reject=True), "done"),
    ("mail_dmarc", Facts(exposure_on=TODAY, dmarc_reject=False), "not_done"),
    ("mail_dmarc", Facts(exposure_on=TODAY), None),
    ("mfa_remote", Facts(exposure_on=TODAY, mfa_remote_access=False), "not_done"),
    ("mfa_remote", Facts(exposure_on=TODAY), None),
    ("phishing", Facts(phishing_on=TODAY, reporting_rate=0.42), "done"),
    ("phishing", Facts(phishing_on=TODAY, reporting_rate=0.1), "in_progress"),
    ("backups", Facts(restore_on=TODAY, restore_result="success"), "done"),
    ("backups", Facts(restore_on=TODAY, restore_result="failure"), "in_progress"),
    ("backups", Facts(), None),
]


@pytest.mark.parametrize(("rule", "facts", "expected"), AUTO_CASES)
def test_automatic_statuses_from_facts(rule, facts, expected):
    result = auto_status(rule, facts, TODAY)
    assert (result.status if result else None) == expected


# --- the cyber index -------------------------------------------------------------------------


def _index(description: Description, statuses: dict[str, str], hds: bool | None = None):
    items = derive(CATALOGUE, description)
    return index.compute(items, statuses, description, hds), items


def test_index_five_when_everything_is_done_and_zero_when_nothing():
    description = Description("billing", "personal", "on_site", None, False, "week")
    items = derive(CATALOGUE, description)
    full, _ = _index(description, {a.code: "done" for a in items})
    assert full.value == 5.0 and not full.missing_essentials and not full.capped_by
    empty, _ = _index(description, {})
    assert empty.value == 0.0
    assert empty.best_next and all(c in {a.code for a in items} for c in empty.best_next)


def test_index_capped_without_hds_and_by_missing_essentials():
    description = Description("care_record", "health", "saas", False, True, "hours")
    items = derive(CATALOGUE, description)
    result, _ = _index(description, {a.code: "done" for a in items if a.code != "gov.hds"}, False)
    assert result.value <= 2.0 and "hds" in result.capped_by
    done = {a.code: "done" for a in items}
    result, _ = _index(description, done, True)
    assert result.value == 5.0
    done["pro.mfa"] = "not_done"
    result, _ = _index(description, done, True)
    assert result.value == 4.5 and "essentials" in result.capped_by
    assert result.missing_essentials == ("pro.mfa",)


def test_not_applicable_leaves_the_count_and_in_progress_counts_half():
    description = Description("billing", "none", "on_site", None, False, "week")
    items = derive(CATALOGUE, description)
    statuses = {a.code: "done" for a in items}
    recommended = next(a.code for a in items if not a.essential)
    statuses[recommended] = "na"
    assert _index(description, statuses)[0].value == 5.0
    statuses[recommended] = "in_progress"
    assert _index(description, statuses)[0].value < 5.0


# --- the track -------------------------------------------------------------------------------


def test_track_steps_in_order_with_progress_and_next_step():
    start = track.state(track.TrackInput(False, {}, False))
    assert (start.step, start.next_step, start.progress) == ("diagnostic", "diagnostic", 0)
    after = track.state(track.TrackInput(True, {"updates": "done"}, False))
    assert after.step == "essentials" and after.next_step == "passwords_mfa"
    assert after.progress == round(100 * 2 / 12)
    started = track.state(track.TrackInput(True, {"exercise": "in_progress"}, False))
    assert started.next_step == "exercise"
    pushed = track.state(
        track.TrackInput(True, {"exercise": "in_progress"}, False, ("backups_tested",))
    )
    assert pushed.next_step == "backups_tested"
    all_done = {code: "done" for code in track.ESSENTIALS}
    assert track.state(track.TrackInput(True, all_done, False)).step == "roadmap"
    finished = track.state(track.TrackInput(True, all_done, True))
    assert (finished.step, finished.next_step, finished.progress) == ("done", "", 100)


def test_regional_counts():
    states = [
        track.state(track.TrackInput(False, {}, False)),
        track.state(track.TrackInput(True, {"updates": "done"}, False)),
    ]
    result = track.regional(states, [{}, {"updates": "done"}])
    assert result.by_step["diagnostic"] == 1 and result.by_step["essentials"] == 1
    assert result.by_essential["updates"] == 1


def test_every_shipped_measure_has_its_english_texts():
    for measure in CATALOGUE:
        for name in ("title", "why", "how"):
            assert measure.text(name, english=True).strip(), (measure.code, name)
            assert getattr(measure, f"{name}_en") != getattr(measure, name), (measure.code, name)


def test_a_measure_reads_in_english_when_asked_and_falls_back_to_french():
    base = {
        "code": "x",
        "category": "defense",
        "title": "Titre",
        "why": "Pourquoi",
        "how": "Comment",
    }
    (translated,) = parse({"measures": [{**base, "title_en": "Title", "how_en": "How"}]})
    assert translated.text("title", english=True) == "Title"
    assert translated.text("title", english=False) == "Titre"
    assert translated.text("why", english=True) == "Pourquoi"  # not written: French
    assert translated.text("how", english=True) == "How"
    (french_only,) = parse({"measures": [base]})
    assert (french_only.title_en, french_only.why_en, french_only.how_en) == ("", "", "")
    assert french_only.text("how", english=True) == "Comment"
    with pytest.raises(ValueError):
        translated.text("code", english=True)
    for bad in ("", "  ", 3, None):
        with pytest.raises(CatalogueError, match="why_en"):
            parse({"measures": [{**base, "why_en": bad}]})
