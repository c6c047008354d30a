"""Pages of background jobs: the list of my jobs, one job's detail and its progress fragment."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from carbet.accounts.roles import Perm
from carbet.core.tenancy import can
from carbet.jobs.models import Job
from carbet.jobs.presentation import error_table, result_summary

PAGE_SIZE = 30


def _visible_jobs(request):
    # Everyone signed in sees the jobs they started, plus those of structures they follow.
    return Job.objects.visible_to(request.user).select_related("structure")


def _job_for(request, pk) -> Job:
    return get_object_or_404(_visible_jobs(request), pk=pk)


def _context(request, job: Job) -> dict:
    return {
        "job": job,
        "summary": result_summary(job.result),
        "errors": error_table(job.result),
        # Exception text is for the centre's staff; others get the plain message.
        "show_technical_error": can(request.user, Perm.REGION_VIEW),
    }


@login_required
@require_GET
def job_list(request):
    page = Paginator(_visible_jobs(request).order_by("-created_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "jobs/list.html", {"page": page})


@login_required
@require_GET
def job_detail(request, pk):
    job = _job_for(request, pk)
    return render(request, "jobs/detail.html", _context(request, job))


@never_cache
@login_required
@require_GET
def job_progress(request, pk):
    """The htmx fragment polled every 2 s while the job runs; it stops polling once finished."""
    job = _job_for(request, pk)
    return render(request, "jobs/_progress.html", _context(request, job))
