"""Loading the framework files into the database, and checking them.

The bundled files live in ``carbet/roadmap/data/frameworks/``; an installation may add its own
directory with ``CARBET_FRAMEWORKS_DIRS`` (a new version of CaRE D1 with the official codes, a
regional questionnaire). Loading upserts by framework code: a requirement missing from the new
version is retired (its answers and evidence stay), a file whose SHA-256 did not change is
skipped. Bundled files are loaded after each ``migrate`` so a fresh installation has them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carbet.audit import services as audit
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines.roadmap import frameworks as engine
from carbet.engines.roadmap.frameworks import FrameworkError, FrameworkSpec, Issue
from carbet.roadmap.models import Framework, Requirement

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "frameworks"


@dataclass
class LoadResult:
    code: str
    version: str
    created: bool = False
    unchanged: bool = False
    requirements: int = 0
    retired: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def framework_dirs() -> list[Path]:
    extra = [Path(p) for p in getattr(settings, "CARBET_FRAMEWORKS_DIRS", [])]
    return [BUNDLED_DIR, *extra]


def framework_files(paths: list[Path] | None = None) -> list[Path]:
    """The ``*.json`` files of the given paths (files or directories), sorted by name."""
    found: list[Path] = []
    for path in paths or framework_dirs():
        if path.is_dir():
            found.extend(sorted(path.glob("*.json")))
        elif path.exists():
            found.append(path)
        else:
            raise FrameworkError([Issue(str(path), 0, "fichier ou dossier introuvable")])
    return found


def read(path: Path) -> tuple[FrameworkSpec, str]:
    """Parse one file; returns the spec and the file's SHA-256."""
    data = path.read_bytes()
    return engine.parse(data, str(path)), hashlib.sha256(data).hexdigest()


def check(paths: list[Path] | None = None) -> list[FrameworkSpec]:
    """Validate every file and the mappings between them; raise with every issue at once."""
    specs, issues = [], []
    for path in framework_files(paths):
        try:
            specs.append(read(path)[0])
        except FrameworkError as exc:
            issues.extend(exc.issues)
    codes: dict[str, str] = {}
    for spec in specs:
        if spec.code in codes:
            issues.append(Issue(spec.code, 0, "deux fichiers déclarent ce même code"))
        codes[spec.code] = spec.version
    if not issues:
        issues.extend(engine.check_mappings([*specs, *_other_files(specs)]))
    if issues:
        raise FrameworkError(issues)
    return specs


def _other_files(specs: list[FrameworkSpec]) -> list[FrameworkSpec]:
    """The configured files not among ``specs`` (mappings of a single checked file may point
    at them); read from disk, so ``check`` needs no database."""
    present = {s.code for s in specs}
    others = []
    for path in framework_files(framework_dirs()):
        try:
            spec = read(path)[0]
        except FrameworkError:
            continue  # reported when that file itself is checked
        if spec.code not in present:
            others.append(spec)
    return others


def _loaded_specs_missing_from(specs: list[FrameworkSpec]) -> list[FrameworkSpec]:
    """Frameworks already in the database but not among ``specs`` (for mapping checks when
    loading a single file)."""
    present = {s.code for s in specs}
    result = []
    for framework in Framework.objects.exclude(code__in=present).prefetch_related("requirements"):
        result.append(
            FrameworkSpec(
                framework.code,
                framework.version,
                framework.kind,
                framework.scale,
                framework.title,
                "",
                "",
                (),
                tuple(
                    engine.RequirementSpec(code=r.code, theme=r.theme, title=r.title, order=0)
                    for r in framework.requirements.all()
                ),
            )
        )
    return result


