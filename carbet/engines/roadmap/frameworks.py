"""Framework files: their documented format (docs/frameworks.md), parsed and validated.

A framework file is JSON: a header (code, version, kind, title, scale), themes, and
requirements. The same reader serves the bundled files and an administrator's upload, so it
treats its input as untrusted: every problem is reported as ``file:line: message`` (the line of
the offending key, thanks to ``jsonpos``), every problem of the file at once, and nothing is
loaded unless the whole file is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from carbet.engines.roadmap import jsonpos

FORMAT_VERSION = 1
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_REQUIREMENTS = 2000
MAX_TEXT = 4000
KINDS = ("objectives", "measures", "diagnostic")
SCALES = ("result", "score")
LEVELS = ("standard", "renforce")
CARE_DOMAINS = ("D1", "D2", "HOP", "ACC", "POS")
AUTO_KINDS = ("directory_audit", "exposure_scan", "phishing_campaign", "restore_test", "exercise")
OPERATORS = (">=", ">", "<=", "<", "==", "!=")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,29}$")


@dataclass(frozen=True)
class Issue:
    """One problem of a file, at a line (0 when it concerns the whole file)."""

    filename: str
    line: int
    message: str

    def __str__(self) -> str:
        return (
            f"{self.filename}:{self.line}: {self.message}"
            if self.line
            else (f"{self.filename}: {self.message}")
        )


class FrameworkError(ValueError):
    """The file is not a valid framework; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues[:50]))


@dataclass(frozen=True)
class AutoRule:
    """Which automatic fact satisfies the requirement, and under which condition."""

    kind: str
    when: dict[str, dict[str, Any]] = field(default_factory=dict)
    within_days: int = 365


@dataclass(frozen=True)
class ThemeSpec:
    code: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class RequirementSpec:
    code: str
    theme: str
    title: str
    order: int
    description: str = ""
    how: str = ""
    official_id: str = ""
    level: str = ""
    priority: int = 2
    prerequisite: bool = False
    requires: tuple[str, ...] = ()
    scored: bool = True
    answers: tuple[str, ...] = ()
    evidence: str = ""
    care_domain: str = ""
    min_activity_share: float | None = None
    exposure: bool = False
    auto: tuple[AutoRule, ...] = ()
    maps_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrameworkSpec:
    code: str
    version: str
    kind: str
    scale: str
    title: str
    description: str
    source: str
    themes: tuple[ThemeSpec, ...]
    requirements: tuple[RequirementSpec, ...]

    def requirement(self, code: str) -> RequirementSpec:
        return next(r for r in self.requirements if r.code == code)


HEADER_KEYS = {
    "format",
    "code",
    "version",
    "kind",
    "scale",
    "title",
    "description",
    "source",
    "themes",
    "requirements",
}
THEME_KEYS = {"code", "title", "description"}
REQUIREMENT_KEYS = {
    "code",
    "theme",
    "title",
    "description",
    "how",
    "official_id",
    "level",
    "priority",
    "prerequisite",
    "requires",
    "scored",
    "answers",
    "evidence",
    "care_domain",
    "min_activity_share",
    "exposure",
    "auto",
    "maps_to",
}
AUTO_KEYS = {"kind", "when", "within_days"}


