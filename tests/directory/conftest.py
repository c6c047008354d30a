"""The session's Samba AD DC (see ``tests/directory/samba.py``), shared by every directory test.

Tests using ``samba_dc`` must be marked ``@pytest.mark.realserver``. Without Samba installed the
fixture skips locally and fails in CI (``CI`` set): the directory must always be tested for real.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.directory.samba import REALM, SambaDirectory, samba_available, start_samba
from tests.directory.scope_lab import CountingListener, DnsLab


@pytest.fixture(scope="session")
def samba_dc() -> Iterator[SambaDirectory]:
    """A seeded Samba AD DC on its own loopback address, started once per session."""
    if not samba_available():
        if os.environ.get("CI"):
            pytest.fail("Samba (samba, samba-tool, /usr/bin/python3) is required in CI")
        pytest.skip("Samba AD DC not installed (apt-get install samba samba-ad-dc)")
    # Not under pytest's 0700 temporary tree: smbd, switched to the SMB user's uid, must be able
    # to traverse down to SYSVOL.
    root = Path(tempfile.mkdtemp(prefix="carbet-samba-"))
    try:
        with start_samba(root) as directory:
            yield directory
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    """A counting TCP listener on 127.0.0.1 (a server that must never be contacted)."""
    server = CountingListener()
    yield server
    server.close()


@pytest.fixture
def dns_lab() -> Iterator[DnsLab]:
    """A DNS server of the test's own, authoritative for the Samba domain's zone."""
    lab = DnsLab(REALM.lower())
    yield lab
    lab.stop()
