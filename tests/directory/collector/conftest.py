"""One collection of the seeded Samba directory per session, as the non-admin reader."""

from __future__ import annotations

import pytest

from carbet.engines.directory import collector
from carbet.engines.directory.model import Snapshot
from carbet.engines.netpolicy import ConnectPolicy, parse_networks
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
        # As the platform does: only the DC's (proven) address, LDAP and SMB alike.
        policy=ConnectPolicy(allow_loopback=True, allowed_networks=parse_networks([samba_dc.host])),
    )
    snap.progress_stages = stages  # type: ignore[attr-defined]  (for the progress test)
    return snap
