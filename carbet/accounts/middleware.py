"""Second factor enforcement: centre staff (and anyone who enrolled a device) must verify it."""

from __future__ import annotations

from django.shortcuts import redirect

# Paths reachable before the second factor: login/enrolment itself, static files, health, API
# (the API authenticates with personal tokens, not sessions), the accessibility statement; and
# the public spaces services declare (``public_prefixes``: a simulation's recipients' links).
_OPEN_PREFIXES = ("/compte/", "/static/", "/sante/", "/api/", "/i18n/", "/accessibilite/")


def open_prefixes() -> tuple[str, ...]:
    from carbet.core import contract

    return _OPEN_PREFIXES + tuple(
        prefix for spec in contract.services() for prefix in spec.public_prefixes
    )


def needs_second_factor(user) -> bool:
    if not user.is_authenticated or user.is_verified():
        return False
    from django_otp import user_has_device

    return user.mfa_required or user_has_device(user, confirmed=True)


class MfaEnforcementMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.open_prefixes = open_prefixes()

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(self.open_prefixes)
            and needs_second_factor(user)
        ):
            from django_otp import user_has_device

            if user_has_device(user, confirmed=True):
                return redirect("accounts:verify")
            return redirect("accounts:enrol")
        return self.get_response(request)
