"""The service contract: everything the kernel needs to know about a service, in one spec.

A service (exposure, directory, roadmap, awareness, and the ones to come) is one Django app
whose ``service.py`` holds ``SERVICE = ServiceSpec(...)`` and whose AppConfig derives from
:class:`ServiceConfig`. At start-up ``ServiceConfig.ready`` registers the spec here, and the kernel
reads this registry instead of naming services:

* ``carbet/settings.py`` installs every app with a ``service.py`` (``conf.service_apps``);
* ``carbet/urls.py`` mounts each service's ``urls`` (and ``extra_urls``) at its prefix;
* the navigation bar, the structure page's service links, the role matrix and its generated
  document, the mandate kinds, the findings sources, the dashboard scores, the roadmap's
  automatic evidence kinds, the software inventory providers and the periodic jobs all come
  from the registered specs.

Adding a service is adding its folder: no kernel file is edited and no kernel migration is made.
pretix's plugin meta and Django's own ``AppConfig.ready`` are the model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import AppConfig


class Permission(str):
    """A permission code (``"exposure.view"``) carrying its label and the roles that hold it.

    A ``str``, so it is interchangeable with the kernel's ``Perm`` members wherever a permission
    is checked (``can(actor, perm, structure)``) or stored.
    """

    label: Any
    roles: frozenset[str]

    def __new__(cls, code: str, label: Any, roles: Iterable[str]) -> Permission:
        perm = super().__new__(cls, code)
        perm.label = label
        perm.roles = frozenset(roles)
        return perm

    @property
    def value(self) -> str:  # the same spelling as a TextChoices member
        return str.__str__(self)


@dataclass(frozen=True)
class NavEntry:
    """A menu entry, shown to whoever holds ``perm`` (and not ``hidden_for``, if set)."""

    label: Any
    url_name: str
    perm: str | None
    order: int = 500  # kernel entries use 100–199 and 900–999; services sit in between
    hidden_for: str | None = None  # e.g. an ARS page hidden from those who see the details


@dataclass(frozen=True)
class StructureLink:
    """A link from a structure's page to the service's page for that structure."""

    label: Any
    url_name: str  # reversed with the structure's pk
    perm: str
    order: int = 500


@dataclass(frozen=True)
class Choice:
    """A code and its label: a mandate kind, a findings source, an evidence kind."""

    code: str
    label: Any = ""


@dataclass(frozen=True)
class PeriodicJob:
    """A command the system's cron runs (``docs/operations.md`` lists them from here)."""

    command: str  # e.g. "exposure run-due"
    schedule: str  # a crontab schedule, e.g. "15 * * * *"
    description: str


@dataclass(frozen=True)
class FastPath:
    """A public URL a service answers before the staff middleware stack (no session, no
    second factor): ``handler(request, match)`` for paths matching ``pattern``."""

    pattern: str
    handler: str  # dotted path
    methods: tuple[str, ...] = ("GET", "HEAD")


@dataclass(frozen=True)
class DetectedProduct:
    """A product a service's latest result shows in one structure (see ``ServiceSpec.inventory``).

    ``source_key`` is stable from one result to the next for the same thing seen at the same
    place ("exposure:vpn.example:443"), so the inventory updates a line instead of adding one."""

    structure_id: int
    source: str  # the service's name
    source_key: str
    product: str
    vendor: str = ""
    version: str = ""
    location: str = ""  # where it was seen, in plain words ("vpn.example, port 443")
    asset_id: int | None = None
    machines: int = 1
    cpe: str = ""


@dataclass(frozen=True)
class ServiceSpec:
    """What a service declares to the kernel (see the module docstring)."""

    name: str  # the app label
    label: Any
    url_prefix: str = ""  # e.g. "exposition/"
    urls: str = ""  # dotted module of the service's urlpatterns
    extra_urls: tuple[tuple[str, str], ...] = ()  # other (prefix, module) pairs (public links)
    nav: tuple[NavEntry, ...] = ()
    structure_links: tuple[StructureLink, ...] = ()
    permissions: tuple[Permission, ...] = ()
    mandate_kinds: tuple[Choice, ...] = ()
    findings_sources: tuple[Choice, ...] = ()
    scores: tuple[tuple[str, str], ...] = ()  # (score name, dotted path of the provider)
    evidence_kinds: tuple[Choice, ...] = ()
    periodic_jobs: tuple[PeriodicJob, ...] = ()
    # Dotted path of a function receiving every service's facts (``record_evidence``): the
    # roadmap turns them into automatic evidence. Services never import each other for that.
    evidence_sink: str = ""
    fast_paths: tuple[FastPath, ...] = ()
    # Paths of a public space (no account, signed links): open before the second factor.
    public_prefixes: tuple[str, ...] = ()
    order: int = 500  # where the service appears in lists (mandate form, menus)
    walk_seed: str = ""  # tests/<app>/walk_seed.py, for the cross-tenant walks
    docs: str = ""  # its user guide under docs/
    # Dotted path of ``load(structures, users, today) -> int``: the service's demo data, loaded
    # by ``carbet demo load`` through the service's own functions, before the roadmap reads facts.
    demo: str = ""
    # Dotted path of ``wipe() -> int``: the service's demo rows that the structures' cascade
    # must not remove on its own (protected history such as a crisis log), removed by
    # ``carbet demo reset`` — on a database holding only the demo — before the structures go.
    demo_wipe: str = ""
    # Dotted paths of ``provide(structure_ids) -> Iterable[DetectedProduct]``: the products and
    # versions the service's own latest results show in each structure (a scan's banners, an
    # audit's operating systems), for the services that keep an inventory. ``structure_ids``
    # None means every structure.
    inventory: tuple[str, ...] = ()
    on_ready: tuple[Callable[[], None], ...] = field(default=(), compare=False)


