"""Absolute links to the platform, for what leaves it without a request: e-mails and commands.

A page answering a request builds its links with ``request.build_absolute_uri``; a job or a
command has no request, so the site's address comes from ``CARBET_BASE_URL`` (the address
people reach the platform at), with the embedded server's address as the default.
"""

from __future__ import annotations

import os

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url() -> str:
    """The platform's address, without a trailing slash."""
    return os.environ.get("CARBET_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


def absolute_url(path: str) -> str:
    """``path`` (as ``reverse`` gives it, starting with ``/``) as a full link to the platform."""
    return base_url() + path
