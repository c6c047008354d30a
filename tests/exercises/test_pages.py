"""The exercises' staff pages, per role: the library, preparing an exercise, the live console,
the evaluation, the coverage of the region, the ARS summary — and the refusals across
structures (another structure's director, the ARS, an account without role)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.exercises import services, services_console
from carbet.exercises.models import (
    AccessLink,
    Exercise,
    Expectation,
    ExpectationResult,
    Participant,
    Reply,
)
from tests.conftest import login

TOKEN_RE = re.compile(r"/x/([A-Za-z0-9_-]{40,64})/")


def client_of(region, role: str) -> Client:
    return login(Client(), region.users[role])


def test_analyst_sees_every_page_of_an_exercise(region, exercise, version):
    client = client_of(region, "centre_analyst")
    for path in (
        "/exercices/",
        "/exercices/bibliotheque/",
        f"/exercices/bibliotheque/{version.pk}/",
        "/exercices/bibliotheque/import/",
        f"/exercices/bibliotheque/{version.pk}/exercice/",
        f"/exercices/{exercise.pk}/",
        f"/exercices/{exercise.pk}/console/",
        f"/exercices/{exercise.pk}/console/direct/",
        f"/exercices/{exercise.pk}/evaluation/",
        f"/exercices/{exercise.pk}/modifier/",
        f"/exercices/structures/{region.a.pk}/",
        "/exercices/couverture/",
        "/exercices/regional/",
        "/exercices/ars/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get(f"/exercices/{exercise.pk}/").content.decode()
    assert "Observatrice" in page and "liste de préparation" in page


def test_director_runs_but_does_not_prepare(region, exercise, version):
    client = client_of(region, "director")
    assert client.get(f"/exercices/{exercise.pk}/console/").status_code == 200
    assert client.get(f"/exercices/{exercise.pk}/evaluation/").status_code == 200
    # Preparing (people, links, new exercises) is the centre's.
    assert client.get(f"/exercices/bibliotheque/{version.pk}/exercice/").status_code == 403
    participant = Participant.objects.filter(exercise=exercise).first()
    assert client.post(f"/exercices/participants/{participant.pk}/lien/").status_code == 403
    assert client.get("/exercices/couverture/").status_code == 403


@pytest.mark.parametrize("role", ["director_b", "ars_viewer", "it_provider", "nobody"])
def test_other_roles_cannot_reach_the_exercise(region, exercise, role):
    client = client_of(region, role)
    expectation = Expectation.objects.filter(exercise=exercise).first()
    participant = Participant.objects.filter(exercise=exercise).first()
    for method, path in (
        ("get", f"/exercices/{exercise.pk}/"),
        ("get", f"/exercices/{exercise.pk}/console/"),
        ("get", f"/exercices/{exercise.pk}/console/direct/"),
        ("get", f"/exercices/{exercise.pk}/rapport.pdf"),
        ("post", f"/exercices/{exercise.pk}/console/demarrer/"),
        ("post", f"/exercices/attendus/{expectation.pk}/"),
        ("post", f"/exercices/participants/{participant.pk}/lien/"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code in (403, 404), (role, path, response.status_code)
    assert not AccessLink.objects.filter(participant=participant).exists()
    assert Exercise.objects.get(pk=exercise.pk).status == "draft"


def test_ars_summary_names_no_structure(region, exercise):
    Exercise.objects.filter(pk=exercise.pk).update(status="finished", started_at=timezone.now())
    client = client_of(region, "ars_viewer")
    page = client.get("/exercices/ars/").content.decode()
    assert "CH Alpha" not in page and "EHPAD Beta" not in page
    assert "secret" in page  # three structures: too few to publish anything but the count
    assert client_of(region, "director").get("/exercices/ars/").status_code == 403


def test_coverage_lists_who_exercised_and_who_did_not(region, exercise):
    Exercise.objects.filter(pk=exercise.pk).update(status="finished", started_at=timezone.now())
    page = client_of(region, "centre_analyst").get("/exercices/couverture/").content.decode()
    missing, done = (
        page.split("structures exercées", 1)
        if "structures exercées" in page
        else page.split("structure exercée", 1)
    )
    assert "EHPAD Beta" in missing and "CH Alpha" in done
    filtered = (
        client_of(region, "centre_analyst")
        .get("/exercices/couverture/?departement=971")
        .content.decode()
    )
    assert "EHPAD Beta" in filtered and "CH Alpha — site principal" not in filtered


def test_exercise_from_a_scenario_then_people_and_a_link(region, version):
    client = client_of(region, "centre_analyst")
    start = (timezone.localtime() + timezone.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/exercices/bibliotheque/{version.pk}/exercice/",
        {
            "structure": region.a.pk,
            "planned_start": start,
            "compression": "1",
            "objectives": ["O1"],
            "var_logiciel": "Orbis",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    exercise = Exercise.objects.get(structure=region.a)
    assert exercise.objectives == ["O1"] and exercise.variables["logiciel"] == "Orbis"
    assert "Orbis" in exercise.injects.get(ref="I1").subject
    response = client.post(
        f"/exercices/{exercise.pk}/participants/", {"name": "Mme Joueuse", "role": "player"}
    )
    assert response.status_code == 302
    participant = Participant.objects.get(exercise=exercise, name="Mme Joueuse")
    page = client.post(f"/exercices/participants/{participant.pk}/lien/").content.decode()
    (token,) = TOKEN_RE.findall(page)
    assert Client().get(f"/x/{token}/").status_code == 200
    # A new link revokes the first one.
    client.post(f"/exercices/participants/{participant.pk}/lien/")
    assert Client().get(f"/x/{token}/").status_code == 404


def test_console_start_reply_and_validation_reach_the_live_region(region, exercise):
    client = client_of(region, "centre_analyst")
    player = Participant.objects.get(exercise=exercise, name="Joueur Crise")
    token = services.issue_link(SYSTEM, player)
    assert client.post(f"/exercices/{exercise.pk}/console/demarrer/").status_code == 302
    exercise.refresh_from_db()
    assert exercise.status == "running"
    live = client.get(f"/exercices/{exercise.pk}/console/direct/")
    digest = re.search(r'"v": "([0-9a-f]+)"', live.content.decode()).group(1)
    # Nothing new: the poll answers 204 and htmx keeps the region (no announcement).
    assert client.get(f"/exercices/{exercise.pk}/console/direct/?v={digest}").status_code == 204
    response = Client().post(f"/x/{token}/", {"body": "Cellule de crise activée à 9 h 05."})
    assert response.status_code == 302
    assert Reply.objects.filter(exercise=exercise, participant=player).count() == 1
    live = client.get(f"/exercices/{exercise.pk}/console/direct/?v={digest}")
    assert live.status_code == 200 and "Cellule de crise activée" in live.content.decode()
    expectation = Expectation.objects.get(exercise=exercise, ref="E1")
    response = client.post(
        f"/exercices/attendus/{expectation.pk}/", {"outcome": "partial", "comment": "Lente"}
    )
    assert response.status_code == 302
    assert ExpectationResult.objects.get(expectation=expectation).outcome == "partial"
    assert (
        "Attendus évalués : 1 sur"
        in client.get(f"/exercices/{exercise.pk}/console/direct/").content.decode()
    )
    assert client.post(f"/exercices/{exercise.pk}/console/pause/").status_code == 302
    exercise.refresh_from_db()
    assert exercise.status == "paused"


def test_after_the_exercise_evaluation_items_findings_and_report(region, exercise):
    from carbet.findings.models import Finding

    client = client_of(region, "director")
    services_console.start(SYSTEM, exercise)
    services_console.finish(SYSTEM, exercise)
    response = client.post(
        f"/exercices/{exercise.pk}/evaluation/O1/",
        {"o-O1-objective": "O1", "o-O1-outcome": "met", "o-O1-comment": "Bien"},
    )
    assert response.status_code == 302
    assert exercise.evaluations.get(objective="O1").outcome == "met"
    response = client.post(
        f"/exercices/{exercise.pk}/enseignements/",
        {
            "kind": "improvement",
            "title": "Annuaire de crise absent",
            "recommendation": "L'imprimer",
            "severity": "3",
            "objective": "O1",
        },
    )
    assert response.status_code == 302
    assert exercise.items.filter(title="Annuaire de crise absent").exists()
    assert client.post(f"/exercices/{exercise.pk}/plan-action/").status_code == 302
    assert Finding.objects.filter(structure=region.a, title__icontains="Annuaire").exists()
    page = client.get(f"/exercices/{exercise.pk}/evaluation/").content.decode()
    assert "Annuaire de crise absent" in page
    pdf = client.get(f"/exercices/{exercise.pk}/rapport.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_hot_retex_is_anonymous_and_answered_once(region, exercise):
    token = services.issue_retex_link(SYSTEM, exercise)
    answers = {
        "role": "player",
        "clarity": "4",
        "realism": "3",
        "coordination": "2",
        "learned": "4",
        "to_improve": "Savoir qui appeler",
    }
    assert Client().post(f"/x/{token}/", answers).status_code == 200
    (answer,) = exercise.retex.all()
    assert answer.answers["to_improve"] == "Savoir qui appeler"
    page = Client().post(f"/x/{token}/", answers).content.decode()
    assert exercise.retex.count() == 1 and "ne peut plus être modifiée" in page
    summary = client_of(region, "director").get(f"/exercices/{exercise.pk}/evaluation/")
    assert "Savoir qui appeler" in summary.content.decode()


def test_observer_fills_the_grid_from_the_public_space(region, exercise):
    observer = Participant.objects.get(exercise=exercise, role="observer")
    token = services.issue_link(SYSTEM, observer)
    page = Client().get(f"/x/{token}/").content.decode()
    assert "Grille d'observation" in page and "Alerte rapide" in page
    bad = Client().post(f"/x/{token}/", {"criterion": "Alerte rapide"})
    assert bad.status_code == 400 and 'role="alert"' in bad.content.decode()
    ok = Client().post(f"/x/{token}/", {"criterion": "Alerte rapide", "rating": "3", "note": "ok"})
    assert ok.status_code == 302
    (row,) = exercise.observations.all()
    assert row.observer == observer and row.rating == 3


def test_public_space_refuses_forged_revoked_and_foreign_tokens(region, exercise):
    player = Participant.objects.get(exercise=exercise, name="Joueur Crise")
    token = services.issue_link(SYSTEM, player)
    assert Client().get(f"/x/{token}/").status_code == 200
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert Client().get(f"/x/{forged}/").status_code == 404
    assert Client().get("/x/1/").status_code == 404
    link = AccessLink.objects.get(participant=player)
    services.revoke_link(SYSTEM, link)
    for path in (f"/x/{token}/", f"/x/{token}/presse/"):
        assert Client().get(path).status_code == 404
    assert Client().post(f"/x/{token}/", {"body": "après révocation"}).status_code == 404
    assert not Reply.objects.filter(exercise=exercise).exists()


def test_editing_the_variables_rewrites_the_messages_before_the_start(region, exercise):
    client = client_of(region, "centre_analyst")
    start = timezone.localtime(exercise.planned_start).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": exercise.title,
        "planned_start": start,
        "duration_minutes": exercise.duration_minutes,
        "compression": exercise.compression,
        "var_structure": "CH du Lamantin",
        "var_logiciel": "Sillage",
    }
    page = client.get(f"/exercices/{exercise.pk}/modifier/").content.decode()
    assert 'value="Hopital Manager"' in page  # the current value is shown
    assert client.post(f"/exercices/{exercise.pk}/modifier/", form).status_code == 302
    exercise.refresh_from_db()
    assert exercise.variables["logiciel"] == "Sillage"
    assert exercise.injects.get(ref="I1").subject == "Écrans noirs sur Sillage"
    services_console.start(SYSTEM, exercise)
    form["var_logiciel"] = "Autre"
    response = client.post(f"/exercices/{exercise.pk}/modifier/", form)
    assert response.status_code == 200 and "ne se modifie plus" in response.content.decode()
