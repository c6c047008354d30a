"""Fixtures of the registry tests."""

from __future__ import annotations

import pytest
from django.test import Client

from carbet.accounts.roles import CentreRole
from tests.conftest import login, make_user


@pytest.fixture
def make_staff_client(db):
    """A logged-in centre analyst's client, for tests that build their own region."""

    def build(email: str = "staff@centre.test", role: str = CentreRole.ANALYST) -> Client:
        return login(Client(), make_user(email, role))

    return build
