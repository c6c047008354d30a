"""One collection of the seeded Samba directory per session, as the non-admin reader."""

from __future__ import annotations

import pytest

from carbet.engines.directory import collector
from carbet.engines.directory.model import Snapshot
from tests.directory.samba import SambaDirectory


@pytest.fixture(scope="session")
def collected(samba_dc: SambaDirectory) -> Snapshot:
    stages: list[str] = []
    snap = collector.collect(
        samba_dc.host,
        samba_dc.ldaps_port,
        samba_dc.reader_user,
        samba_dc.reader_password,
        ca_file=samba_dc.ca_file,
        progress=lambda stage, count: stages.append(stage),
    )
    snap.progress_stages = stages  # type: ignore[attr-defined]  (for the progress test)
    return snap
