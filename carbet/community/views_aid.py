"""Pages of mutual aid (mounted at /communaute/entraide/): the board, a post, the private
conversations and the skills directory. Posts are reached only through
``selectors_aid.posts_shown_to`` (the audience rule), conversations through
``selectors_aid.threads_for``: anything else is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.community import selectors_aid, services_aid
from carbet.community.choices import PostStatus
from carbet.community.forms_aid import (
    AnswerForm,
    BoardFilterForm,
    DirectoryFilterForm,
    HideForm,
    MessageForm,
    PostForm,
    PostStatusForm,
    ProfileForm,
)
from carbet.community.models import AidPost, AidThread, SkillProfile
from carbet.community.service import CommunityPerm
from carbet.core import access, pageforms
from carbet.core.tenancy import can

T = "community/aid/"


def _post(request: HttpRequest, pk: int) -> AidPost:
    return get_object_or_404(selectors_aid.posts_shown_to(request.user), pk=pk)


def _thread(request: HttpRequest, pk: int) -> AidThread:
    return get_object_or_404(selectors_aid.threads_for(request.user), pk=pk)


@login_required
def board(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    form = BoardFilterForm(request.GET or None)
    kind = topic = ""
    if form.is_valid():
        kind, topic = form.cleaned_data["kind"], form.cleaned_data["topic"]
    rows = selectors_aid.board(request.user, kind=kind, topic=topic)[:200]
    return render(
        request,
        T + "board.html",
        {
            "form": form,
            "posts": rows,
            "today": timezone.localdate(),
            "can_post": selectors_aid.acting_structures(request.user).exists(),
            "unread": selectors_aid.unread_count(request.user),
            "moderator": selectors_aid.sees_everything(request.user),
        },
    )


@login_required
def post_new(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.AID)
    structures = selectors_aid.acting_structures(request.user)
    if not structures.exists():
        raise access.refusal(_("Seules les structures publient dans l'entraide."))
    form = PostForm(request.POST or None, structures=structures)
    post = pageforms.saved(
        request,
        form,
        lambda: services_aid.create_post(
            request.user, form.cleaned_data["structure"], form.cleaned_data, ip=client_ip(request)
        ),
        _("Annonce publiée."),
    )
    if post is not None:
        return redirect("community:aid_post", post.pk)
    return render(request, T + "post_form.html", {"form": form, "post": None})


@login_required
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    own = selectors_aid.is_own(request.user, post)
    moderator = selectors_aid.sees_everything(request.user)
    answering = selectors_aid.answering_structures(request.user, post)
    answer_form = None
    if not own and answering.exists():
        answer_form = AnswerForm(structures=answering)
    threads = selectors_aid.threads_for(request.user).filter(post=post)
    return render(
        request,
        T + "post.html",
        {
            "post": post,
            "own": own,
            "moderator": moderator,
            "moderation": selectors_aid.moderation_of(post) if own or moderator else None,
            "answer_form": answer_form,
            "threads": threads,
            "hide_form": HideForm() if moderator and post.status != PostStatus.CLOSED else None,
            "expired": bool(post.expires_on and post.expires_on < timezone.localdate()),
        },
    )


@login_required
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    access.require(request.user, CommunityPerm.AID, post.structure)
    if not selectors_aid.is_own(request.user, post):
        raise access.refusal(_("Seules les personnes de la structure modifient son annonce."))
    initial = {
        name: getattr(post, name)
        for name in ("kind", "topic", "title", "body", "audience", "expires_on")
    }
    form = PostForm(
        request.POST or None,
        initial=initial,
        structures=selectors_aid.acting_structures(request.user),
        editing=True,
    )
    if pageforms.saved(
        request,
        form,
        lambda: services_aid.update_post(
            request.user, post, form.cleaned_data, ip=client_ip(request)
        ),
        _("Annonce modifiée."),
    ):
        return redirect("community:aid_post", post.pk)
    return render(request, T + "post_form.html", {"form": form, "post": post})


@login_required
@require_POST
def post_status(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    access.require(request.user, CommunityPerm.AID, post.structure)
    form = PostStatusForm(request.POST)
    if not form.is_valid():
        raise access.refusal(_("État inconnu."))
    try:
        services_aid.set_post_status(
            request.user, post, form.cleaned_data["status"], ip=client_ip(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("État de l'annonce enregistré."))
    return redirect("community:aid_post", post.pk)


@login_required
@require_POST
def post_hide(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    form = HideForm(request.POST)
    pageforms.posted(
        request,
        form,
        lambda: services_aid.hide_post(
            request.user, post, form.cleaned_data["reason"], ip=client_ip(request)
        ),
        _("Annonce masquée : seule sa structure la voit encore."),
        invalid=_("Dites à la structure pourquoi l'annonce est masquée."),
    )
    return redirect("community:aid_post", post.pk)


@login_required
@require_POST
def post_answer(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    access.require(request.user, CommunityPerm.AID)
    structures = selectors_aid.answering_structures(request.user, post)
    if not structures.exists():
        raise access.refusal(_("Cette annonce n'est pas ouverte à vos structures."))
    form = AnswerForm(request.POST, structures=structures)
    thread = pageforms.posted(
        request,
        form,
        lambda: services_aid.answer_post(
            request.user,
            post,
            form.cleaned_data["structure"],
            form.cleaned_data["body"],
            ip=client_ip(request),
        ),
        _("Message envoyé. La structure est prévenue."),
        invalid=_("Écrivez votre message."),
    )
    if thread is not None:
        return redirect("community:aid_thread", thread.pk)
    return redirect("community:aid_post", post.pk)


@login_required
def threads(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    rows = selectors_aid.threads_for(request.user).order_by("-updated_at")[:200]
    mine = {s.pk for s in selectors_aid.viewer_structures(request.user)}
    items = [
        {
            "thread": t,
            "subject": selectors_aid.thread_subject(t),
            "with": t.owner if t.structure_id in mine else t.structure,
        }
        for t in rows
    ]
    return render(
        request,
        T + "threads.html",
        {"items": items, "moderator": selectors_aid.sees_everything(request.user)},
    )


@login_required
def thread(request: HttpRequest, pk: int) -> HttpResponse:
    row = _thread(request, pk)
    side = selectors_aid.side_of(request.user, row)
    form = MessageForm(request.POST or None) if side is not None else None
    if request.method == "POST":
        if form is None:
            raise access.refusal(_("Seules les deux structures de la conversation y écrivent."))
        if pageforms.saved(
            request,
            form,
            lambda: services_aid.write(
                request.user, row, form.cleaned_data["body"], ip=client_ip(request)
            ),
            _("Message envoyé. L'autre structure est prévenue."),
        ):
            return redirect("community:aid_thread", row.pk)
    services_aid.mark_read(request.user, row)
    history = [
        {
            "message": m,
            "mine": side is not None and m.structure_id == side.pk,
            "author": selectors_aid.person_label(m.author, m.structure),
        }
        for m in row.messages.select_related("author", "structure")
    ]
    return render(
        request,
        T + "thread.html",
        {
            "thread": row,
            "subject": selectors_aid.thread_subject(row),
            "side": side,
            "other": selectors_aid.other_side(row, side) if side else None,
            "history": history,
            "form": form,
            "post_shown": row.post_id
            and selectors_aid.posts_shown_to(request.user).filter(pk=row.post_id).exists(),
        },
    )


@login_required
def skills(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    form = DirectoryFilterForm(request.GET or None)
    search, remote, on_site = "", False, False
    if form.is_valid():
        search = form.cleaned_data["q"]
        remote, on_site = form.cleaned_data["remote"], form.cleaned_data["on_site"]
    rows = selectors_aid.directory(request.user, search=search, remote=remote, on_site=on_site)
    own = selectors_aid.profile_of(request.user)
    return render(
        request,
        T + "skills.html",
        {
            "form": form,
            "profiles": [
                {"profile": p, "name": selectors_aid.person_label(p.user, p.structure)}
                for p in rows[:300]
            ],
            "own": own,
            "can_edit": selectors_aid.acting_structures(request.user).exists(),
            "mine": {s.pk for s in selectors_aid.acting_structures(request.user)},
        },
    )


@login_required
def skills_edit(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.AID)
    structures = selectors_aid.acting_structures(request.user)
    if not structures.exists():
        raise access.refusal(_("L'annuaire réunit les personnes des structures."))
    own = selectors_aid.profile_of(request.user)
    initial = {"remote": True}
    if own is not None:
        initial = {
            "structure": own.structure_id,
            "skills": ", ".join(own.skills),
            "software": ", ".join(own.software),
            "description": own.description,
            "remote": own.remote,
            "on_site": own.on_site,
            "visible": own.visible,
        }
    form = ProfileForm(request.POST or None, initial=initial, structures=structures)
    if pageforms.saved(
        request,
        form,
        lambda: services_aid.save_profile(
            request.user, form.cleaned_data["structure"], form.cleaned_data, ip=client_ip(request)
        ),
        lambda profile: (
            _("Fiche enregistrée : vous paraissez dans l'annuaire.")
            if profile.visible
            else _("Fiche enregistrée : vous ne paraissez pas dans l'annuaire.")
        ),
    ):
        return redirect("community:aid_skills")
    return render(request, T + "skills_form.html", {"form": form, "own": own})


@login_required
def skill_contact(request: HttpRequest, pk: int) -> HttpResponse:
    profile: SkillProfile = get_object_or_404(selectors_aid.profiles_reachable(request.user), pk=pk)
    access.require(request.user, CommunityPerm.AID)
    structures = selectors_aid.acting_structures(request.user).exclude(pk=profile.structure_id)
    if not structures.exists():
        raise access.refusal(_("Écrivez à une personne d'une autre structure."))
    form = AnswerForm(request.POST or None, structures=structures)
    row = pageforms.saved(
        request,
        form,
        lambda: services_aid.contact_profile(
            request.user,
            profile,
            form.cleaned_data["structure"],
            form.cleaned_data["body"],
            ip=client_ip(request),
        ),
        _("Message envoyé. La personne est prévenue."),
    )
    if row is not None:
        return redirect("community:aid_thread", row.pk)
    return render(
        request,
        T + "skill_contact.html",
        {
            "profile": profile,
            "name": selectors_aid.person_label(profile.user, profile.structure),
            "form": form,
            "can_answer": can(request.user, CommunityPerm.AID),
        },
    )
