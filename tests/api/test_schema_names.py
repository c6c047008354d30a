"""Two request or response schemas with the same class name share one OpenAPI component: the
document then describes one route with the other's fields, and clients (and our own API walk)
send bodies the route refuses. Every schema an API module defines has a name of its own."""

from __future__ import annotations

import importlib
import inspect
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from ninja import Schema

CARBET = Path(settings.BASE_DIR)


def _api_modules() -> list[str]:
    names = []
    for path in sorted(CARBET.rglob("*.py")):
        relative = path.relative_to(CARBET.parent).with_suffix("")
        stem = relative.name
        if "migrations" in relative.parts:
            continue
        if stem.startswith("api") or stem.startswith("schemas") or relative.parts[1] == "api":
            names.append(".".join(relative.parts))
    return names


def test_every_api_schema_name_is_unique():
    defined: dict[str, set[str]] = defaultdict(set)
    for name in _api_modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Schema)
                and value.__module__ == module.__name__
            ):
                defined[value.__name__].add(f"{module.__name__}.{attribute}")
    shared = {name: sorted(places) for name, places in defined.items() if len(places) > 1}
    assert not shared, f"schemas sharing an OpenAPI name: {shared}"
