"""Account management pages (centre administrators): list, create, detail and changes."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from carbet.accounts import services, user_admin
from carbet.accounts.decorators import verified_login_required
from carbet.accounts.forms_users import (
    MembershipForm,
    UserCreateForm,
    UserSearchForm,
    UserUpdateForm,
)
from carbet.accounts.models import Membership
from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core.tenancy import can

PAGE_SIZE = 50


def user_manager_required(view):
    @verified_login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can(request.user, Perm.USER_MANAGE):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _target(request, pk: int):
    return get_object_or_404(user_admin.users_visible_to(request.user), pk=pk)


@never_cache
@user_manager_required
def users_view(request):
    search = UserSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    users = user_admin.search_users(request.user, query)
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/users.html",
        {"search": search, "page": page, "query": query, "create_form": None},
    )


@never_cache
@user_manager_required
def user_create_view(request):
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_admin.create_user(
                request.user,
                email=data["email"],
                full_name=data["full_name"],
                centre_role=data.get("centre_role") or "",
                membership=form.spec(),
                ip=client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            link = request.build_absolute_uri(user_admin.set_password_path(user))
            return render(request, "accounts/user_link.html", {"target": user, "link": link})
    return render(request, "accounts/user_create.html", {"form": form})


def _render_detail(request, target, status: int = 200, **forms):
    context = {
        "target": target,
        "memberships": target.memberships.select_related(
            "structure", "organisation", "ght"
        ).order_by("role", "pk"),
        "has_mfa": services.has_confirmed_totp(target),
        "tokens_active": sum(1 for t in target.api_tokens.all() if t.is_active),
        "update_form": UserUpdateForm(
            initial={
                "full_name": target.full_name,
                "centre_role": target.centre_role,
                "is_active": target.is_active,
            },
            actor=request.user,
        ),
        "membership_form": MembershipForm(actor=request.user),
        "is_self": target.pk == request.user.pk,
    }
    context.update(forms)
    return render(request, "accounts/user_detail.html", context, status=status)


@never_cache
@user_manager_required
def user_detail_view(request, pk: int):
    return _render_detail(request, _target(request, pk))


@require_POST
@user_manager_required
def user_update_view(request, pk: int):
    target = _target(request, pk)
    form = UserUpdateForm(
        request.POST, actor=request.user, initial={"centre_role": target.centre_role}
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            changes = user_admin.update_user(
                request.user,
                target,
                full_name=data["full_name"],
                centre_role=data["centre_role"] or "",
                is_active=data["is_active"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if changes:
                messages.success(request, _("Modifications enregistrées."))
            else:
                messages.info(request, _("Aucune modification."))
            return redirect("accounts:user_detail", pk=target.pk)
    return _render_detail(request, target, status=400, update_form=form)


@require_POST
@user_manager_required
def membership_add_view(request, pk: int):
    target = _target(request, pk)
    form = MembershipForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            user_admin.add_membership(request.user, target, form.spec(), ip=client_ip(request))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Rattachement ajouté."))
            return redirect("accounts:user_detail", pk=target.pk)
    return _render_detail(request, target, status=400, membership_form=form)


@require_POST
@user_manager_required
def membership_remove_view(request, pk: int):
    visible_users = user_admin.users_visible_to(request.user)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, user__in=visible_users
    )
    try:
        user_admin.remove_membership(request.user, membership, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Rattachement retiré."))
    return redirect("accounts:user_detail", pk=membership.user_id)


@require_POST
@user_manager_required
def user_mfa_reset_view(request, pk: int):
    target = _target(request, pk)
    user_admin.reset_mfa(request.user, target, ip=client_ip(request))
    messages.success(
        request,
        _(
            "Double authentification réinitialisée : la personne la configurera à sa "
            "prochaine connexion."
        ),
    )
    return redirect("accounts:user_detail", pk=target.pk)


@never_cache
@require_POST
@user_manager_required
def user_link_view(request, pk: int):
    target = _target(request, pk)
    path = user_admin.issue_set_password_link(request.user, target, ip=client_ip(request))
    link = request.build_absolute_uri(path)
    return render(request, "accounts/user_link.html", {"target": target, "link": link})
