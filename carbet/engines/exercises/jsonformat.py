"""The scenario JSON format: ``parse`` (line-precise problems) and ``export`` (stable text).

``parse`` never raises on what a file contains: too big, not UTF-8, not JSON, nested too deep,
wrong types, unknown keys, broken references — each becomes a ``Problem(path, line, message)``
in French, and the scenario is returned only when there is none. ``export`` writes every field
in the dataclasses' order, so ``parse(export(s))`` gives ``s`` back and diffs stay readable.
The format is described field by field in docs/exercises-format.md.
"""

from __future__ import annotations

import json
from typing import Any

from ..roadmap import jsonpos
from .model import (
    AUDIENCES,
    CELL_ROLES,
    CHANNELS,
    CONDITIONS,
    LEVELS,
    SCOPES,
    Cell,
    Criterion,
    Dependency,
    Expectation,
    Inject,
    Objective,
    Problem,
    ScaleLevel,
    Scenario,
    Section,
    Sender,
    Variable,
)
from .reader import Fields, Report
from .validate import Where, validate

FORMAT = "carbet-scenario/1"
MAX_BYTES = 2_000_000
MAX_DEPTH = jsonpos.MAX_DEPTH
DEFAULT_SCALE: tuple[ScaleLevel, ...] = (
    ScaleLevel(1, "Non réalisé"),
    ScaleLevel(2, "Partiellement réalisé"),
    ScaleLevel(3, "Réalisé"),
    ScaleLevel(4, "Réalisé de façon exemplaire"),
)

_SCENARIO_KEYS = (
    "format",
    "code",
    "version",
    "title",
    "level",
    "audience",
    "summary",
    "duration_minutes",
    "regional_ready",
    "variables",
    "objectives",
    "situation",
    "cells",
    "injects",
    "observation_grid",
)
_INJECT_KEYS = (
    "code",
    "offset_minutes",
    "title",
    "channel",
    "scope",
    "sender",
    "recipients",
    "subject",
    "body",
    "phone_script",
    "depends_on",
    "expectations",
)


def parse(text: str | bytes, path: str = "scenario.json") -> tuple[Scenario | None, list[Problem]]:
    """Read a scenario file; ``(scenario, [])`` or ``(None, problems)``."""
    report = Report(path)
    if isinstance(text, bytes | bytearray):
        if len(text) > MAX_BYTES:
            report.add(0, f"fichier trop volumineux ({MAX_BYTES // 1_000_000} Mo au plus)")
            return None, report.problems
        raw = bytes(text)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            report.add(line, "le fichier n'est pas encodé en UTF-8")
            return None, report.problems
    if not isinstance(text, str):
        report.add(0, "aucun texte reçu")
        return None, report.problems
    if len(text) > MAX_BYTES:
        report.add(0, f"fichier trop volumineux ({MAX_BYTES // 1_000_000} Mo au plus)")
        return None, report.problems
    text = text.removeprefix("\ufeff")
    if not text.strip():
        report.add(0, "le fichier est vide")
        return None, report.problems
    try:
        data = _decode(text)
    except jsonpos.JsonPositionError as exc:
        report.add(exc.line, f"JSON invalide, colonne {exc.column} : {exc.message}")
        return None, report.problems
    except RecursionError:
        report.add(0, f"imbrication trop profonde (plus de {MAX_DEPTH} niveaux)")
        return None, report.problems
    return _build(report, data)


def _decode(text: str) -> Any:
    return jsonpos.loads(text)


def from_data(data: Any, path: str = "scenario") -> tuple[Scenario | None, list[Problem]]:
    """The same checks on already decoded data (lines are then 0)."""
    return _build(Report(path), data)


def _build(report: Report, data: Any) -> tuple[Scenario | None, list[Problem]]:
    where: Where = {}
    scenario = _scenario(report, data, where)
    if scenario is not None:
        validate(scenario, where, report)
    if report.problems or scenario is None:
        return None, sorted(report.problems, key=lambda problem: problem.line)
    return scenario, []


