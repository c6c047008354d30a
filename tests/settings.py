"""Test settings: the production settings with a throw-away data directory and lab options."""

import os
import tempfile

os.environ.setdefault("CARBET_DATA_DIR", tempfile.mkdtemp(prefix="carbet-test-"))
os.environ.setdefault("CARBET_ALLOW_LOOPBACK_ASSETS", "1")
os.environ.setdefault("CARBET_TASKS_IMMEDIATE", "1")
os.environ.setdefault("CARBET_PLAIN_STATIC", "1")

from carbet.settings import *  # noqa: F403
from carbet.settings import DATA_DIR, DATABASES, STATIC_ROOT

# Argon2 is the production hasher (tested in tests/accounts); tests use a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # On disk, so that worker processes started by the tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
