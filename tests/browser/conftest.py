"""One demo region and one live server shared by the browser tests that only read.

Building the demo region (``carbet demo``) is the slowest setup of the browser tests, and
pytest-django's ``live_server`` makes every test that uses it a transactional test whose
database is flushed afterwards, so each test used to build its own region. Tests that only
read (they log in, look at pages, run the accessibility checks) take ``shared_demo`` instead:
the region is built once, committed, and served by a live server of its own.

Isolation: those tests run last in the session (``pytest_collection_modifyitems`` in
tests/conftest.py), so no other test ever sees the demo rows, and the database is flushed when
the last one is done.
Tests that change the demo's data (the walkthrough adds an asset, the keyboard journey signs
an acceptance) keep building their own region with ``live_server``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings, teardown_databases

from carbet.demo import region
from tests.conftest import login

DEMO_PASSWORD = "une démo bien gardée 2024"


@dataclass
class SharedDemo:
    """The shared region's server address; logged-in sessions; reads of the committed rows.

    The tests take no ``db`` fixture: its transaction would hide the sessions they make from
    the live server (another connection). They read and make sessions in autocommit.
    """

    url: str
    blocker: object
    sessions: dict[str, str] = field(default_factory=dict)

    def session(self, email: str) -> str:
        """A session key of ``email``, past the second factor (cached: the tests only read)."""
        from carbet.accounts.models import User

        if email not in self.sessions:
            with self.blocker.unblock():
                client = login(Client(), User.objects.get(email=email))
                self.sessions[email] = client.session.session_key
        return self.sessions[email]

    def read(self, function):
        """``function()`` with database access (call it before a Chromium page opens)."""
        with self.blocker.unblock():
            return function()


def _ensure_test_database():
    """pytest-django creates the test database only if a collected test asks for ``db``,
    ``transactional_db`` or ``live_server``; run alone, the shared-demo tests ask for none."""
    from django.db import connection
    from django.test.utils import setup_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        return None
    return setup_databases(verbosity=0, interactive=False, aliases={"default"})


@pytest.fixture
def shared_demo(shared_demo_server, django_db_blocker) -> Iterator[SharedDemo]:
    """The shared demo, with database access for the test and for the live server's thread
    (pytest-django blocks it outside ``db``/``transactional_db``, in every thread)."""
    with django_db_blocker.unblock():
        yield shared_demo_server


@pytest.fixture(scope="session")
def shared_demo_server(django_db_setup, django_db_blocker) -> Iterator[SharedDemo]:
    from pytest_django.live_server_helper import LiveServer

    overrides = override_settings(
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        CARBET_REGION_NAME=region.REGION_NAME,
    )
    overrides.enable()
    with django_db_blocker.unblock():
        created = _ensure_test_database()
        call_command("demo", password=DEMO_PASSWORD, stdout=io.StringIO())
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    try:
        yield SharedDemo(url=server.url, blocker=django_db_blocker)
    finally:
        server._live_server_modified_settings.disable()
        server.stop()
        overrides.disable()
        with django_db_blocker.unblock():
            # What a transactional test does after itself: the next session starts empty.
            call_command("flush", interactive=False, verbosity=0)
            if created is not None:
                teardown_databases(created, verbosity=0)
