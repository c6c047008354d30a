"""The regulatory clock in the database: due times, pre-filled declarations, what was sent when,
and the reminders through a real SMTP server with an injectable clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from carbet.crisis import selectors, services, services_clock
from carbet.crisis.models import LogEntry, Obligation
from tests.crisis.conftest import T0

H = dt.timedelta(hours=1)
QUALIFIED = T0 + dt.timedelta(minutes=30)
AWARE = T0 - H


def _subjects(mail):
    return sorted(str(m.message["Subject"]) for m in mail.messages)


def test_reminders_once_per_stage_to_the_cell(case, region, mail):
    # The structure's director and referent, those of its organisation and GHT, the DPO contact.
    cell = {"dir@alpha.test", "ref@alpha.test", "dpo@alpha.test", "dg@alpha.test", "rssi@ght.test"}
    # At qualification: the ARS declaration is due at once.
    assert services_clock.send_reminders(now=QUALIFIED) == 1
    assert {r for m in mail.messages for r in m.envelope_to} == cell
    assert all("ARS" in s and "maintenant" in s for s in _subjects(mail))
    mail.clear()
    assert services_clock.send_reminders(now=QUALIFIED + H) == 0  # nothing new
    assert not mail.messages
    # The ARS declaration goes; its late reminder (24 h later) never comes.
    ars = case.obligations.get(kind="ars")
    services_clock.mark_obligation_sent(
        region.users["director"], ars, sent_at=QUALIFIED + 2 * H, reference="SIGNAL-42"
    )
    assert services_clock.send_reminders(now=QUALIFIED + 30 * H) == 0
    # 48 h after awareness: CNIL and complaint are "soon" (72 h after awareness).
    assert services_clock.send_reminders(now=AWARE + 48 * H) == 2
    assert len(mail.messages) == 2 * len(cell)
    mail.clear()
    # The job was down a long time: only the latest stage ("late") of each is sent.
    assert services_clock.send_reminders(now=AWARE + 100 * H) == 2
    assert all("en retard" in s for s in _subjects(mail))
    stages = dict(case.obligations.values_list("kind", "reminders_sent"))
    assert stages["cnil"] == ["soon", "late"] and stages["ars"] == ["due"]
    mail.clear()
    assert services_clock.send_reminders(now=AWARE + 200 * H) == 0


def test_sent_declarations_are_recorded_and_logged(case, region):
    cnil = case.obligations.get(kind="cnil")
    form = dict(services_clock.declaration_form(cnil))
    assert form["Structure"] == region.a.name and "Contact (DPO)" in form
    services_clock.mark_obligation_sent(
        region.users["referent"], cnil, sent_at=AWARE + 60 * H, reference="CNIL-2026-123"
    )
    cnil.refresh_from_db()
    assert cnil.sent_at == AWARE + 60 * H and cnil.reference == "CNIL-2026-123"
    assert "ref@alpha.test" in cnil.sent_by
    assert LogEntry.objects.filter(
        case=case, kind="communication", text__contains="CNIL-2026-123"
    ).exists()
    rows = {d["kind"]: d for d in selectors.declarations(case)}
    assert rows["cnil"]["status"] == "sent" and rows["cnil"]["reference"] == "CNIL-2026-123"
    services_clock.set_reference(
        region.users["director"], case.obligations.get(kind="police"), reference="PV 77"
    )
    assert case.obligations.get(kind="police").reference == "PV 77"
    with pytest.raises(PermissionDenied):
        services_clock.mark_obligation_sent(region.users["director_b"], cnil)


def test_facts_change_the_clock(case, region):
    services.update_facts(region.users["centre_analyst"], case, insurer_delay_hours=120)
    assert case.obligations.get(kind="insurer").due_at == AWARE + 120 * H
    services_clock.set_applicable(
        region.users["centre_analyst"],
        case.obligations.get(kind="insurer"),
        applicable=False,
        note="pas de contrat cyber",
    )
    assert services_clock.send_reminders(now=AWARE + 500 * H) == 3  # ars, cnil, police; not insurer
    assert case.obligations.get(kind="insurer").reminders_sent == []


def test_a_closed_case_is_not_reminded_and_the_command_runs(case, region, mail, capsys):
    services.change_phase(region.users["centre_analyst"], case, "closed", reason="fausse alerte")
    call_command("crisis", "reminders")
    assert "rappels envoyés : 0" in capsys.readouterr().out
    assert not mail.messages


def test_without_personal_data_no_cnil(region, keys):
    opened = services.open_case_for(
        region.users["centre_admin"], region.b, category="deni-service", now=T0
    )
    cnil = opened.obligations.get(kind="cnil")
    assert not cnil.applicable and cnil.due_at is None
    services.update_facts(region.users["centre_admin"], opened, personal_data=True)
    cnil = Obligation.objects.get(pk=cnil.pk)
    assert cnil.applicable and cnil.due_at == T0 + 72 * H
