"""Jobs pages: my jobs, one job's detail with its progress fragment, and tenancy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carbet.core.tenancy import SYSTEM
from carbet.jobs.models import Job, JobStatus


def _job(structure=None, actor=None, **fields) -> Job:
    values = {"kind": "platform.selftest", "title": "Import des structures", **fields}
    return Job.objects.create(structure=structure, actor=actor, **values)


@pytest.fixture
def jobs(region):
    return {
        "a": _job(region.a, title="Analyse Alpha"),
        "b": _job(region.b, title="Analyse Beta"),
        "mine": _job(None, region.users["director_b"], title="Mon export"),
        "regional": _job(None, None, title="Tâche régionale"),
    }


def test_list_shows_visible_jobs_newest_first(region, jobs):
    response = region.client("director").get(reverse("jobs:list"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Analyse Alpha" in text
    assert "Analyse Beta" not in text and "Mon export" not in text
    assert "Tâche régionale" not in text


def test_list_shows_own_jobs_without_structure(region, jobs):
    text = region.client("director_b").get(reverse("jobs:list")).content.decode()
    assert "Mon export" in text and "Analyse Beta" in text
    assert "Analyse Alpha" not in text


def test_centre_staff_see_every_job(region, jobs):
    text = region.client("centre_analyst").get(reverse("jobs:list")).content.decode()
    for title in ("Analyse Alpha", "Analyse Beta", "Mon export", "Tâche régionale"):
        assert title in text
    assert text.index("Tâche régionale") < text.index("Analyse Alpha")  # newest first


def test_detail_shows_state_progress_and_polls_while_running(region, jobs):
    job = jobs["a"]
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, progress=40, message="Lecture du fichier", attempts=2
    )
    response = region.client("director").get(reverse("jobs:detail", args=[job.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Analyse Alpha" in text and "Lecture du fichier" in text
    assert '<progress id="job-progress-bar" class="progress" max="100" value="40">' in text
    assert f'hx-get="{reverse("jobs:progress", args=[job.pk])}"' in text
    assert 'hx-trigger="every 2s"' in text
    assert "2 / 3" in text and "relancée automatiquement" in text


def test_progress_fragment_stops_polling_once_finished(region, jobs):
    job = jobs["a"]
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, progress=100, result={"created": 3, "updated": 1}
    )
    response = region.client("director").get(reverse("jobs:progress", args=[job.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text  # a fragment, not a page
    assert "hx-trigger" not in text
    assert "Créations" in text and "Mises à jour" in text
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_import_errors_are_listed_row_by_row(region, jobs):
    job = jobs["a"]
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        progress=100,
        result={
            "created": 1,
            "errors": [
                {"row": 4, "column": "finess_et", "value": "12345", "message": "FINESS invalide"},
                {"message": "Département inconnu", "row": 7},
                "Fichier incomplet",
            ],
        },
    )
    text = region.client("director").get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "3 lignes à corriger" in text
    assert "FINESS invalide" in text and "Département inconnu" in text
    assert "Fichier incomplet" in text
    assert '<th scope="col">Ligne</th>' in text and '<th scope="col">Colonne</th>' in text
    assert text.index(">4<") < text.index(">7<")


def test_failed_job_shows_technical_detail_to_centre_staff_only(region, jobs):
    job = jobs["a"]
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error="ValueError: secret internal path /srv/x"
    )
    url = reverse("jobs:detail", args=[job.pk])
    director_text = region.client("director").get(url).content.decode()
    assert "n'a pas pu aller au bout" in director_text
    assert "/srv/x" not in director_text
    assert "/srv/x" in region.client("centre_admin").get(url).content.decode()


@pytest.mark.parametrize("role", ["director_b", "ars_viewer", "nobody"])
@pytest.mark.parametrize("name", ["jobs:detail", "jobs:progress"])
def test_another_structures_job_is_not_found(region, jobs, role, name):
    response = region.client(role).get(reverse(name, args=[jobs["a"].pk]))
    assert response.status_code == 404


def test_own_job_without_structure_is_reachable_by_its_author_only(region, jobs):
    url = reverse("jobs:detail", args=[jobs["mine"].pk])
    assert region.client("director_b").get(url).status_code == 200
    assert region.client("director").get(url).status_code == 404


def test_pages_require_login(client, jobs):
    for url in (reverse("jobs:list"), reverse("jobs:detail", args=[jobs["a"].pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert "/compte/connexion/" in response["Location"]


def test_job_pages_refuse_post(region, jobs):
    response = region.client("director").post(reverse("jobs:progress", args=[jobs["a"].pk]))
    assert response.status_code == 405


def test_jobs_submitted_by_the_system_are_not_anyones_own(region):
    job = Job.objects.create(kind="platform.selftest", title="Sys", actor=None)
    assert not Job.objects.visible_to(region.users["director"]).filter(pk=job.pk).exists()
    assert Job.objects.visible_to(SYSTEM).filter(pk=job.pk).exists()