def _requirement_fields(spec: engine.RequirementSpec) -> dict[str, Any]:
    return {
        "theme": spec.theme,
        "title": spec.title,
        "description": spec.description,
        "how": spec.how,
        "official_id": spec.official_id,
        "level": spec.level,
        "priority": spec.priority,
        "prerequisite": spec.prerequisite,
        "requires": list(spec.requires),
        "scored": spec.scored,
        "answers": list(spec.answers),
        "evidence_hint": spec.evidence,
        "care_domain": spec.care_domain,
        "min_activity_share": spec.min_activity_share,
        "exposure": spec.exposure,
        "auto": [{"kind": r.kind, "when": r.when, "within_days": r.within_days} for r in spec.auto],
        "maps_to": list(spec.maps_to),
        "order": spec.order,
        "retired": False,
    }


def store(
    spec: FrameworkSpec, sha256: str, filename: str, *, actor: Actor = SYSTEM, audited: bool = True
) -> LoadResult:
    """Upsert one validated framework (in one transaction) and audit the load."""
    result = LoadResult(spec.code, spec.version, requirements=len(spec.requirements))
    with transaction.atomic():
        framework = Framework.objects.select_for_update().filter(code=spec.code).first()
        if framework is not None and framework.file_sha256 == sha256:
            result.unchanged = True
            return result
        if framework is None:
            framework = Framework(code=spec.code)
            result.created = True
        previous_version = framework.version
        framework.version = spec.version
        framework.kind = spec.kind
        framework.scale = spec.scale
        framework.title = spec.title
        framework.description = spec.description
        framework.source = spec.source
        framework.themes = [
            {"code": t.code, "title": t.title, "description": t.description} for t in spec.themes
        ]
        framework.filename = Path(filename).name[:255]
        framework.file_sha256 = sha256
        framework.loaded_at = timezone.now()
        framework.save()
        existing = {r.code: r for r in framework.requirements.all()}
        for requirement_spec in spec.requirements:
            fields = _requirement_fields(requirement_spec)
            row = existing.pop(requirement_spec.code, None)
            if row is None:
                Requirement.objects.create(
                    key=Requirement.make_key(framework.code, requirement_spec.code),
                    framework=framework,
                    code=requirement_spec.code,
                    **fields,
                )
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                row.save()
        for row in existing.values():
            if not row.retired:
                row.retired = True
                row.save(update_fields=["retired"])
                result.retired += 1
        if audited:
            audit.record(
                actor,
                "framework.load",
                framework,
                label=f"{spec.code} {spec.version}",
                changes={"from": previous_version or None, **result.as_dict()},
            )
    return result


def load(
    paths: list[Path] | None = None, *, actor: Actor = SYSTEM, audited: bool = True
) -> list[LoadResult]:
    """Validate then load the files (all of them or none: a broken file stops everything)."""
    files = framework_files(paths)
    check(files)
    results = []
    for path in files:
        spec, sha256 = read(path)
        results.append(store(spec, sha256, str(path), actor=actor, audited=audited))
    return results


def load_upload(data: bytes, filename: str, *, actor: Actor) -> LoadResult:
    """An administrator's uploaded file (untrusted): validate, check mappings, store."""
    spec = engine.parse(data, filename)
    known = [spec, *_loaded_specs_missing_from([spec])]
    issues = engine.check_mappings(known)
    if issues:
        raise FrameworkError(issues)
    return store(spec, hashlib.sha256(data).hexdigest(), filename, actor=actor)


def load_bundled_after_migrate(**_kwargs: Any) -> None:
    """``post_migrate`` hook: a fresh or upgraded installation gets the bundled frameworks."""
    try:
        # The bundled files ship with the software, like the migrations: installing them is
        # not a person's action, so it is not in the audit trail (uploads and `carbet
        # frameworks load` are).
        load([BUNDLED_DIR], audited=False)
    except FrameworkError:
        # A broken bundled file is a developer error that tests catch; never block migrate.
        import logging

        logging.getLogger(__name__).exception("bundled framework files are invalid")


def get(code: str) -> Framework:
    return Framework.objects.get(code=code)
