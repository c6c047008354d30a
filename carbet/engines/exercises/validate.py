"""Cross-checks of a scenario once its fields are read: codes, references, times, variables.

``where`` maps a place in the scenario (``("injects", 3, "depends_on", 0)``) to the line it was
written on, so every problem points at the right line; data that did not come from a file has
no lines and its problems say line 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .model import ALL_RECIPIENTS, PERSON_ROLES, Inject, Scenario
from .reader import Report
from .render import NAME, malformed, placeholders

Where = dict[tuple[Any, ...], int]
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
MAX_DURATION = 30 * 24 * 60  # a month of scenario time


def validate(scenario: Scenario, where: Where, report: Report) -> None:
    _codes(scenario, where, report)
    _times(scenario, where, report)
    _references(scenario, where, report)
    _dependencies(scenario, where, report)
    _variables(scenario, where, report)
    _grid(scenario, where, report)
    if scenario.regional_ready and not any(i.scope == "regional" for i in scenario.injects):
        report.add(
            where.get(("regional_ready",), 0),
            "scénario déclaré régional (regional_ready) sans aucun inject de portée « regional »",
        )


def _unique(
    report: Report,
    what: str,
    entries: Iterable[tuple[str, int]],
    *,
    pattern: re.Pattern[str] = CODE,
) -> None:
    seen: dict[str, int] = {}
    for code, line in entries:
        if not code:
            continue  # already reported as missing or empty
        if not pattern.fullmatch(code):
            report.add(
                line,
                f"{what} « {code[:50]} » : lettres, chiffres, « _ », « - » ou « . » seulement "
                "(40 caractères au plus)",
            )
        if code in seen:
            report.add(line, f"{what} « {code} » en double (déjà ligne {seen[code]})")
        else:
            seen[code] = line


def _codes(s: Scenario, where: Where, report: Report) -> None:
    _unique(
        report,
        "variable",
        ((v.name, where.get(("variables", i), 0)) for i, v in enumerate(s.variables)),
        pattern=NAME,
    )
    _unique(
        report,
        "code d'objectif",
        ((o.code, where.get(("objectives", i), 0)) for i, o in enumerate(s.objectives)),
    )
    _unique(
        report,
        "code de cellule",
        ((c.code, where.get(("cells", i), 0)) for i, c in enumerate(s.cells)),
    )
    _unique(
        report,
        "code d'inject",
        ((x.code, where.get(("injects", i), 0)) for i, x in enumerate(s.injects)),
    )
    _unique(
        report,
        "code de réaction attendue",
        (
            (e.code, where.get(("injects", i, "expectations", j), 0))
            for i, x in enumerate(s.injects)
            for j, e in enumerate(x.expectations)
        ),
    )
    _unique(
        report,
        "code de critère d'observation",
        ((c.code, where.get(("observation_grid", i), 0)) for i, c in enumerate(s.observation_grid)),
    )
    if s.code and not CODE.fullmatch(s.code):
        report.add(where.get(("code",), 0), f"code de scénario « {s.code[:50]} » invalide")
    for key, items in (("objectives", s.objectives), ("cells", s.cells), ("injects", s.injects)):
        if not items and where.get(("present", key)):
            report.add(where.get((key,), 0), f"« {key} » ne doit pas être vide")


def _times(s: Scenario, where: Where, report: Report) -> None:
    if s.duration_minutes <= 0 or s.duration_minutes > MAX_DURATION:
        report.add(
            where.get(("duration_minutes",), 0),
            f"durée de {s.duration_minutes} minutes : elle doit être comprise entre 1 et "
            f"{MAX_DURATION} minutes",
        )
        return
    for i, inject in enumerate(s.injects):
        line = where.get(("injects", i, "offset_minutes"), 0)
        if inject.offset_minutes < 0:
            report.add(
                line, f"inject « {inject.code} » : décalage négatif ({inject.offset_minutes} min)"
            )
        elif inject.offset_minutes > s.duration_minutes:
            report.add(
                line,
                f"inject « {inject.code} » à {inject.offset_minutes} min, après la fin de "
                f"l'exercice ({s.duration_minutes} min)",
            )
        for j, exp in enumerate(inject.expectations):
            if exp.within_minutes is not None and exp.within_minutes <= 0:
                report.add(
                    where.get(("injects", i, "expectations", j, "within_minutes"), 0),
                    f"réaction attendue « {exp.code} » : « within_minutes » doit être positif",
                )


def _references(s: Scenario, where: Where, report: Report) -> None:
    objectives = {o.code for o in s.objectives}
    cells = {c.code for c in s.cells}
    recipients_ok = cells | {ALL_RECIPIENTS, *PERSON_ROLES}
    for i, inject in enumerate(s.injects):
        line = where.get(("injects", i, "recipients"), 0) or where.get(("injects", i), 0)
        if not inject.recipients:
            report.add(line, f"inject « {inject.code} » : aucun destinataire")
        for name in inject.recipients:
            if name not in recipients_ok:
                report.add(
                    line,
                    f"inject « {inject.code} » : destinataire « {name[:50]} » inconnu (une "
                    f"cellule, « all », ou un rôle : {', '.join(PERSON_ROLES)})",
                )
        if inject.channel == "phone" and not inject.phone_script.strip():
            report.add(
                where.get(("injects", i, "channel"), 0),
                f"inject « {inject.code} » : un appel téléphonique demande un « phone_script »",
            )
        for j, exp in enumerate(inject.expectations):
            if exp.objective and exp.objective not in objectives:
                report.add(
                    where.get(("injects", i, "expectations", j, "objective"), 0),
                    f"réaction attendue « {exp.code} » : objectif « {exp.objective[:50]} » inconnu",
                )
            if exp.cell and exp.cell not in cells:
                report.add(
                    where.get(("injects", i, "expectations", j, "cell"), 0),
                    f"réaction attendue « {exp.code} » : cellule « {exp.cell[:50]} » inconnue",
                )


def _dependencies(s: Scenario, where: Where, report: Report) -> None:
    by_code: dict[str, Inject] = {}
    for inject in s.injects:
        by_code.setdefault(inject.code, inject)
    for i, inject in enumerate(s.injects):
        for j, dep in enumerate(inject.depends_on):
            line = where.get(("injects", i, "depends_on", j), 0)
            target = by_code.get(dep.inject)
            if dep.inject == inject.code:
                report.add(line, f"inject « {inject.code} » : il ne peut pas dépendre de lui-même")
            elif target is None:
                report.add(
                    line,
                    f"inject « {inject.code} » : dépend de « {dep.inject[:50]} », qui n'existe pas",
                )
            elif target.offset_minutes > inject.offset_minutes:
                report.add(
                    line,
                    f"inject « {inject.code} » ({inject.offset_minutes} min) : dépend de "
                    f"« {target.code} », prévu plus tard ({target.offset_minutes} min)",
                )
            elif dep.condition.startswith("expectation") and not target.expectations:
                report.add(
                    line,
                    f"inject « {inject.code} » : la condition « {dep.condition} » porte sur "
                    f"« {target.code} », qui n'a aucune réaction attendue",
                )
    cycle = find_cycle({x.code: [d.inject for d in x.depends_on] for x in s.injects})
    if cycle:
        index = next(i for i, x in enumerate(s.injects) if x.code == cycle[0])
        report.add(
            where.get(("injects", index), 0),
            f"dépendances circulaires : {' → '.join(cycle)}",
        )


def find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or ``[]`` (iterative, any size)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in graph:
        if root in state:
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, position = stack.pop()
            if position == 0:
                state[node] = 1
                path.append(node)
            children = graph.get(node, [])
            if position < len(children):
                stack.append((node, position + 1))
                child = children[position]
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if child not in state and child in graph:
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return []


def _variables(s: Scenario, where: Where, report: Report) -> None:
    declared = {v.name for v in s.variables}
    texts: list[tuple[str, int, str]] = [(s.summary, where.get(("code",), 0), "résumé")]
    for i, section in enumerate(s.situation):
        line = where.get(("situation", i), 0)
        texts += [(section.title, line, "situation"), (section.text, line, "situation")]
    for i, x in enumerate(s.injects):
        label = f"inject « {x.code} »"
        for key, value in (
            ("title", x.title),
            ("subject", x.subject),
            ("body", x.body),
            ("phone_script", x.phone_script),
            ("sender", x.sender.name),
            ("sender", x.sender.address),
        ):
            line = where.get(("injects", i, key), 0) or where.get(("injects", i), 0)
            texts.append((value, line, label))
    for text, line, label in texts:
        for name in placeholders(text):
            if name not in declared:
                report.add(
                    line, f"{label} : variable {{{{{name}}}}} non déclarée dans « variables »"
                )
        for fragment in malformed(text):
            report.add(
                line,
                f"{label} : « {fragment[:60]} » n'est pas une variable valide "
                "(écrire {{nom}}, sans point ni filtre)",
            )


def _grid(s: Scenario, where: Where, report: Report) -> None:
    objectives = {o.code for o in s.objectives}
    for i, criterion in enumerate(s.observation_grid):
        if criterion.objective and criterion.objective not in objectives:
            report.add(
                where.get(("observation_grid", i, "objective"), 0),
                f"critère « {criterion.code} » : objectif « {criterion.objective[:50]} » inconnu",
            )
        values = [level.value for level in criterion.scale]
        if len(values) < 2 or len(set(values)) != len(values):
            report.add(
                where.get(("observation_grid", i, "scale"), 0),
                f"critère « {criterion.code} » : l'échelle demande au moins deux niveaux de "
                "valeurs différentes",
            )
