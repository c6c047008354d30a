"""What every crisis page shares: reaching a case and its rows, the case's tabs, failures.

A case and each of its rows are reached through ``carbet.core.access`` only: a case the person
may not see (another structure's, or one whose cell they do not sit in) is a 404; a visible one
without the right to act is a 403. Rows of one case asked for under another case's address are
404s too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import Perm
from carbet.core import access
from carbet.core.tenancy import can
from carbet.crisis.models import CrisisCase
from carbet.crisis.service import CrisisPerm

# The case's tabs: (code, label, url name).
TABS = (
    ("overview", _("Vue d'ensemble"), "crisis:case"),
    ("director", _("Page de la direction"), "crisis:director"),
    ("log", _("Main courante"), "crisis:log"),
    ("decisions", _("Décisions"), "crisis:decisions"),
    ("tasks", _("Tâches"), "crisis:tasks"),
    ("sitreps", _("Points de situation"), "crisis:sitreps"),
    ("clock", _("Déclarations"), "crisis:clock"),
    ("stakeholders", _("Parties prenantes"), "crisis:stakeholders"),
    ("board", _("Continuité des soins"), "crisis:board"),
    ("evidence", _("Preuves et indicateurs"), "crisis:evidence"),
    ("exit", _("Sortie et retour d'expérience"), "crisis:exit"),
)


def case_for(request: HttpRequest, pk: Any, perm: Perm | Any = None) -> CrisisCase:
    """The case ``pk`` if the person sits in its cell or works at the centre (else 404), with
    ``perm`` (else 403; seeing is enough without it)."""
    queryset = CrisisCase.objects.visible_to(request.user, CrisisPerm.VIEW).select_related(
        "structure", "report"
    )
    return access.owned_for(
        request.user, queryset, pk, perm or CrisisPerm.VIEW, see=CrisisPerm.VIEW
    )


def row_of[RowT: Model](
    request: HttpRequest, case: CrisisCase, model: type[RowT], pk: Any, perm: Any
) -> RowT:
    """A row of ``case`` (through the case's visibility); a row of another case is a 404."""
    row = access.owned_for(request.user, model, pk, perm, see=CrisisPerm.VIEW)
    case_id = getattr(row, "case_id", None)
    if case_id is None:  # custody entries hang on evidence
        case_id = getattr(getattr(row, "evidence", None), "case_id", None)
    if case_id != case.pk:
        raise Http404
    return row


def case_page(
    request: HttpRequest, case: CrisisCase, tab: str, template: str, context: dict[str, Any]
) -> HttpResponse:
    may = {
        "may_contribute": can(request.user, CrisisPerm.CONTRIBUTE, case.structure),
        "may_manage": can(request.user, CrisisPerm.MANAGE, case.structure),
    }
    return render(
        request,
        template,
        {"case": case, "tab": tab, "tabs": TABS, **may, **context},
    )


def attempt(request: HttpRequest, action: Callable[[], Any], success: str | None = None) -> Any:
    """Run a service call; a refusal the person can fix becomes a message, never a 500."""
    try:
        result = action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    except ValueError as exc:
        messages.error(request, str(exc))
        return None
    if success:
        messages.success(request, success)
    return result if result is not None else True


def attempt_form(
    request: HttpRequest, form: Any, action: Callable[[], Any], success: str | None = None
) -> Any:
    """``attempt`` for a form posted from a page that redirects: an invalid form's errors
    become a message and nothing is called."""
    if not form.is_valid():
        form_errors(request, form)
        return None
    return attempt(request, action, success)


def form_errors(request: HttpRequest, form: Any) -> None:
    """A form refused on a page that redirects: its errors as one message (the page's own
    form keeps the fields; nothing typed in the other fields is lost thanks to the re-render)."""
    lines = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        lines.append(f"{label} : {' '.join(errors)}" if label else " ".join(errors))
    messages.error(request, " · ".join(str(line) for line in lines))