class ContractError(RuntimeError):
    """A spec that would make the kernel ambiguous (duplicate codes, unknown references)."""


_SERVICES: dict[str, ServiceSpec] = {}


def register(spec: ServiceSpec) -> None:
    """Add a service; the kernel's tables are extended once (idempotent per service name)."""
    from carbet.accounts import roles

    if spec.name in _SERVICES:
        if _SERVICES[spec.name] is spec:
            return
        raise ContractError(f"service {spec.name!r} registered twice")
    for perm in spec.permissions:
        if perm in roles.MATRIX and roles.MATRIX[perm] != perm.roles:
            raise ContractError(f"permission {perm!r} of {spec.name} is already defined")
    known = {c.code for s in _SERVICES.values() for c in (*s.mandate_kinds, *s.findings_sources)}
    for choice in (*spec.mandate_kinds, *spec.findings_sources):
        if choice.code in known:
            raise ContractError(f"{choice.code!r} of {spec.name} is declared by another service")
    _SERVICES[spec.name] = spec
    for perm in spec.permissions:
        roles.MATRIX[perm] = perm.roles
    if spec.scores:
        from carbet.findings.posture.snapshots import register_score

        for name, path in spec.scores:
            register_score(name, _resolve(path))


def _resolve(dotted: str) -> Any:
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def services() -> list[ServiceSpec]:
    return sorted(_SERVICES.values(), key=lambda spec: (spec.order, spec.name))


def service(name: str) -> ServiceSpec:
    return _SERVICES[name]


def permissions() -> list[Permission]:
    return [perm for spec in services() for perm in spec.permissions]


def nav_entries() -> list[NavEntry]:
    return [entry for spec in services() for entry in spec.nav]


def structure_links() -> list[StructureLink]:
    links = [link for spec in services() for link in spec.structure_links]
    return sorted(links, key=lambda link: link.order)


def mandate_kinds() -> list[Choice]:
    return [kind for spec in services() for kind in spec.mandate_kinds]


def findings_sources() -> list[Choice]:
    return [source for spec in services() for source in spec.findings_sources]


def evidence_kinds() -> list[Choice]:
    return [kind for spec in services() for kind in spec.evidence_kinds]


def demo_loaders() -> list[tuple[str, Callable[..., int]]]:
    """(service name, loader) of every service that brings demo data, in service order."""
    return [(spec.name, _resolve(spec.demo)) for spec in services() if spec.demo]


def demo_wipers() -> list[tuple[str, Callable[[], int]]]:
    """(service name, wipe) of every service whose demo rows need their own removal."""
    return [(spec.name, _resolve(spec.demo_wipe)) for spec in services() if spec.demo_wipe]


def detected_products(structure_ids: Iterable[int] | None = None) -> list[DetectedProduct]:
    """What every service's latest results show each structure runs (``structure_ids`` None:
    the whole region), for the services that keep a software inventory."""
    wanted = None if structure_ids is None else list(structure_ids)
    found: list[DetectedProduct] = []
    for spec in services():
        for path in spec.inventory:
            found.extend(_resolve(path)(wanted))
    return found


def periodic_jobs() -> list[PeriodicJob]:
    return [job for spec in services() for job in spec.periodic_jobs]


def fast_paths() -> list[tuple[FastPath, Callable[..., Any]]]:
    return [(path, _resolve(path.handler)) for spec in services() for path in spec.fast_paths]


def url_mounts() -> list[tuple[str, str]]:
    """(prefix, urls module) pairs of every service, its main pages first."""
    mounts = []
    for spec in services():
        if spec.urls:
            mounts.append((spec.url_prefix, spec.urls))
        mounts.extend(spec.extra_urls)
    return mounts


def record_evidence(
    structure: Any,
    kind: str,
    *,
    at: Any = None,
    value: dict[str, Any] | None = None,
    reference: str = "",
) -> None:
    """Hand a fact (a complete scan, an audit, a campaign) to the services that collect
    evidence (the roadmap's automatic evidence). Without such a service, nothing happens."""
    declared = {choice.code for choice in evidence_kinds()}
    if kind not in declared:
        raise ContractError(f"evidence kind {kind!r} is declared by no service")
    for spec in services():
        if spec.evidence_sink:
            _resolve(spec.evidence_sink)(structure, kind, at=at, value=value, reference=reference)


class ServiceConfig(AppConfig):
    """AppConfig of a service: registers ``<app>.service.SERVICE`` when Django is ready.

    Subclasses set ``default = True``: this base class, imported into each ``apps.py``, must
    not be the one Django picks for the app.
    """

    default = False

    def ready(self) -> None:
        spec = importlib.import_module(f"{self.name}.service").SERVICE
        if spec.name != self.label:
            raise ContractError(f"{self.name}: SERVICE.name must be the app label {self.label!r}")
        register(spec)
        for hook in spec.on_ready:
            hook()
