"""View guards for account pages, which sit under /compte/ where the MFA middleware lets
half-signed-in sessions through (they need the second-factor pages themselves)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django_otp import user_has_device

from carbet.accounts.middleware import needs_second_factor


def verified_login_required(view):
    """Require a signed-in user whose second factor, if any applies, has been checked."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if needs_second_factor(user):
            if user_has_device(user, confirmed=True):
                return redirect("accounts:verify")
            return redirect("accounts:enrol")
        return view(request, *args, **kwargs)

    return wrapper