def _scenario(report: Report, data: Any, where: Where) -> Scenario | None:
    top = Fields(report, data, "scénario", _SCENARIO_KEYS)
    if not top.ok:
        return None
    if top.has("format"):
        fmt = top.text("format")
        if fmt and fmt != FORMAT:
            report.add(
                top.key_line("format"), f"format « {fmt[:40]} » inconnu (attendu : {FORMAT})"
            )
    for key in ("duration_minutes", "injects", "variables", "cells", "objectives"):
        where[(key,)] = top.key_line(key)
        if top.has(key):
            where[("present", key)] = 1
    where[("regional_ready",)] = top.key_line("regional_ready")
    scenario = Scenario(
        code=top.text("code", required=True),
        version=top.text("version", required=True),
        title=top.text("title", required=True),
        level=top.choice("level", LEVELS),
        audience=top.choice("audience", AUDIENCES, default="tous"),
        summary=top.text("summary", required=True),
        duration_minutes=top.integer("duration_minutes", required=True),
        regional_ready=top.boolean("regional_ready"),
        variables=tuple(
            _variable(report, item, line, where, i)
            for i, (item, line) in enumerate(top.items("variables"))
        ),
        objectives=tuple(
            _objective(report, item, line, where, i)
            for i, (item, line) in enumerate(top.items("objectives", required=True))
        ),
        situation=tuple(
            _section(report, item, line, where, i)
            for i, (item, line) in enumerate(top.items("situation", required=True))
        ),
        cells=tuple(
            _cell(report, item, line, where, i)
            for i, (item, line) in enumerate(top.items("cells", required=True))
        ),
        injects=tuple(
            _inject(report, item, line, where, i)
            for i, (item, line) in enumerate(top.items("injects", required=True))
        ),
        observation_grid=tuple(
            _criterion(report, item, line, where, i)
            for i, (item, line) in enumerate(top.items("observation_grid"))
        ),
    )
    where[("code",)] = top.key_line("code")
    return scenario


def _variable(report: Report, data: Any, line: int, where: Where, index: int) -> Variable:
    fields = Fields(
        report, data, f"variable n° {index + 1}", ("name", "description", "default"), line=line
    )
    where[("variables", index)] = fields.key_line("name")
    return Variable(
        name=fields.text("name", required=True),
        description=fields.text("description", required=True),
        default=fields.text("default"),
    )


def _objective(report: Report, data: Any, line: int, where: Where, index: int) -> Objective:
    fields = Fields(
        report, data, f"objectif n° {index + 1}", ("code", "title", "criteria"), line=line
    )
    where[("objectives", index)] = fields.key_line("code")
    return Objective(
        code=fields.text("code", required=True),
        title=fields.text("title", required=True),
        criteria=fields.texts("criteria"),
    )


def _section(report: Report, data: Any, line: int, where: Where, index: int) -> Section:
    fields = Fields(
        report, data, f"section n° {index + 1} de la situation", ("title", "text"), line=line
    )
    where[("situation", index)] = fields.key_line("text")
    return Section(
        title=fields.text("title", required=True), text=fields.text("text", required=True)
    )


def _cell(report: Report, data: Any, line: int, where: Where, index: int) -> Cell:
    fields = Fields(report, data, f"cellule n° {index + 1}", ("code", "name", "role"), line=line)
    where[("cells", index)] = fields.key_line("code")
    return Cell(
        code=fields.text("code", required=True),
        name=fields.text("name", required=True),
        role=fields.choice("role", CELL_ROLES),
    )


def _inject(report: Report, data: Any, line: int, where: Where, index: int) -> Inject:
    code = data.get("code") if isinstance(data, dict) else None
    label = f"inject « {code} »" if isinstance(code, str) and code else f"inject n° {index + 1}"
    fields = Fields(report, data, label, _INJECT_KEYS, line=line)
    where[("injects", index)] = fields.key_line("code")
    for key in (
        "offset_minutes",
        "recipients",
        "title",
        "subject",
        "body",
        "phone_script",
        "sender",
        "channel",
    ):
        where[("injects", index, key)] = fields.key_line(key)
    sender = Sender("")
    if fields.has("sender"):
        sender_fields = Fields(
            report,
            fields.data["sender"],
            f"{label}, émetteur",
            ("name", "address"),
            line=fields.key_line("sender"),
        )
        sender = Sender(sender_fields.text("name"), sender_fields.text("address"))
    recipients: tuple[str, ...] = ("all",)
    if fields.has("recipients"):
        raw = fields.data["recipients"]
        recipients = (raw,) if isinstance(raw, str) else fields.texts("recipients")
    depends: list[Dependency] = []
    for j, (item, item_line) in enumerate(fields.items("depends_on")):
        dep = Fields(
            report, item, f"{label}, dépendance n° {j + 1}", ("inject", "condition"), line=item_line
        )
        where[("injects", index, "depends_on", j)] = dep.key_line("inject")
        depends.append(
            Dependency(
                dep.text("inject", required=True),
                dep.choice("condition", CONDITIONS, default="sent"),
            )
        )
    expectations: list[Expectation] = []
    for j, (item, item_line) in enumerate(fields.items("expectations")):
        exp = Fields(
            report,
            item,
            f"{label}, réaction attendue n° {j + 1}",
            ("code", "text", "objective", "cell", "within_minutes"),
            line=item_line,
        )
        where[("injects", index, "expectations", j)] = exp.key_line("code")
        for key in ("objective", "cell", "within_minutes"):
            where[("injects", index, "expectations", j, key)] = exp.key_line(key)
        expectations.append(
            Expectation(
                code=exp.text("code", required=True),
                text=exp.text("text", required=True),
                objective=exp.text("objective"),
                cell=exp.text("cell"),
                within_minutes=exp.optional_integer("within_minutes"),
            )
        )
    return Inject(
        code=fields.text("code", required=True),
        offset_minutes=fields.integer("offset_minutes", required=True),
        title=fields.text("title", required=True),
        channel=fields.choice("channel", CHANNELS),
        scope=fields.choice("scope", SCOPES, default="local"),
        sender=sender,
        recipients=recipients,
        subject=fields.text("subject"),
        body=fields.text("body"),
        phone_script=fields.text("phone_script"),
        depends_on=tuple(depends),
        expectations=tuple(expectations),
    )


