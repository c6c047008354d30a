"""pytest plugin loaded by ``scripts/test``: in CI, a skipped real-server test fails the run.

Tests marked ``realserver`` or ``browser`` may skip on a developer's machine that lacks
PostgreSQL, Redis or Chromium. In CI (``CI`` set) everything they need is installed and started
by ``scripts/test``, so a skip there means the suite silently tested less than it claims.
"""

from __future__ import annotations

import os

import pytest

GUARDED_MARKERS = ("realserver", "browser")
_skipped: list[str] = []


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        if any(marker in report.keywords for marker in GUARDED_MARKERS):
            _skipped.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not (_in_ci() and _skipped):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "real-server tests skipped in CI", red=True)
        for nodeid in _skipped:
            reporter.write_line(f"SKIPPED IN CI: {nodeid}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
