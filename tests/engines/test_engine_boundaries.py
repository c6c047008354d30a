"""Engines stay pure: no module under carbet/engines imports Django or a Carbet app.

An AST walk of every import (top level and inside functions, ``import x`` and ``from x import``,
relative ones resolved): only the standard library, third-party libraries other than Django,
and ``carbet.engines`` itself are allowed. This is what lets the CLI scan without a database
and the engines run in any process.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ROOT / "carbet" / "engines"


def _imports(path: Path) -> list[tuple[int, str]]:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def test_no_engine_imports_django_or_an_app():
    offenders = []
    for path in sorted(ENGINES.rglob("*.py")):
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top == "django" or (top == "carbet" and not name.startswith("carbet.engines")):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_walk_sees_relative_and_nested_imports(tmp_path):
    module = ENGINES / "exposure" / "ports" / "verdicts.py"
    names = {name for _line, name in _imports(module)}
    assert "carbet.engines.exposure.checks" in names
