"""Preparing an exercise (a copy that never touches the library), signed links, rights,
the console's bookkeeping, and what an exercise leaves behind (findings, actions, roadmap)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SYSTEM
from carbet.exercises import services, services_after, services_console, tokens
from carbet.exercises.choices import LinkPurpose
from carbet.exercises.models import AccessLink, RetexAnswer, ScenarioVersion
from carbet.exercises.services import ExerciseError

pytestmark = pytest.mark.django_db


def test_an_exercise_is_a_rendered_copy_and_the_library_row_never_changes(exercise, version):
    library_data = ScenarioVersion.objects.get(pk=version.pk).data
    assert exercise.title == "Rançongiciel au CH Alpha — site principal"
    first = exercise.injects.get(ref="I1")
    assert first.subject == "Écrans noirs sur Hopital Manager"
    assert first.body == "Bonjour, Hopital Manager ne répond plus au CH Alpha — site principal."
    assert exercise.expectations.get(ref="E1").cell.code == "crise"
    assert exercise.objectives == ["O1", "O2"]
    services.update_exercise(SYSTEM, exercise, variables={"logiciel": "Orbis"}, title="Test")
    assert exercise.injects.get(ref="I1").subject == "Écrans noirs sur Orbis"
    assert ScenarioVersion.objects.get(pk=version.pk).data == library_data
    assert AuditEntry.objects.filter(action="exercise.update").exists()


def test_rights_to_prepare_and_to_run(region, version, profile):
    start = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(PermissionDenied):  # a director runs, the centre prepares
        services.create_exercise(region.users["director"], region.a, version, planned_start=start)
    with pytest.raises(PermissionDenied):
        services.create_exercise(region.users["director_b"], region.a, version, planned_start=start)
    exercise = services.create_exercise(
        region.users["centre_analyst"], region.a, version, planned_start=start, profile=profile
    )
    with pytest.raises(PermissionDenied):
        services_console.start(region.users["director_b"], exercise)
    with pytest.raises(PermissionDenied):
        services_console.start(region.users["it_provider"], exercise)
    services_console.start(region.users["director"], exercise)
    assert AuditEntry.objects.filter(action="exercise.start").exists()
    with pytest.raises(ExerciseError):
        services_console.start(region.users["director"], exercise)


def test_signed_links_cannot_be_forged_reused_after_revocation_or_after_expiry(exercise):
    player = exercise.participants.get(email="crise@alpha.test")
    token = services.issue_link(SYSTEM, player)
    link = tokens.open_link(token, LinkPurpose.SPACE)
    assert link is not None and link.participant == player
    # Only the digest is stored: the token itself is nowhere in the database.
    assert not AccessLink.objects.filter(token_digest=token).exists()
    # Forged: a random token of the right shape, a token with a character changed, garbage.
    assert tokens.open_link(tokens.new_token(), LinkPurpose.SPACE) is None
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert tokens.open_link(tampered, LinkPurpose.SPACE) is None
    assert tokens.open_link("../../etc/passwd", LinkPurpose.SPACE) is None
    assert tokens.open_link(token, LinkPurpose.RETEX) is None  # wrong purpose
    # A new link revokes the old one; an explicit revocation closes it too.
    newer = services.issue_link(SYSTEM, player)
    assert tokens.open_link(token, LinkPurpose.SPACE) is None
    services.revoke_link(SYSTEM, tokens.open_link(newer, LinkPurpose.SPACE))
    assert tokens.open_link(newer, LinkPurpose.SPACE) is None
    # Expired.
    third = services.issue_link(SYSTEM, player)
    AccessLink.objects.filter(token_digest=tokens.digest(third)).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert tokens.open_link(third, LinkPurpose.SPACE) is None
    # A cancelled exercise opens nothing.
    fourth = services.issue_link(SYSTEM, player)
    services.cancel(SYSTEM, exercise)
    assert tokens.open_link(fourth, LinkPurpose.SPACE) is None


def test_player_reply_observer_grid_and_anonymous_retex(exercise, smtp):
    services_console.start(SYSTEM, exercise)
    from carbet.exercises import dispatch

    dispatch.run_clock({"exercise": exercise.pk}, once=True)
    player = exercise.participants.get(email="crise@alpha.test")
    observer = exercise.participants.get(role="observer")
    link = tokens.open_link(services.issue_link(SYSTEM, player), LinkPurpose.SPACE)
    first = exercise.injects.get(ref="I1")
    reply = services_console.submit_reply(link, body="Cellule de crise activée", inject=first)
    assert reply.participant == player
    assert exercise.log.filter(kind="reply").exists()
    with pytest.raises(ExerciseError):  # a player does not observe
        services_console.record_observation(link, exercise, criterion="C1", rating=3)
    watcher = tokens.open_link(services.issue_link(SYSTEM, observer), LinkPurpose.SPACE)
    seen = services_console.record_observation(watcher, exercise, criterion="Alerte", rating=4)
    assert seen.observer == observer
    with pytest.raises(ExerciseError):
        services_console.record_observation(watcher, exercise, criterion="Alerte", rating=9)
    retex = tokens.open_link(services.issue_retex_link(SYSTEM, exercise), LinkPurpose.RETEX)
    answer = services_console.submit_retex(retex, {"q1": "Bien", "q2": "Trop court"}, "player")
    assert answer.answers == {"q1": "Bien", "q2": "Trop court"}
    with pytest.raises(ExerciseError):  # one answer per link
        services_console.submit_retex(retex, {"q1": "Encore"})
    # Anonymous: the answer row has no link to a person or to the link.
    assert {f.name for f in RetexAnswer._meta.get_fields()} == {
        "id", "exercise", "role", "answers", "submitted_at",
    }  # fmt: skip


def test_after_the_exercise_findings_actions_and_the_roadmap_fact(exercise, region):
    from carbet.findings.models import ActionItem, Finding
    from carbet.roadmap.models import ServiceFact

    analyst = region.users["centre_analyst"]
    services_console.start(analyst, exercise)
    services_console.validate_expectation(
        analyst, exercise.expectations.get(ref="E1"), "partial", "Activée au bout d'une heure"
    )
    with pytest.raises(ExerciseError):  # evaluation comes after the end
        services_after.evaluate_objective(analyst, exercise, "O1", "partial")
    services_console.finish(analyst, exercise)
    fact = ServiceFact.objects.get(kind="exercise", structure=region.a)
    expected = {"continuity_test": False, "level": "debutant", "structures": [region.a.pk]}
    assert fact.value == expected
    services_after.evaluate_objective(analyst, exercise, "O1", "partial", "Alerte lente")
    services_after.add_item(analyst, exercise, kind="strength", title="Bonne coordination")
    improvement = services_after.add_item(
        analyst, exercise, kind="improvement", title="Annuaire de crise introuvable",
        detail="Personne n'avait les numéros.", recommendation="Imprimer l'annuaire.", severity=3,
    )  # fmt: skip
    report = services_after.ingest_retex(analyst, exercise)
    assert report.created == 1
    finding = Finding.objects.get(structure=region.a, source="exercise")
    assert finding.title == improvement.title
    assert ActionItem.objects.filter(findings=finding).count() == 1
    # Ingesting again changes nothing and makes no second action.
    again = services_after.ingest_retex(analyst, exercise)
    assert again.created == 0 and ActionItem.objects.filter(findings=finding).count() == 1


def test_coverage_says_which_structures_exercised_this_year(exercise, region):
    from carbet.exercises import selectors

    services_console.start(SYSTEM, exercise)
    services_console.finish(SYSTEM, exercise)
    rows = {row.structure.pk: row for row in selectors.coverage(region.users["centre_analyst"])}
    assert rows[region.a.pk].exercised and not rows[region.b.pk].exercised
    mine = selectors.coverage(region.users["director_b"])
    assert [row.structure.pk for row in mine] == [region.b.pk]
