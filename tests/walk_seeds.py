"""Service hooks for the cross-tenant walks.

Each service's test package may hold a ``walk_seed.py`` with:

- ``seed(structure_a)``: create one of each of the service's objects for structure A, with
  "CH Alpha-Secret" in a visible text field so the walk spots a leak on pages without ids;
- ``API_OBJECT_PARAMETERS``: ``{(collection, parameter): make(region) -> object}`` for the API
  token walk (``tests/api/test_cross_tenant_api.py``), one line per new path parameter;
- ``A11Y_PAGES``: ``[(role, path), ...]``, the service's key pages for the accessibility check
  in Chromium (``tests/browser/test_a11y_pages.py``: axe-core, reflow at 320 px, focus ring,
  ``aria-current``). ``role`` is one of ``analyst``, ``director``, ``referent``, ``ars``,
  ``admin``, ``anonymous`` (demo region accounts); ``path`` may hold ``{structure}`` (the demo
  director's structure) and ``{finding}`` (one of its open findings).

Both walks pick them up here, so services never edit the walks themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent


def service_walk_modules() -> list[ModuleType]:
    found = []
    for path in sorted(TESTS_DIR.glob("*/walk_seed.py")):
        found.append(importlib.import_module(f"tests.{path.parent.name}.walk_seed"))
    return found


def seed_services(structure_a: Any) -> None:
    for module in service_walk_modules():
        seed = getattr(module, "seed", None)
        if seed is not None:
            seed(structure_a)


def api_object_parameters() -> dict[tuple[str, str], Callable[[Any], Any]]:
    table: dict[tuple[str, str], Callable[[Any], Any]] = {}
    for module in service_walk_modules():
        table.update(getattr(module, "API_OBJECT_PARAMETERS", {}))
    return table


def a11y_pages() -> list[tuple[str, str]]:
    pages: list[tuple[str, str]] = []
    for module in service_walk_modules():
        pages.extend(getattr(module, "A11Y_PAGES", []))
    return pages
