"""The session's Samba AD DC (see ``tests/directory/samba.py``), shared by every directory test.

Tests using ``samba_dc`` must be marked ``@pytest.mark.realserver``. Without Samba installed the
fixture skips locally and fails in CI (``CI`` set): the directory must always be tested for real.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.directory.samba import SambaDirectory, samba_available, start_samba


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDirectory]:
    """A seeded Samba AD DC on its own loopback address, started once per session."""
    if not samba_available():
        if os.environ.get("CI"):
            pytest.fail("Samba (samba, samba-tool, /usr/bin/python3) is required in CI")
        pytest.skip("Samba AD DC not installed (apt-get install samba samba-ad-dc)")
    with start_samba(tmp_path_factory.mktemp("samba-dc")) as directory:
        yield directory
