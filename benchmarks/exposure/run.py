"""All exposure benchmarks in one run, one table: ports, TLS, mail/DNS and the regional scan.

Each module (``ports``, ``tls``, ``maildns``, ``regional``) exposes ``measure(quick) -> rows``
with the same columns: bench, carbet_s, anchor, anchor_s, ratio, agreement, notes. A module
that is missing or fails is reported as such in the table; the others still run.

    .venv/bin/python benchmarks/exposure/run.py [--quick] [--only ports,tls,maildns,regional]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
MODULES = ("ports", "tls", "maildns", "regional")


def _load(name: str) -> Any:
    path = HERE / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"carbet_bench_exposure_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def collect(quick: bool, only: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in only:
        module = _load(name)
        if module is None:
            rows.append(_missing(name, "module not present"))
            continue
        started = time.monotonic()
        try:
            found = module.measure(quick)
        except Exception as exc:  # one benchmark's failure must not hide the others
            traceback.print_exc()
            rows.append(_missing(name, f"failed: {type(exc).__name__}: {exc}"))
            continue
        print(f"[{name}] {time.monotonic() - started:.0f} s", file=sys.stderr)
        rows.extend(found)
    return rows


def _missing(name: str, why: str) -> dict[str, Any]:
    return {
        "bench": name, "carbet_s": None, "anchor": "", "anchor_s": None, "ratio": None,
        "agreement": None, "notes": why,
    }  # fmt: skip


def _cell(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def print_table(rows: list[dict[str, Any]]) -> None:
    print("| benchmark | Carbet | anchor | anchor time | ratio | agreement |")
    print("| --- | ---: | --- | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| {row['bench']} | {_cell(row['carbet_s'], ' s')} | {row['anchor']} | "
            f"{_cell(row['anchor_s'], ' s')} | {_cell(row['ratio'], '×')} | "
            f"{_cell(row['agreement'])} |"
        )
    print()
    for row in rows:
        if row.get("notes"):
            print(f"- {row['bench']}: {str(row['notes'])[:600]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes of every benchmark")
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated modules")
    arguments = parser.parse_args()
    wanted = [name.strip() for name in arguments.only.split(",") if name.strip()]
    print_table(collect(arguments.quick, wanted))