def _criterion(report: Report, data: Any, line: int, where: Where, index: int) -> Criterion:
    fields = Fields(
        report,
        data,
        f"critère d'observation n° {index + 1}",
        ("code", "criterion", "objective", "scale"),
        line=line,
    )
    where[("observation_grid", index)] = fields.key_line("code")
    where[("observation_grid", index, "objective")] = fields.key_line("objective")
    scale: list[ScaleLevel] = []
    for item, item_line in fields.items("scale"):
        level = Fields(
            report,
            item,
            f"critère d'observation n° {index + 1}, échelle",
            ("value", "label"),
            line=item_line,
        )
        scale.append(
            ScaleLevel(level.integer("value", required=True), level.text("label", required=True))
        )
    if not fields.has("scale"):
        scale = list(DEFAULT_SCALE)
    where[("observation_grid", index, "scale")] = fields.key_line("scale")
    return Criterion(
        code=fields.text("code", required=True),
        criterion=fields.text("criterion", required=True),
        objective=fields.text("objective"),
        scale=tuple(scale),
    )


def to_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario as JSON-able data, keys in the documented order."""
    return {
        "format": FORMAT,
        "code": scenario.code,
        "version": scenario.version,
        "title": scenario.title,
        "level": scenario.level,
        "audience": scenario.audience,
        "summary": scenario.summary,
        "duration_minutes": scenario.duration_minutes,
        "regional_ready": scenario.regional_ready,
        "variables": [
            {"name": v.name, "description": v.description, "default": v.default}
            for v in scenario.variables
        ],
        "objectives": [
            {"code": o.code, "title": o.title, "criteria": list(o.criteria)}
            for o in scenario.objectives
        ],
        "situation": [{"title": s.title, "text": s.text} for s in scenario.situation],
        "cells": [{"code": c.code, "name": c.name, "role": c.role} for c in scenario.cells],
        "injects": [_inject_data(i) for i in scenario.injects],
        "observation_grid": [
            {
                "code": c.code,
                "criterion": c.criterion,
                "objective": c.objective,
                "scale": [{"value": s.value, "label": s.label} for s in c.scale],
            }
            for c in scenario.observation_grid
        ],
    }


def _inject_data(inject: Inject) -> dict[str, Any]:
    return {
        "code": inject.code,
        "offset_minutes": inject.offset_minutes,
        "title": inject.title,
        "channel": inject.channel,
        "scope": inject.scope,
        "sender": {"name": inject.sender.name, "address": inject.sender.address},
        "recipients": list(inject.recipients),
        "subject": inject.subject,
        "body": inject.body,
        "phone_script": inject.phone_script,
        "depends_on": [{"inject": d.inject, "condition": d.condition} for d in inject.depends_on],
        "expectations": [
            {
                "code": e.code,
                "text": e.text,
                "objective": e.objective,
                "cell": e.cell,
                "within_minutes": e.within_minutes,
            }
            for e in inject.expectations
        ],
    }


def export(scenario: Scenario) -> str:
    """The scenario as a JSON file (UTF-8 text, two-space indent, final newline)."""
    return json.dumps(to_data(scenario), ensure_ascii=False, indent=2) + "\n"
