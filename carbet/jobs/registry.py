"""The registry of job kinds: each is a plain function ``handler(job, reporter) -> dict``.

Handlers must be idempotent: a job whose worker died is run again from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Reporter(Protocol):
    def __call__(self, progress: int, message: str = "") -> None: ...


Handler = Callable[[Any, Reporter], dict]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    max_attempts: int = 3


_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, max_attempts: int = 3) -> Callable[[Handler], Handler]:
    """Register ``handler`` under ``name`` (decorator)."""

    def register(handler: Handler) -> Handler:
        if name in _KINDS and _KINDS[name].handler is not handler:
            raise ValueError(f"job kind {name!r} registered twice")
        _KINDS[name] = JobKind(name, handler, max_attempts)
        return handler

    return register


def get_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError as exc:
        raise LookupError(f"unknown job kind {name!r}") from exc


def kinds() -> dict[str, JobKind]:
    return dict(_KINDS)
