"""The registry of exposure checks: a stable contract users automate on.

Each probe module declares its checks at import time with :func:`register`. A check id never
changes meaning once published; retire one by leaving it registered and no longer emitting it.
Severities follow the findings store: 0 info, 1 low, 2 medium, 3 high, 4 critical.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

CATEGORIES = ("exposure", "tls", "web", "mail")
# Probe modules that declare checks; imported by all_checks() so the registry is whole.
PROBE_MODULES = ("services", "tls", "web", "maildns", "vulns")


@dataclass(frozen=True)
class CheckDef:
    id: str
    category: str  # one of CATEGORIES: the score it costs points in
    severity: int
    title_fr: str
    title_en: str
    remediation_fr: str  # plain French for a director: why it matters, then what to ask for
    remediation_en: str
    references: tuple[str, ...] = ()  # ANSSI guide sections, RFCs, CVE pages...
    points: int = 0  # score points lost when it fires (0: derived from the severity)
    tags: tuple[str, ...] = field(default=())  # "medical", "remote-access", ...

    def cost(self) -> int:
        return self.points or {0: 0, 1: 5, 2: 10, 3: 25, 4: 40}.get(self.severity, 10)


_REGISTRY: dict[str, CheckDef] = {}


def register(*definitions: CheckDef) -> None:
    for definition in definitions:
        if definition.category not in CATEGORIES:
            raise ValueError(f"{definition.id}: unknown category {definition.category!r}")
        if not 0 <= definition.severity <= 4:
            raise ValueError(f"{definition.id}: severity must be 0..4")
        existing = _REGISTRY.get(definition.id)
        if existing is not None and existing != definition:
            raise ValueError(f"check id registered twice with different meanings: {definition.id}")
        _REGISTRY[definition.id] = definition


def _load_probe_modules() -> None:
    for name in PROBE_MODULES:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise


def all_checks() -> dict[str, CheckDef]:
    _load_probe_modules()
    return dict(_REGISTRY)


def get(check_id: str) -> CheckDef:
    if check_id not in _REGISTRY:
        _load_probe_modules()
    return _REGISTRY[check_id]
