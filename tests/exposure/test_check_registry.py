"""The exposure check registry, held to the directory rules' standard.

- every id an emitter names is registered, and an unknown id is an error (never 10 points);
- every registered check can fire: some emitter of the engine refers to it;
- definitions are keyword-only, with French and English texts;
- a missing check module is an import error, never a silently smaller registry;
- docs/exposure-checks.md is exactly what ``carbet scan --list-checks`` prints.

"Emitted" is read statically from the engine's source (an AST walk: ``Check`` constants used
outside their ``define``, and string ids handed to ``Observation``), plus the ids the tests and
the demo data name, so a test cannot assert on an id that does not exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from carbet.engines.exposure import checks, report
from carbet.engines.exposure.core import Observation

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "carbet" / "engines" / "exposure"
# Strings shaped like ids that are not checks: module paths, a lab host name, this file's typo.
NOT_CHECKS = {"mail.checks", "tls.checks", "web.checks", "tls.cert", "web.scope.test", "port.rdpp"}
ID_PATTERN = re.compile(r"^(port|tls|web|mail|dns|medical|vuln)\.[a-z0-9_]+(\.[a-z0-9_]+)*$")


def _modules(base: Path) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(base.rglob("*.py"))]


def _definitions() -> dict[str, tuple[Path, str]]:
    """Check id → (module, constant name) of every ``NAME = define(id=...)``."""
    found: dict[str, tuple[Path, str]] = {}
    for path, tree in _modules(ENGINE):
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "define"
            ):
                assert not node.value.args, f"{path}: define() takes keyword arguments only"
                keywords = {k.arg: k.value for k in node.value.keywords}
                check_id = ast.literal_eval(keywords["id"])
                found[check_id] = (path, node.targets[0].id)  # type: ignore[attr-defined]
    return found


def _constant_uses() -> set[str]:
    """Names read anywhere in the engine, outside import lines and the ``define`` lines."""
    used: set[str] = set()
    for _path, tree in _modules(ENGINE):
        # A catalogue tuple of constants (``SERVICE_CHECKS = (PORT_RDP, ...)``) emits nothing.
        catalogues = [
            node
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Tuple)
            and all(isinstance(element, ast.Name) for element in node.value.elts)
        ]
        for catalogue in catalogues:
            tree.body.remove(catalogue)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                used.add(node.id)
    return used


def _string_ids(paths: list[Path]) -> set[str]:
    """String literals that look like check ids, in the given trees."""
    ids: set[str] = set()
    for base in paths:
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if ID_PATTERN.match(node.value):
                        ids.add(node.value)
    return ids


def test_every_check_is_defined_keyword_only_in_a_probe_sub_package():
    definitions = _definitions()
    assert set(definitions) == set(checks.all_checks())
    for path, _name in definitions.values():
        assert path.parent != ENGINE, f"{path}: checks live in their probe's sub-package"


def test_every_registered_check_can_fire():
    """Each ``define``d constant is read by an emitter (its ``observe``, a verdict table...)."""
    uses = _constant_uses()
    silent = [check_id for check_id, (_p, name) in _definitions().items() if name not in uses]
    assert not silent, f"registered but emitted nowhere: {silent}"


def test_every_emitted_or_named_id_is_registered():
    registry = checks.all_checks()
    named = _string_ids([ENGINE, ROOT / "carbet" / "demo", ROOT / "carbet" / "exposure"])
    named |= _string_ids([ROOT / "tests" / "exposure"])
    unknown = named - set(registry) - NOT_CHECKS
    assert not unknown, f"ids named but never registered: {sorted(unknown)}"


def test_an_unknown_id_is_an_error_not_points():
    with pytest.raises(checks.UnknownCheck):
        Observation("port.rdpp")
    with pytest.raises(checks.UnknownCheck):
        checks.get("nobody.knows")


def test_definitions_are_keyword_only_and_complete():
    with pytest.raises(TypeError):
        checks.Check("x.y", "exposure", 2, "t", "t", "r", "r")  # type: ignore[misc]
    base = dict(
        id="test.only", category="exposure", severity=2, title_fr="Titre",
        title_en="Title", remediation_fr="Faire", remediation_en="Do",
    )  # fmt: skip
    with pytest.raises(ValueError, match="category"):
        checks.register(checks.Check(**{**base, "category": "nowhere"}))
    with pytest.raises(ValueError, match="English"):
        checks.register(checks.Check(**{**base, "title_en": ""}))
    with pytest.raises(ValueError, match="twice"):
        checks.register(checks.Check(**{**base, "id": "port.rdp"}))
    for definition in checks.all_checks().values():
        assert definition.title("en") == definition.title_en != ""
        assert definition.remediation("en") == definition.remediation_en != ""


def test_a_missing_check_module_is_an_error(monkeypatch):
    monkeypatch.setattr(checks, "CHECK_MODULES", (*checks.CHECK_MODULES, "nowhere.checks"))
    with pytest.raises(ModuleNotFoundError):
        checks.all_checks()


def test_the_reference_is_exactly_what_list_checks_prints():
    documented = (ROOT / "docs" / "exposure-checks.md").read_text()
    assert documented == report.checks_reference(), (
        "regenerate with: carbet scan --list-checks > docs/exposure-checks.md"
    )


def test_json_titles_follow_the_language():
    observation = Observation("port.rdp", port=3389)
    assert report.finding_dict(observation)["title"].startswith("Bureau à distance")
    assert report.finding_dict(observation, "en")["title"].startswith("Windows Remote Desktop")
