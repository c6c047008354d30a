"""The main courante's seals and verification walk, and the situation point's draft."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.crisis import chain, sitrep

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
KEY = {"k1": b"secret-one", "k2": b"secret-two"}


def build(n: int, key_id: str = "k1") -> list[dict]:
    rows, previous = [], chain.GENESIS
    for i in range(1, n + 1):
        row = {
            "case_id": 7,
            "sequence": i,
            "event_at": T0 + dt.timedelta(minutes=i),
            "recorded_at": T0 + dt.timedelta(minutes=i, seconds=5),
            "author_id": 3,
            "author_label": "Dr Alpha",
            "source": "appel du PRIS",
            "kind": "fact",
            "text": f"entrée {i} — données de santé é",
            "verified": i % 2 == 0,
            "supersedes_id": None,
            "stakeholder_id": None,
            "prev_hash": previous,
            "key_id": key_id,
        }
        row["entry_hash"] = chain.seal(row, KEY[key_id])
        previous = row["entry_hash"]
        rows.append(row)
    return rows


def test_intact_chain_verifies():
    result = chain.verify(build(20), KEY)
    assert result.ok and result.checked == 20 and result.first_broken is None


def test_naive_and_aware_utc_times_seal_alike():
    row = build(1)[0]
    naive = {**row, "event_at": row["event_at"].replace(tzinfo=None)}
    assert chain.seal(naive, KEY["k1"]) == row["entry_hash"]


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, 9),
    field=st.sampled_from(
        ["text", "author_label", "source", "kind", "verified", "event_at", "case_id"]
    ),
)
def test_any_rewrite_is_reported_at_that_entry(index, field):
    rows = build(10)
    value = rows[index][field]
    if isinstance(value, bool):
        rows[index][field] = not value
    elif isinstance(value, int):
        rows[index][field] = value + 1
    elif isinstance(value, dt.datetime):
        rows[index][field] = value + dt.timedelta(microseconds=1)
    else:
        rows[index][field] = value + "x"
    result = chain.verify(rows, KEY)
    assert result.first_broken == index + 1 and result.problem == chain.SEAL


def test_resealing_without_the_key_breaks_the_link_or_the_seal():
    rows = build(10)
    rows[4]["text"] = "réécrit"
    rows[4]["entry_hash"] = chain.seal(rows[4], b"guessed key")
    result = chain.verify(rows, KEY)
    assert result.first_broken == 5 and result.problem == chain.SEAL


def test_deleted_and_reordered_entries():
    rows = build(10)
    del rows[3]
    assert chain.verify(rows, KEY).first_broken == 5
    assert chain.verify(rows, KEY).problem == chain.GAP
    rows = build(10)
    rows[2], rows[3] = rows[3], rows[2]
    assert chain.verify(rows, KEY).first_broken == 4
    rows = build(10)
    rows[6]["prev_hash"] = "f" * 64
    rows[6]["entry_hash"] = chain.seal(rows[6], KEY["k1"])  # someone holding the key
    assert chain.verify(rows, KEY).problem == chain.LINK


def test_unknown_key_and_rotation():
    rows = build(3)
    assert chain.verify(rows, {"k2": KEY["k2"]}).problem == chain.UNKNOWN_KEY
    later = build(2, "k2")
    later[0]["sequence"], later[1]["sequence"] = 4, 5
    later[0]["prev_hash"] = rows[-1]["entry_hash"]
    later[0]["entry_hash"] = chain.seal(later[0], KEY["k2"])
    later[1]["prev_hash"] = later[0]["entry_hash"]
    later[1]["entry_hash"] = chain.seal(later[1], KEY["k2"])
    assert chain.verify(rows + later, KEY).ok


HEADINGS = {
    "header": "Point — {title} / {phase} / {start} → {end}",
    "empty": "rien",
    **{s: s.upper() for s in sitrep.SECTIONS},
}


def test_sitrep_orders_sections_and_caps_them():
    data = sitrep.SitrepInput(
        title="CR-2026-0001",
        phase="Endiguement",
        period_start=None,
        period_end=T0,
        decisions=[sitrep.Line(T0, "Arrêt du SI")],
        overdue=[sitrep.Line(T0 + dt.timedelta(minutes=i), f"tâche {i}") for i in range(20)],
    )
    text = sitrep.draft(data, HEADINGS)
    assert text.startswith("Point — CR-2026-0001 / Endiguement / — → 02/03/2026 08:00")
    assert text.index("SITUATION") < text.index("DECISIONS") < text.index("OVERDUE")
    assert "- 02/03 08:00 Arrêt du SI" in text
    assert "tâche 11" in text and "tâche 12" not in text and "(+8)" in text
    assert text.count("- rien") == len(sitrep.SECTIONS) - 2
