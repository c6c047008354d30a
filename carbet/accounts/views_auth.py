"""Sign-in pages: password, second factor (verify or first enrolment), sign-out, set password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from carbet.accounts import services
from carbet.accounts.forms import CodeForm, EnrolCodeForm, LoginForm
from carbet.accounts.middleware import needs_second_factor
from carbet.accounts.models import User

NEXT_SESSION_KEY = "carbet_next"


def apply_language(response, language: str):
    """Remember the interface language in the cookie LocaleMiddleware reads."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE or settings.SESSION_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )
    return response


def _safe_next(request, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _after_login(request):
    target = _safe_next(request, request.session.pop(NEXT_SESSION_KEY, None))
    return redirect(target or settings.LOGIN_REDIRECT_URL)


def lock_message(until) -> str:
    when = date_format(timezone.localtime(until), "H:i")
    return _(
        "Trop d'essais infructueux : par sécurité, la connexion est bloquée jusqu'à %(when)s. "
        "Réessayez après cette heure. Si vous avez oublié votre mot de passe, demandez un lien "
        "de réinitialisation à l'équipe du centre."
    ) % {"when": when}


@never_cache
@sensitive_post_parameters("password")
def login_view(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    user = request.user
    if user.is_authenticated and not needs_second_factor(user):
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.check_password_login(
            request, form.cleaned_data["login"], form.cleaned_data["password"]
        )
        if result.user is not None:
            step = services.open_session(request, result.user)
            if next_url:
                request.session[NEXT_SESSION_KEY] = next_url
            response = redirect(f"accounts:{step}") if step else _after_login(request)
            return apply_language(response, result.user.language)
        if result.locked_until is not None:
            form.add_error(None, lock_message(result.locked_until))
            status = 429
        else:
            form.add_error(
                None,
                _(
                    "Adresse e-mail ou mot de passe incorrect. Vérifiez la saisie (majuscules, "
                    "clavier) et réessayez."
                ),
            )
    return render(
        request, "accounts/login.html", {"form": form, "next": next_url or ""}, status=status
    )


@never_cache
@login_required
def verify_view(request):
    user = request.user
    if user.is_verified():
        return _after_login(request)
    if not services.has_confirmed_totp(user) and not services.backup_codes_left(user):
        return redirect("accounts:enrol" if user.mfa_required else settings.LOGIN_REDIRECT_URL)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        result = services.verify_second_factor(request, form.cleaned_data["code"])
        if result.ok:
            return _after_login(request)
        if result.locked_until is not None:
            form.add_error(None, lock_message(result.locked_until))
            status = 429
        elif result.throttled:
            form.add_error(None, _("Patientez quelques secondes avant de réessayer."))
        else:
            form.add_error(
                None,
                _(
                    "Ce code n'est pas valable. Saisissez le code affiché en ce moment par "
                    "l'application (il change toutes les 30 secondes), ou un code de secours."
                ),
            )
    return render(request, "accounts/verify.html", {"form": form}, status=status)


@never_cache
@login_required
def enrol_view(request):
    user = request.user
    if services.has_confirmed_totp(user):
        if needs_second_factor(user):
            return redirect("accounts:verify")
        messages.info(request, _("La double authentification est déjà activée sur votre compte."))
        return redirect("accounts:profile")
    device = services.pending_totp_device(user)
    form = EnrolCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_enrolment(request, device, form.cleaned_data["code"])
        if codes is not None:
            next_url = _safe_next(request, request.session.pop(NEXT_SESSION_KEY, None))
            return render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "first_time": True, "continue_url": next_url},
            )
        form.add_error(
            "code",
            _(
                "Ce code ne correspond pas. Vérifiez que l'heure du téléphone est à l'heure "
                "automatique, puis saisissez le code affiché en ce moment."
            ),
        )
    context = {
        "form": form,
        "qr_svg": mark_safe(services.totp_qr_svg(device)),  # noqa: S308 (segno output, no input)
        "secret": services.totp_secret(device),
        "mandatory": user.mfa_required,
    }
    return render(request, "accounts/enrol.html", context)


@require_POST
def logout_view(request):
    services.close_session(request)
    messages.success(request, _("Vous êtes déconnecté. À bientôt."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _user_from_link(uidb64: str, token: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def set_password_view(request, uidb64: str, token: str):
    user = _user_from_link(uidb64, token)
    if user is None:
        return render(request, "accounts/set_password_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Tokens revoked, other sessions ended, lockout lifted, audited: one service.
        services.set_password_from_link(request, user, form)
        messages.success(
            request, _("Votre mot de passe est enregistré. Vous pouvez maintenant vous connecter.")
        )
        return redirect("accounts:login")
    return render(request, "accounts/set_password.html", {"form": form, "account": user})
