"""Helpers of the community tests: the test region and a real SMTP server on loopback."""

from __future__ import annotations

from tests.findings.test_posture_digest import smtp_inbox  # noqa: F401 - a real SMTP server
