"""The scenario library and imported scenarios (``ScenarioVersion`` rows)."""

from __future__ import annotations


def install_library() -> int:
    """Copy the library's scenarios into ``ScenarioVersion`` (new code/version pairs only)."""
    return 0
