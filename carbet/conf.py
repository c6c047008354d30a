"""Reading Carbet's configuration from the environment, with safe embedded defaults.

Everything a deployment may change comes from environment variables so that the same package
runs the embedded default (SQLite, in-process worker) and the scale-out setup (PostgreSQL,
Redis/RQ workers) without editing files. Secrets that must survive restarts (the Django secret
key, the key that encrypts stored credentials) are generated on first run and kept in the data
directory with 0600 permissions, never in the database.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def service_apps(package_dir: Path) -> list[str]:
    """The service apps to install: every ``carbet/<app>/`` that holds a ``service.py``.

    Read from the file system before Django starts (settings cannot import the apps), so that
    adding a service is adding its folder: the kernel's settings never name it.
    """
    return [
        f"carbet.{path.parent.name}"
        for path in sorted(package_dir.glob("*/service.py"))
        if (path.parent / "apps.py").exists()
    ]


def data_dir() -> Path:
    """Where the SQLite file, uploads and keys live (``CARBET_DATA_DIR``, default ``./data``)."""
    path = Path(os.environ.get("CARBET_DATA_DIR", "data")).expanduser().resolve()
    return path


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except PermissionError:  # pragma: no cover - a directory owned by someone else
        pass
    return path


def _read_or_create_secret(path: Path, generate) -> str:
    """Return the secret stored at ``path``, creating it atomically (0600) on first use."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    ensure_private_dir(path.parent)
    value = generate()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    try:
        # Another process may have won the race: keep whichever file landed first.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def secret_key(directory: Path) -> str:
    configured = os.environ.get("CARBET_SECRET_KEY")
    if configured:
        return configured
    return _read_or_create_secret(
        directory / "keys" / "secret_key", lambda: secrets.token_urlsafe(64)
    )


def encryption_keys(directory: Path) -> list[str]:
    """Keys that encrypt stored credentials, newest first.

    ``CARBET_ENCRYPTION_KEYS`` (comma-separated Fernet keys) wins; otherwise a key file in the
    data directory is created on first use. Several keys allow rotation: the first encrypts, all
    decrypt.
    """
    configured = env_list("CARBET_ENCRYPTION_KEYS", [])
    if configured:
        return configured
    stored = _read_or_create_secret(
        directory / "keys" / "encryption.key", lambda: Fernet.generate_key().decode()
    )
    # One key per line, newest first (``carbet keys rotate`` prepends a new one).
    return [line.strip() for line in stored.splitlines() if line.strip()]