class _Checker:
    def __init__(self, filename: str):
        self.filename = filename
        self.issues: list[Issue] = []

    def add(self, line: int, message: str) -> None:
        if len(self.issues) < 200:
            self.issues.append(Issue(self.filename, line, message))

    def unknown_keys(self, obj: jsonpos.PosDict, allowed: set[str], where: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(obj.line_of(key), f"clé inconnue « {key} » dans {where}")

    def text(
        self, obj: jsonpos.PosDict, key: str, *, required: bool = False, limit: int = MAX_TEXT
    ) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(obj.line, f"« {key} » manque")
            return ""
        if not isinstance(value, str):
            self.add(obj.line_of(key), f"« {key} » doit être un texte")
            return ""
        value = value.strip()
        if required and not value:
            self.add(obj.line_of(key), f"« {key} » est vide")
        if len(value) > limit:
            self.add(obj.line_of(key), f"« {key} » dépasse {limit} caractères")
            return value[:limit]
        return value

    def code(self, obj: jsonpos.PosDict, key: str) -> str:
        value = self.text(obj, key, required=True, limit=60)
        if value and not CODE_RE.match(value):
            self.add(
                obj.line_of(key),
                f"« {key} » : « {value} » n'est pas un code valide (minuscules, chiffres, . _ -)",
            )
        return value

    def boolean(self, obj: jsonpos.PosDict, key: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.add(obj.line_of(key), f"« {key} » doit valoir true ou false")
            return default
        return value

    def choice(self, obj: jsonpos.PosDict, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = obj.get(key, default)
        if value not in allowed or not isinstance(value, str):
            self.add(
                obj.line_of(key),
                f"« {key} » doit valoir l'une de ces valeurs : {', '.join(allowed)}",
            )
            return default
        return value

    def strings(self, obj: jsonpos.PosDict, key: str) -> tuple[str, ...]:
        value = obj.get(key, jsonpos.PosList())
        if not isinstance(value, jsonpos.PosList) or not all(isinstance(v, str) for v in value):
            self.add(obj.line_of(key), f"« {key} » doit être une liste de textes")
            return ()
        return tuple(v.strip() for v in value)


def _auto_rules(check: _Checker, requirement: jsonpos.PosDict) -> tuple[AutoRule, ...]:
    value = requirement.get("auto", jsonpos.PosList())
    if not isinstance(value, jsonpos.PosList):
        check.add(requirement.line_of("auto"), "« auto » doit être une liste de règles")
        return ()
    rules = []
    for index, rule in enumerate(value):
        line = value.line_of(index)
        if not isinstance(rule, jsonpos.PosDict):
            check.add(line, "une règle « auto » doit être un objet")
            continue
        check.unknown_keys(rule, AUTO_KEYS, "une règle « auto »")
        kind = check.choice(rule, "kind", AUTO_KINDS, "")
        when = rule.get("when", jsonpos.PosDict())
        conditions: dict[str, dict[str, Any]] = {}
        if not isinstance(when, jsonpos.PosDict):
            check.add(rule.line_of("when"), "« when » doit être un objet { champ: { op: valeur } }")
        else:
            for name, test in when.items():
                if not isinstance(test, jsonpos.PosDict) or not test:
                    check.add(
                        when.line_of(name), f"condition sur « {name} » : {{op: valeur}} attendu"
                    )
                    continue
                for op, expected in test.items():
                    if op not in OPERATORS:
                        check.add(
                            test.line_of(op),
                            f"opérateur « {op} » inconnu (permis : {' '.join(OPERATORS)})",
                        )
                    elif isinstance(expected, dict | list):
                        check.add(test.line_of(op), f"« {name} {op} » : valeur simple attendue")
                conditions[name] = dict(test)
        days = rule.get("within_days", 365)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
            check.add(rule.line_of("within_days"), "« within_days » : entier de 1 à 3660 attendu")
            days = 365
        if kind:
            rules.append(AutoRule(kind, conditions, days))
    return tuple(rules)


def _requirement(
    check: _Checker, item: Any, line: int, order: int, scale: str, themes: set[str]
) -> RequirementSpec | None:
    if not isinstance(item, jsonpos.PosDict):
        check.add(line, "une exigence doit être un objet")
        return None
    check.unknown_keys(item, REQUIREMENT_KEYS, "une exigence")
    code = check.code(item, "code")
    theme = check.text(item, "theme", required=True, limit=60)
    if theme and theme not in themes:
        check.add(item.line_of("theme"), f"thème « {theme} » non déclaré dans « themes »")
    priority = item.get("priority", 2)
    if isinstance(priority, bool) or priority not in (1, 2, 3):
        check.add(item.line_of("priority"), "« priority » doit valoir 1, 2 ou 3")
        priority = 2
    answers = check.strings(item, "answers")
    if answers and len(answers) != 4:
        check.add(item.line_of("answers"), "« answers » : quatre libellés attendus (0 à 3)")
    share = item.get("min_activity_share")
    if share is not None and (
        isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1
    ):
        check.add(
            item.line_of("min_activity_share"), "« min_activity_share » : nombre entre 0 et 1"
        )
        share = None
    level = check.choice(item, "level", ("", *LEVELS), "") if "level" in item else ""
    domain = (
        check.choice(item, "care_domain", ("", *CARE_DOMAINS), "") if "care_domain" in item else ""
    )
    maps_to = check.strings(item, "maps_to")
    for target_index, target in enumerate(maps_to):
        if ":" not in target:
            check.add(
                item["maps_to"].line_of(target_index),
                f"« {target} » : écrivez « référentiel:exigence », par ex. « anssi-hygiene:37 »",
            )
    return RequirementSpec(
        code=code,
        theme=theme,
        title=check.text(item, "title", required=True, limit=300),
        order=order,
        description=check.text(item, "description"),
        how=check.text(item, "how"),
        official_id=check.text(item, "official_id", limit=60),
        level=level,
        priority=int(priority),
        prerequisite=check.boolean(item, "prerequisite", False),
        requires=check.strings(item, "requires"),
        scored=check.boolean(item, "scored", True),
        answers=answers if len(answers) == 4 else (),
        evidence=check.text(item, "evidence"),
        care_domain=domain,
        min_activity_share=float(share) if share is not None else None,
        exposure=check.boolean(item, "exposure", False),
        auto=_auto_rules(check, item),
        maps_to=maps_to,
    )


def parse(text: str | bytes, filename: str = "<fichier>") -> FrameworkSpec:
    """Parse and validate one framework file; raise ``FrameworkError`` listing every issue."""
    data = _load(_decoded(text, filename), filename)
    check = _Checker(filename)
    check.unknown_keys(data, HEADER_KEYS, "l'en-tête")
    if data.get("format") != FORMAT_VERSION:
        check.add(data.line_of("format"), f"« format » doit valoir {FORMAT_VERSION}")
    code = check.code(data, "code")
    version = check.text(data, "version", required=True, limit=30)
    if version and not VERSION_RE.match(version):
        check.add(data.line_of("version"), f"« version » : « {version} » n'est pas valide")
    kind = check.choice(data, "kind", KINDS, "objectives")
    scale = check.choice(data, "scale", SCALES, "result")
    themes = _themes(check, data)
    raw = data.get("requirements")
    if not isinstance(raw, jsonpos.PosList) or not raw:
        check.add(data.line_of("requirements"), "« requirements » : liste non vide attendue")
        raw = jsonpos.PosList()
    if len(raw) > MAX_REQUIREMENTS:
        check.add(data.line_of("requirements"), f"plus de {MAX_REQUIREMENTS} exigences")
        del raw[MAX_REQUIREMENTS:]  # in place: keeps the items' line numbers
    requirements, lines = _requirements(check, raw, scale, {t.code for t in themes})
    _check_links(check, requirements, raw, lines, kind)
    if check.issues:
        raise FrameworkError(check.issues)
    return FrameworkSpec(
        code=code,
        version=version,
        kind=kind,
        scale=scale,
        title=check.text(data, "title", required=True, limit=200),
        description=check.text(data, "description"),
        source=check.text(data, "source", limit=500),
        themes=tuple(themes),
        requirements=tuple(requirements),
    )


def _decoded(text: str | bytes, filename: str) -> str:
    """The file's text (UTF-8, BOM allowed), within the size limit."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise FrameworkError([Issue(filename, 0, "fichier trop gros (2 Mo au plus)")])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FrameworkError(
                [Issue(filename, 0, f"le fichier n'est pas en UTF-8 (octet {exc.start})")]
            ) from None
    if len(text) > MAX_FILE_BYTES:
        raise FrameworkError([Issue(filename, 0, "fichier trop gros (2 Mo au plus)")])
    return text


def _load(text: str, filename: str) -> jsonpos.PosDict:
    """The top-level JSON object, its values carrying their line numbers."""
    try:
        data = jsonpos.loads(text)
    except jsonpos.JsonPositionError as exc:
        raise FrameworkError(
            [Issue(filename, exc.line, f"JSON invalide : {exc.message}")]
        ) from None
    if not isinstance(data, jsonpos.PosDict):
        raise FrameworkError([Issue(filename, 1, "le fichier doit contenir un objet JSON")])
    return data


def _themes(check: _Checker, data: jsonpos.PosDict) -> list[ThemeSpec]:
    themes: list[ThemeSpec] = []
    raw_themes = data.get("themes")
    if not isinstance(raw_themes, jsonpos.PosList) or not raw_themes:
        check.add(data.line_of("themes"), "« themes » : liste non vide attendue")
        raw_themes = jsonpos.PosList()
    for index, theme in enumerate(raw_themes):
        if not isinstance(theme, jsonpos.PosDict):
            check.add(raw_themes.line_of(index), "un thème doit être un objet")
            continue
        check.unknown_keys(theme, THEME_KEYS, "un thème")
        theme_code = check.code(theme, "code")
        if theme_code in {t.code for t in themes}:
            check.add(theme.line_of("code"), f"thème « {theme_code} » déclaré deux fois")
        themes.append(
            ThemeSpec(
                theme_code,
                check.text(theme, "title", required=True, limit=200),
                check.text(theme, "description"),
            )
        )
    return themes


def _requirements(
    check: _Checker, raw: jsonpos.PosList, scale: str, theme_codes: set[str]
) -> tuple[list[RequirementSpec], dict[str, int]]:
    """The valid requirements, and the line of each code (duplicates reported)."""
    requirements: list[RequirementSpec] = []
    lines: dict[str, int] = {}
    for index, item in enumerate(raw):
        spec = _requirement(check, item, raw.line_of(index), index, scale, theme_codes)
        if spec is None:
            continue
        if spec.code in lines:
            check.add(
                item.line_of("code"),
                f"exigence « {spec.code} » déclarée deux fois (déjà ligne {lines[spec.code]})",
            )
        lines[spec.code] = item.line_of("code")
        requirements.append(spec)
    return requirements, lines


def _check_links(
    check: _Checker,
    requirements: list[RequirementSpec],
    raw: jsonpos.PosList,
    lines: dict[str, int],
    kind: str,
) -> None:
    """Dependencies name known requirements without a cycle; diagnostic questions have answers."""
    for spec, item in zip(
        requirements, [r for r in raw if isinstance(r, jsonpos.PosDict)], strict=False
    ):
        for target_index, required in enumerate(spec.requires):
            if required not in lines:
                check.add(
                    item["requires"].line_of(target_index),
                    f"« requires » : exigence « {required} » inconnue dans ce référentiel",
                )
        if kind == "diagnostic" and spec.scored and not spec.answers:
            check.add(item.line_of("code"), "une question du diagnostic a besoin de « answers »")
    cycle = _find_cycle({r.code: r.requires for r in requirements})
    if cycle:
        check.add(lines.get(cycle[0], 0), "dépendances circulaires entre : " + ", ".join(cycle))


def _find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str]:
    """The requirements caught in a dependency cycle (Kahn's algorithm, no recursion: a
    hostile file with a long chain must not exhaust the stack), or an empty list."""
    pending = {node: {d for d in deps if d in graph and d != node} for node, deps in graph.items()}
    for node, deps in graph.items():
        if node in deps:
            return [node, node]
    ready = [node for node, deps in pending.items() if not deps]
    users: dict[str, list[str]] = {}
    for node, waiting in pending.items():
        for dep in waiting:
            users.setdefault(dep, []).append(node)
    done = 0
    while ready:
        node = ready.pop()
        done += 1
        for user in users.get(node, []):
            pending[user].discard(node)
            if not pending[user]:
                ready.append(user)
    if done == len(pending):
        return []
    return [node for node, deps in pending.items() if deps]


def check_mappings(specs: list[FrameworkSpec]) -> list[Issue]:
    """Mappings (``maps_to``) must name requirements of the loaded frameworks."""
    known = {(s.code, r.code) for s in specs for r in s.requirements}
    issues = []
    for spec in specs:
        for requirement in spec.requirements:
            for target in requirement.maps_to:
                framework, _sep, code = target.partition(":")
                if (framework, code) not in known:
                    issues.append(
                        Issue(
                            spec.code,
                            0,
                            f"{requirement.code} : correspondance vers « {target} » inconnue",
                        )
                    )
    return issues
