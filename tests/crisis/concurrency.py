"""Many writers appending to one case's main courante at once, each in its own process (real
concurrency: no shared Python lock, each with its own database connection). Shared by the
tests (ten writers) and ``benchmarks/crisis.py`` (twenty)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.ops.realservers import ROOT, django_script, run_carbet

SETUP = """
import json
from carbet.core.models import Organisation, Structure
from carbet.core.tenancy import SYSTEM
from carbet.crisis import services
org = Organisation.objects.create(finess_ej="750712184", name="CH Test", legal_status="public")
structure = Structure.objects.create(finess_et="970200010", name="CH Test", organisation=org,
                                     category="ch", departement="972")
case = services.open_case_for(SYSTEM, structure, category="ransomware")
print(json.dumps({"case": case.pk}))
"""

WRITER = """
import django, json, os, sys, time
django.setup()
from carbet.core.tenancy import SYSTEM
from carbet.crisis.models import CrisisCase
from carbet.crisis.services_log import append_entry
case = CrisisCase.objects.visible_to(SYSTEM).get(pk=int(sys.argv[1]))
writer, count, go = sys.argv[2], int(sys.argv[3]), sys.argv[4]
case.structure  # connected and warm before the release
open(f"{go}.ready.{writer}", "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
started = time.time()
for i in range(count):
    append_entry(SYSTEM, case, text=f"writer {writer} entry {i}", kind="fact",
                 author_label=f"writer {writer}")
print(json.dumps({"writer": writer, "done": count, "start": started, "end": time.time()}))
"""

CHECK = """
import json
from carbet.core.tenancy import SYSTEM
from carbet.crisis.models import CrisisCase, LogEntry
from carbet.crisis.services_log import verify_log
case = CrisisCase.objects.visible_to(SYSTEM).get(pk=%d)
rows = LogEntry.objects.filter(case=case)
sequences = list(rows.order_by("sequence").values_list("sequence", flat=True))
texts = set(rows.filter(text__startswith="writer ").values_list("text", flat=True))
result = verify_log(case)
contiguous = sequences == list(range(1, len(sequences) + 1))
print(json.dumps({"count": len(sequences), "contiguous": contiguous, "writer_entries": len(texts),
                  "chain_ok": result.ok, "checked": result.checked}))
"""


def prepare(env: dict[str, str]) -> int:
    result = run_carbet(env, "migrate", "--verbosity", "0", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return int(django_script(env, SETUP)["case"])  # type: ignore[index]


def run_writers(env: dict[str, str], case_id: int, writers: int, per_writer: int, go: Path) -> dict:
    """Start ``writers`` processes, release them together once all are connected, wait;
    returns the check and the wall time of the appends (first start to last end)."""
    go.unlink(missing_ok=True)
    for old in go.parent.glob(go.name + ".ready.*"):
        old.unlink()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(case_id), str(n), str(per_writer), str(go)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    deadline = time.monotonic() + 300
    while len(list(go.parent.glob(go.name + ".ready.*"))) < writers:
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            break
        time.sleep(0.05)
    go.write_text("go")
    errors, starts, ends = [], [], []
    for process in processes:
        out, err = process.communicate(timeout=600)
        if process.returncode != 0:
            errors.append(err[-2000:])
            continue
        done = json.loads(out.strip().splitlines()[-1])
        starts.append(done["start"])
        ends.append(done["end"])
    elapsed = (max(ends) - min(starts)) if starts else 0.0
    check = django_script(env, CHECK % case_id)
    assert isinstance(check, dict)
    return {**check, "errors": errors, "elapsed": elapsed}


__all__ = ["prepare", "run_writers"]
