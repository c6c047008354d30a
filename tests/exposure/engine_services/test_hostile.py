"""Hostile peers, timeouts, the per-target budget and the concurrency limits, through the runner."""

from __future__ import annotations

import time

import pytest

from carbet.engines.exposure import runner

from . import servers
from .conftest import HOLDING_HOST, HOLDING_PORTS, OTHER_HOLDING_HOSTS

pytestmark = pytest.mark.realserver

HOSTILE = ("garbage", "slow_drip", "huge_banner", "reset", "silent", "slow_http", "garbage_rdp",
           "silent_dicom")  # fmt: skip


def test_hostile_peers_finish_within_the_timeout_and_say_so(lab):
    config = lab.config(*HOSTILE, read_timeout=1.0, connect_timeout=1.0, target_timeout=8.0)
    started = time.monotonic()
    results = runner.scan([lab[name].host for name in HOSTILE], config)
    elapsed = time.monotonic() - started
    assert elapsed < config.target_timeout + 3
    by_host = {result.target: result for result in results}
    for name in HOSTILE:
        result = by_host[lab[name].host]
        own = [s for s in result.services if s.port == lab[name].port]
        assert own, (name, result)
        # Nothing identified from garbage (a tarpit that starts like HTTP is HTTP, no more),
        # and the reason is recorded for the analyst.
        assert own[0].service == ("http" if name == "slow_http" else "unknown"), (name, own[0])
        assert result.errors, name
        # Issue 19: an unidentified port is reported (never "nothing wrong"), and nothing else.
        checks = {o.check for o in result.observations}
        assert checks <= {"port.unidentified", "tls.unidentified"}, (name, result.observations)
        assert bool(checks) == (name != "slow_http"), (name, result.observations)
        assert len(own[0].banner) <= 300


def test_a_tarpit_is_cut_by_the_target_timeout(lab):
    config = lab.config("slow_drip", read_timeout=30.0, target_timeout=2.0)
    started = time.monotonic()
    (result,) = runner.scan([lab["slow_drip"].host], config)
    assert time.monotonic() - started < 5
    assert result.complete is False
    assert any("délai" in error for error in result.errors)


def test_the_budget_caps_connections_on_the_server_side(lab):
    lab.listeners.reset_host(HOLDING_HOST)
    config = lab.config("silent", ports=HOLDING_PORTS, per_target_budget=10, read_timeout=0.3)
    (result,) = runner.scan([HOLDING_HOST], config)
    assert result.complete is False
    assert any("budget" in error for error in result.errors)
    assert lab.listeners.host_accepted[HOLDING_HOST] <= 10
    # The open ports it found before running out are kept.
    assert {service.port for service in result.services} <= set(HOLDING_PORTS)


def test_per_target_concurrency_is_respected_on_the_server_side(lab):
    lab.listeners.reset_host(HOLDING_HOST)
    servers.LIVE_PEAK[HOLDING_HOST] = 0
    config = lab.config(
        "silent", ports=HOLDING_PORTS[:12], per_target_concurrency=3, read_timeout=0.25,
        connect_timeout=0.5,
        per_target_budget=1000,
    )  # fmt: skip
    (result,) = runner.scan([HOLDING_HOST], config)
    assert len(result.services) == 12
    assert lab.listeners.host_accepted[HOLDING_HOST] >= 24  # discovery + fingerprint each
    assert servers.LIVE_PEAK[HOLDING_HOST] == 3  # the limit is used, never exceeded


def test_global_concurrency_is_respected_across_targets(lab):
    servers.LIVE_PEAK["*"] = 0
    config = lab.config(
        "silent",
        ports=HOLDING_PORTS[:3],
        global_concurrency=2,
        read_timeout=0.25,
        connect_timeout=0.5,
    )
    results = runner.scan([HOLDING_HOST, *OTHER_HOLDING_HOSTS], config)
    assert [len(result.services) for result in results] == [3, 3, 3, 3]
    assert servers.LIVE_PEAK["*"] == 2


def test_names_that_do_not_resolve_are_reported_not_fatal(lab):
    config = lab.config("hl7", nameserver="127.0.0.1:9")  # nothing answers DNS there
    results = runner.scan(["nowhere.invalid", "bad..name", lab["hl7"].host], config)
    assert [result.target for result in results] == ["nowhere.invalid", "bad..name",
                                                     lab["hl7"].host]  # fmt: skip
    assert results[0].complete is False and results[0].errors
    assert results[1].complete is False and "invalide" in results[1].errors[0]
    assert any(o.check == "medical.hl7.exposed" for o in results[2].observations)


def test_progress_is_reported_per_target(lab):
    calls = []
    config = lab.config("hl7", "rdp_nla")
    runner.scan([lab["hl7"].host, lab["rdp_nla"].host], config, progress=lambda *a: calls.append(a))
    assert calls[0] == (0, 2, "")
    assert sorted(call[0] for call in calls[1:]) == [1, 2]
