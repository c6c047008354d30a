""" "Mon compte": who I am, my rights, my second factor, my password, language and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import activate, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from carbet.accounts import permdoc, services
from carbet.accounts.decorators import verified_login_required
from carbet.accounts.forms import (
    LanguageForm,
    PasswordConfirmForm,
    ProfilePasswordForm,
    TokenCreateForm,
)
from carbet.accounts.models import ApiToken
from carbet.accounts.views_auth import apply_language
from carbet.audit.services import client_ip


def _render_profile(request, status: int = 200, **overrides):
    user = request.user
    context = {
        "account": user,
        "memberships": user.memberships.select_related("structure", "organisation", "ght").order_by(
            "role", "pk"
        ),
        "has_totp": services.has_confirmed_totp(user),
        "backup_codes_left": services.backup_codes_left(user),
        "mfa_required": user.mfa_required,
        "tokens": user.api_tokens.order_by("-created_at"),
        "token_notices": services.token_notices(user),
        "password_form": ProfilePasswordForm(user),
        "language_form": LanguageForm(initial={"language": user.language}),
        "mfa_remove_form": PasswordConfirmForm(),
        "token_form": TokenCreateForm(),
        "new_token": None,
    }
    context.update(overrides)
    return render(request, "accounts/profile.html", context, status=status)


@never_cache
@verified_login_required
def profile_view(request):
    return _render_profile(request)


@never_cache
@require_POST
@verified_login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def password_change_view(request):
    form = ProfilePasswordForm(request.user, request.POST)
    if not form.is_valid():
        return _render_profile(request, status=400, password_form=form)
    revoked = services.change_password(request, form)
    messages.success(request, _("Votre mot de passe a été changé."))
    if revoked:
        messages.warning(
            request,
            ngettext(
                "Votre jeton d'API a été révoqué par sécurité : créez-en un nouveau pour vos "
                "scripts.",
                "Vos %(n)d jetons d'API ont été révoqués par sécurité : créez-en de nouveaux "
                "pour vos scripts.",
                revoked,
            )
            % {"n": revoked},
        )
    return redirect("accounts:profile")


@require_POST
@verified_login_required
def language_view(request):
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, status=400, language_form=form)
    language = form.cleaned_data["language"]
    services.set_language(request.user, language)
    activate(language)
    messages.success(request, _("Langue enregistrée."))
    return apply_language(redirect("accounts:profile"), language)


@never_cache
@require_POST
@verified_login_required
@sensitive_post_parameters("password")
def mfa_remove_view(request):
    form = PasswordConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.remove_own_mfa(request, form.cleaned_data["password"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("La double authentification est désactivée."))
            return redirect("accounts:profile")
    return _render_profile(request, status=400, mfa_remove_form=form)


@never_cache
@require_POST
@verified_login_required
def backup_codes_view(request):
    try:
        codes = services.regenerate_backup_codes(request)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("accounts:profile")
    return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": False})


@never_cache
@require_POST
@verified_login_required
def token_create_view(request):
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _render_profile(request, status=400, token_form=form)
    try:
        token, raw = services.create_token(
            request.user,
            form.cleaned_data["name"],
            form.cleaned_data["expires_on"],
            ip=client_ip(request),
        )
    except ValidationError as error:
        form.add_error("expires_on", error)
        return _render_profile(request, status=400, token_form=form)
    # The raw token is in this response only: it is not stored and never shown again.
    return _render_profile(request, new_token={"token": token, "raw": raw})


@require_POST
@verified_login_required
def token_revoke_view(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_token(request.user, token, ip=client_ip(request))
    messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
    return redirect("accounts:profile")


@verified_login_required
def permissions_view(request):
    """Who can do what: the permission matrix, readable by every signed-in person."""
    return render(
        request,
        "accounts/permissions.html",
        {"columns": permdoc.role_columns(), "rows": permdoc.matrix_rows()},
    )
