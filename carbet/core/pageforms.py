"""The round trip of a page form that writes through a service, written once for every page.

A view builds its form, checks the rights, then hands the service call to one of these:

- ``saved``: the form is on the page itself; a refusal of the service (``ValidationError``)
  goes onto the form, on the field it names, and the page is shown again;
- ``posted``: the form is a small one posted from another page (an answer box, a button); the
  view redirects back whatever happens, so refusals and invalid input become messages.

Both return what the service returned when it wrote (the caller redirects to it), None when
nothing was written. Services called this way return the row they wrote, never None.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from carbet.core.forms import apply_errors

# The success message, or how to word it from what was written.
type Success[T] = str | Callable[[T], str]


def _success[T](request: HttpRequest, success: Success[T], result: T) -> None:
    messages.success(request, success(result) if callable(success) else success)


def saved[T](
    request: HttpRequest, form: forms.Form, call: Callable[[], T], success: Success[T]
) -> T | None:
    """Run ``call`` when ``request`` is a POST and ``form`` is valid; None on a GET, on invalid
    input or when the service refuses (its reasons then stand on the form)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = call()
    except ValidationError as exc:
        apply_errors(form, exc)
        return None
    _success(request, success, result)
    return result


def posted[T](
    request: HttpRequest,
    form: forms.Form,
    call: Callable[[], T],
    success: Success[T],
    invalid: str,
) -> T | None:
    """Run ``call`` when ``form`` is valid; otherwise say ``invalid``. A refusal of the service
    is said as an error message. None when nothing was written."""
    if not form.is_valid():
        messages.error(request, invalid)
        return None
    try:
        result = call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    _success(request, success, result)
    return result
