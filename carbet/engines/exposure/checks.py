"""The registry of exposure checks: a stable contract users automate on.

Like the directory rules (``carbet.engines.directory.rules.registry``), a check is a small
keyword-only unit declared beside the code that emits it, in its probe's sub-package
(``ports/checks.py``, ``tls/checks.py``, ``web/checks.py``, ``mail/checks.py``,
``vulns/match.py``)::

    RDP = define(id="port.rdp", category="exposure", severity=4, title_fr=..., ...)
    ...
    found.append(RDP.observe(port, "RDP", {"selected_protocol": ...}))

Emitters hold the :class:`Check` object, so a typo is a ``NameError`` at import, and an
:class:`~.core.Observation` built from an unregistered id raises :class:`UnknownCheck`: an
unknown id never silently costs points. A check id never changes meaning once published;
retire one by leaving it registered and no longer emitting it. Severities follow
``carbet.engines.severity`` (0 info .. 4 critical).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carbet.engines import severity as severities

if TYPE_CHECKING:
    from carbet.engines.exposure.core import Observation

CATEGORIES = ("exposure", "tls", "web", "mail")
# The modules that declare checks, imported by all_checks() so the registry is whole. A missing
# one is an import error, never a silently smaller registry.
CHECK_MODULES = ("ports.checks", "tls.checks", "web.checks", "mail.checks", "vulns.match")
LANGUAGES = ("fr", "en")


class UnknownCheck(KeyError):
    """An id no module registered: a programming error, never a finding worth 10 points."""


@dataclass(frozen=True, kw_only=True)
class Check:
    id: str
    category: str  # one of CATEGORIES: the score it costs points in
    severity: int
    title_fr: str
    title_en: str
    remediation_fr: str  # plain French for a director: why it matters, then what to ask for
    remediation_en: str
    references: tuple[str, ...] = ()  # ANSSI guide sections, RFCs, CVE pages...
    points: int = 0  # score points lost when it fires (0: derived from the severity)
    tags: tuple[str, ...] = ()  # "medical", "remote-access", ...

    def cost(self) -> int:
        return self.points or severities.POINTS[self.severity]

    def title(self, lang: str = "fr") -> str:
        return self.title_en if lang == "en" else self.title_fr

    def remediation(self, lang: str = "fr") -> str:
        return self.remediation_en if lang == "en" else self.remediation_fr

    def observe(
        self,
        port: int | None = None,
        detail: str = "",
        evidence: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Observation:
        """An occurrence of this check on one target (``overrides``: severity, title, cve...)."""
        from carbet.engines.exposure.core import Observation

        return Observation(self.id, port, detail, dict(evidence or {}), **overrides)


_REGISTRY: dict[str, Check] = {}


def define(**fields: Any) -> Check:
    """Declare and register one check (keyword arguments only); returns it for the emitters."""
    definition = Check(**fields)
    register(definition)
    return definition


def register(*definitions: Check) -> None:
    for definition in definitions:
        if definition.category not in CATEGORIES:
            raise ValueError(f"{definition.id}: unknown category {definition.category!r}")
        if definition.severity not in severities.NAMES:
            raise ValueError(f"{definition.id}: severity must be 0..4")
        if not definition.title_en or not definition.remediation_en:
            raise ValueError(f"{definition.id}: English title and remediation are required")
        existing = _REGISTRY.get(definition.id)
        if existing is not None and existing != definition:
            raise ValueError(f"check id registered twice with different meanings: {definition.id}")
        _REGISTRY[definition.id] = definition


def _load_check_modules() -> None:
    for name in CHECK_MODULES:
        importlib.import_module(f"{__package__}.{name}")


def all_checks() -> dict[str, Check]:
    _load_check_modules()
    return dict(_REGISTRY)


def get(check_id: str) -> Check:
    """The check registered under ``check_id``; :class:`UnknownCheck` when there is none."""
    if check_id not in _REGISTRY:
        _load_check_modules()
    try:
        return _REGISTRY[check_id]
    except KeyError:
        raise UnknownCheck(check_id) from None


def is_registered(check_id: str) -> bool:
    try:
        get(check_id)
    except UnknownCheck:
        return False
    return True
