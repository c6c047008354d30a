"""Pages of the knowledge base (``/communaute/savoir/``): the search and the lists for everyone in
the community, the article page at its stable address, and the centre's pages to write,
publish, archive and follow the versions of an article."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.community import selectors_knowledge as selectors
from carbet.community import services_knowledge as services
from carbet.community.forms_knowledge import ArticleForm, SearchForm
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.forms import apply_errors

T = "community/knowledge/"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The search box, the categories, the latest articles (and the centre's drafts)."""
    access.require(request.user, CommunityPerm.VIEW)
    centre = selectors.can_write(request.user)
    form = SearchForm(request.GET or None, centre=centre)
    filters = form.filters() if request.GET else {}
    query = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    result = None
    browsing = None
    if query:
        result = selectors.run_search(request.user, query, **filters)
    elif any(filters.values()):
        browsing = list(
            selectors.filtered(selectors.listed(request.user), **filters).order_by("title")[:200]
        )
    return render(
        request,
        T + "home.html",
        {
            "form": form,
            "result": result,
            "browsing": browsing,
            "filters": filters,
            "categories": selectors.categories(request.user),
            "tags": selectors.tags(request.user),
            "latest": selectors.latest(request.user),
            "drafts": selectors.drafts(request.user),
            "can_write": centre,
        },
    )


@login_required
def article(request: HttpRequest, slug: str) -> HttpResponse:
    row = selectors.article_for(request.user, slug)
    return render(
        request,
        T + "article.html",
        {
            "article": row,
            "body": selectors.body_html(row.body),
            "can_write": selectors.can_write(request.user),
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.PUBLISH)
    categories = [name for name, _count in selectors.categories(request.user)]
    form = ArticleForm(categories=categories)
    if request.method == "POST":
        form = ArticleForm(request.POST, categories=categories)
        if form.is_valid():
            try:
                created = services.create_article(
                    request.user,
                    form.values(),
                    note=form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("Brouillon enregistré : seul le centre le voit avant publication.")
                )
                return redirect("community:knowledge_article", created.slug)
    return render(request, T + "edit.html", {"form": form, "article": None})


@login_required
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    row = selectors.article_for(request.user, slug, CommunityPerm.PUBLISH)
    categories = [name for name, _count in selectors.categories(request.user)]
    form = ArticleForm(article=row, categories=categories)
    if request.method == "POST":
        form = ArticleForm(request.POST, article=row, categories=categories)
        if form.is_valid():
            try:
                changed = services.update_article(
                    request.user,
                    row,
                    form.values(),
                    note=form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                if changed:
                    messages.success(request, _("Version %(n)d enregistrée.") % {"n": row.version})
                else:
                    messages.info(request, _("Rien n'a changé : aucune version ajoutée."))
                return redirect("community:knowledge_article", row.slug)
    return render(request, T + "edit.html", {"form": form, "article": row})


@login_required
def history(request: HttpRequest, slug: str) -> HttpResponse:
    row = selectors.article_for(request.user, slug, CommunityPerm.PUBLISH)
    rows = list(selectors.versions(row))
    return render(request, T + "history.html", {"article": row, "versions": rows})


@login_required
def version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    row = selectors.article_for(request.user, slug, CommunityPerm.PUBLISH)
    old = selectors.version_of(row, number)
    return render(
        request,
        T + "version.html",
        {"article": row, "version": old, "body": selectors.body_html(old.body)},
    )


def _number(value: str | None, default: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return number if 0 < number < 10**6 else default


@login_required
def diff(request: HttpRequest, slug: str) -> HttpResponse:
    """What changed between two versions (``?a=`` and ``?b=``, the last two by default)."""
    row = selectors.article_for(request.user, slug, CommunityPerm.PUBLISH)
    second = _number(request.GET.get("b"), row.version)
    first = _number(request.GET.get("a"), max(1, second - 1))
    result = selectors.version_diff(row, first, second)
    return render(
        request,
        T + "diff.html",
        {"article": row, "diff": result, "versions": list(selectors.versions(row))},
    )


def _status_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    row = selectors.article_for(request.user, slug, CommunityPerm.PUBLISH)
    ip = client_ip(request)
    try:
        if action == "publish":
            services.publish(request.user, row, ip=ip)
            messages.success(request, _("Article publié : toute la communauté peut le lire."))
        elif action == "archive":
            services.archive(request.user, row, ip=ip)
            messages.success(
                request, _("Article archivé : retiré des listes, son adresse reste valable.")
            )
        else:
            services.delete_draft(request.user, row, ip=ip)
            messages.success(request, _("Brouillon supprimé."))
            return redirect("community:knowledge")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("community:knowledge_article", row.slug)


@login_required
@require_POST
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_action(request, slug, "publish")


@login_required
@require_POST
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_action(request, slug, "archive")


@login_required
@require_POST
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    return _status_action(request, slug, "delete")
