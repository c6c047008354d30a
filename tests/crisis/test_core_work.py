"""The cell's work: decisions, tasks, checklists, situation points (sent through real SMTP),
the continuity board and the stakeholders' calls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from carbet.crisis import selectors, services_board, services_log, services_work
from carbet.crisis.models import LogEntry
from tests.crisis.conftest import T0

H = dt.timedelta(hours=1)


def test_a_decision_keeps_its_options_and_is_logged(case, region):
    decision = services_work.record_decision(
        region.users["director"],
        case,
        title="Arrêt du système d'information",
        options=["Tout arrêter", "Isoler les serveurs seulement", ""],
        chosen="Tout arrêter",
        rationale="Propagation en cours",
        decided_by="Directrice",
        decided_at=T0 + H,
    )
    assert decision.options == ["Tout arrêter", "Isoler les serveurs seulement"]
    entry = decision.log_entry
    assert entry.kind == "decision" and entry.verified and "Propagation" in entry.text
    assert entry.event_at == T0 + H
    with pytest.raises(ValueError):
        services_work.record_decision(
            region.users["director"],
            case,
            title="x",
            options=[],
            chosen="",
            rationale="",
            decided_by="x",
        )


def test_tasks_by_workstream_and_their_log(case, region):
    user = region.users["referent"]
    task = services_work.add_task(
        user,
        case,
        workstream="care",
        title="Plan de délestage",
        owner="Cadre de santé",
        priority=1,
        due_at=T0 + 3 * H,
    )
    assert task.phase == case.phase
    services_work.update_task(user, task, status="doing", now=T0 + H)
    assert not LogEntry.objects.filter(case=case, text__contains="Plan de délestage").exists()
    services_work.update_task(user, task, status="done", now=T0 + 2 * H)
    task.refresh_from_db()
    assert task.done_at == T0 + 2 * H
    assert LogEntry.objects.filter(
        case=case, kind="action", text__contains="Plan de délestage"
    ).exists()
    counts = services_work.tasks_by_workstream(case)
    assert counts["care"]["done"] == 1 and counts["technical"]["open"] >= 1
    with pytest.raises(ValueError):
        services_work.add_task(user, case, workstream="cuisine", title="x")
    with pytest.raises(PermissionDenied):
        services_work.add_task(region.users["director_b"], case, workstream="care", title="x")


def test_exit_checklist(case, region):
    item = case.checklist.filter(checklist="exit").first()
    services_work.tick_checklist(region.users["director"], item, done=True, now=T0)
    item.refresh_from_db()
    assert item.done and item.done_at == T0 and "dir@alpha.test" in item.done_by
    view = selectors.director_view(case, now=T0 + H)
    assert view.exit_done == 1 and view.exit_total >= 4


def test_sitreps_cover_what_changed_since_the_last_one_and_go_to_the_cell(case, region, mail):
    user = region.users["director"]
    services_log.append_entry(
        user, case, text="Urgences en mode papier", kind="situation", event_at=T0 + H, now=T0 + H
    )
    services_log.append_entry(
        user, case, text="Rumeur sur les réseaux", kind="fact", event_at=T0 + H, now=T0 + H
    )
    activity = case.activities.get(name="Urgences")
    services_board.set_activity_mode(
        user, activity, mode="degraded", procedure="Dossiers papier", now=T0 + H
    )
    first = services_work.draft_sitrep(user, case, now=T0 + 2 * H)
    assert first.number == 1 and first.period_start is None
    body = first.body
    assert body.index("SITUATION") < body.index("DÉCISIONS") < body.index("CONTINUITÉ")
    assert "Urgences en mode papier" in body and "Rumeur sur les réseaux (non vérifié)" in body
    assert "Urgences : dégradé — Dossiers papier" in body
    assert "Déclaration ARS" in body  # still owed
    services_work.edit_sitrep(user, first, body=body + "\nAjout de la directrice.\n")
    delivered = services_work.send_sitrep(user, first, now=T0 + 2 * H)
    assert set(delivered) == {m.envelope_to[0] for m in mail.messages}
    assert "dir@alpha.test" in delivered and "dir@beta.test" not in delivered
    message = mail.to("ref@alpha.test")[0].message
    assert "point de situation n° 1" in message["Subject"]
    assert "Ajout de la directrice." in message.get_content()
    with pytest.raises(ValueError):
        services_work.edit_sitrep(user, first, body="x")
    with pytest.raises(ValueError):
        services_work.send_sitrep(user, first)
    services_log.append_entry(
        user, case, text="Serveurs isolés", kind="situation", event_at=T0 + 3 * H, now=T0 + 3 * H
    )
    second = services_work.draft_sitrep(user, case, now=T0 + 4 * H)
    assert second.number == 2 and second.period_start == T0 + 2 * H
    assert "Serveurs isolés" in second.body and "Rumeur" not in second.body


def test_board_activities_and_assets(case, region):
    user = region.users["referent"]
    asset = region.a.assets.first()
    tracked = services_board.add_asset(user, case, asset=asset)
    assert tracked.label == asset.value and tracked.state == "compromised"
    for state in ("isolated", "cleaned", "restored", "verified"):
        services_board.set_asset_state(user, tracked, state=state, now=T0 + H)
    assert LogEntry.objects.filter(case=case, text__contains="Restauré → Vérifié").exists()
    with pytest.raises(ValueError):  # another structure's asset
        services_board.add_asset(user, case, asset=region.b.assets.first())
    pharmacy = case.activities.get(name="Pharmacie")
    services_board.set_activity_mode(
        user, pharmacy, mode="stopped", impact="Pas de délivrance", now=T0 + H
    )
    pharmacy.refresh_from_db()
    assert pharmacy.mode == "stopped" and pharmacy.since == T0 + H
    view = selectors.director_view(case, now=T0 + 2 * H)
    assert view.activity_counts["stopped"] == 1
    assert dict((s, n) for s, _l, n in view.asset_counts)["verified"] == 1
    assert {o.obligation.kind: o.status for o in view.obligations}["ars"] == "overdue"


def test_stakeholders_and_calls(case, region):
    user = region.users["director"]
    pris = services_board.add_stakeholder(
        user,
        case,
        kind="pris",
        name="Cyber Réponse",
        organisation="CR SAS",
        qualification_ref="PRIS-2025-014",
        phone="0100000000",
    )
    entry = services_board.record_call(
        user, pris, text="Intervention sur site demain 8 h", event_at=T0 + H
    )
    assert entry.stakeholder_id == pris.pk and entry.kind == "communication"
    assert "Cyber Réponse" in entry.text or "CR SAS" in entry.text
    with pytest.raises(ValueError):
        services_board.add_stakeholder(user, case, kind="voisin", name="x")
