"""The one task the backends carry: run a Carbet job by id."""

from django.tasks import task

from carbet.jobs import services


@task()
def run_job(job_id: str) -> None:
    services.execute(job_id)
