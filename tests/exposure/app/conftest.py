"""Fixtures of the exposure app's tests: loopback listeners and a structure that exposes them.

Structure A of the shared ``region`` gets two IPv4 assets: ``127.77.0.1`` (an HTTP site without
security headers on 8080 and an RDP-like listener on 3389) and ``127.77.0.2`` (an HTTP site only).
A fast test profile probes just those ports, with short timeouts and no mail/DNS probe, so
nothing ever leaves the loopback.
"""

from __future__ import annotations

import pytest

from carbet.core.models import Asset
from carbet.exposure.models import ScanProfile
from tests.conftest import proven
from tests.exposure.app import listeners

EXPOSED = "127.77.0.1"
WEB_ONLY = "127.77.0.2"
UNTOUCHABLE = "127.77.0.9"  # declared but never mandated: must never see a connection
TEST_PORTS = [3389, 8080]


@pytest.fixture(scope="session")
def loopback_listeners():
    servers = [
        listeners.start(EXPOSED, 8080, listeners.HttpHandler),
        listeners.start(EXPOSED, 3389, listeners.RdpHandler),
        listeners.start(WEB_ONLY, 8080, listeners.HttpHandler),
        listeners.start(UNTOUCHABLE, 8080, listeners.SilentHandler),
        listeners.start(UNTOUCHABLE, 3389, listeners.SilentHandler),
    ]
    yield listeners
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fast_profile(db) -> ScanProfile:
    from carbet.exposure.models import ScanProfile

    ScanProfile.objects.update(is_default=False)
    return ScanProfile.objects.create(
        name="Test rapide",
        ports=TEST_PORTS,
        connect_timeout=1.0,
        read_timeout=1.5,
        target_timeout=30,
        global_concurrency=64,
        per_target_concurrency=8,
        per_target_budget=200,
        tls=False,
        web_paths=False,
        mail_dns=False,
        is_default=True,
    )


@pytest.fixture
def exposed(region, fast_profile, loopback_listeners):
    """Structure A with only loopback assets (its ``alpha.test`` domain is dropped)."""
    Asset.objects.filter(structure=region.a, kind="domain").delete()
    for value in (EXPOSED, WEB_ONLY):
        Asset.objects.create(structure=region.a, kind="ipv4", value=value, **proven())
    return region
