"""Security by design and the medico-social track at regional scale.

In a fresh data directory (SQLite, the embedded default), the script bulk-loads ``--structures``
structures (3,000 by default, two in three medico-social) with ``--services`` digital services
each (5 by default: care record, mail, telemedicine, billing, web site, in varied hostings),
the latest results of the other services for each structure (a directory audit with its rule
results, an exposure scan, a phishing campaign, a restore test), a few declared statuses, then
times:

1. the first night (``carbet bydesign nightly`` without the mail reminders): every service's
   automatic statuses and cyber index written, the findings of unmet essential measures through
   the findings ingest, every medico-social structure's track state;
2. a second night on unchanged data (what most nights are: nothing to write);
3. the region's progress page (``/services-numeriques/parcours/region/``) requested by a centre
   analyst and by the ARS, ``--requests`` times each through Django's test client (the whole
   stack: middleware, sessions, template): median and p95.

4. a night after a new exposure scan of 10 % of the structures (what changes on a usual night:
   their statuses, indexes and findings are rewritten).

Aims (issue 16): the nightly recomputation under 60 s and the page's p95 under 300 ms on
SQLite. There is no runnable anchor (MonServiceSécurisé and MonAideCyber publish no regional
recomputation); the floor is reading the inputs with plain ``values_list`` queries.

    .venv/bin/python benchmarks/medicosocial.py [--structures 3000] [--services 5]

Not a test: it asserts nothing. See benchmarks/README.md for recorded figures.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from datetime import time as dtime  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ("ehpad", "ehpad", "handicap_adulte", "ch", "ehpad", "clinique")
SERVICES = (
    ("Dossier de soins", "care_record", "health", "saas", True, True, "hours"),
    ("Messagerie", "email", "personal", "it_provider", None, True, "day"),
    ("Télémédecine", "telemedicine", "health", "saas", False, True, "day"),
    ("Facturation", "billing", "personal", "on_site", None, False, "week"),
    ("Site web", "website", "none", "on_site", None, True, "week"),
)


def configure(data_dir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "carbet.settings",
            "CARBET_DATA_DIR": str(data_dir),
            "CARBET_PLAIN_STATIC": "1",
            "CARBET_LOG_LEVEL": "WARNING",
            "CARBET_TASKS_IMMEDIATE": "1",
            "CARBET_ALLOWED_HOSTS": "testserver,127.0.0.1",
        }
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_URL", None)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _aware(day: date):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, dtime(9, 0)))


def load_region(count: int, per_structure: int, today: date) -> dict[str, int]:
    from django.db import transaction

    from carbet.bydesign.models import DigitalService, MeasureState, TrackMark
    from carbet.core.models import Organisation, Structure
    from carbet.directory.models import DirectoryAudit
    from carbet.roadmap.models import ServiceFact

    rules = (["no_lockout"], ["password_length_below_12"], [], ["weak_password_policy"])
    with transaction.atomic():
        organisations = Organisation.objects.bulk_create(
            [
                Organisation(
                    finess_ej=f"97{i:07d}", name=f"Organisation {i}", legal_status="public"
                )
                for i in range(count // 4 + 1)
            ]
        )
        structures = Structure.objects.bulk_create(
            [
                Structure(
                    finess_et=f"96{i:07d}",
                    name=f"Structure {i:04d}",
                    organisation=organisations[i // 4],
                    category=CATEGORIES[i % len(CATEGORIES)],
                    places=80,
                    departement=("971", "972", "973")[i % 3],
                )
                for i in range(count)
            ]
        )
        services = DigitalService.objects.bulk_create(
            [
                DigitalService(
                    structure=s,
                    name=name,
                    kind=kind,
                    data_kind=data,
                    hosting=hosting,
                    hds_certified=hds,
                    internet_exposed=exposed,
                    availability=availability,
                )
                for s in structures
                for name, kind, data, hosting, hds, exposed, availability in SERVICES[
                    :per_structure
                ]
            ],
            batch_size=5000,
        )
        DirectoryAudit.objects.bulk_create(
            [
                DirectoryAudit(
                    structure=s,
                    origin="upload",
                    status="done",
                    domain="local",
                    analysed_at=_aware(today - timedelta(days=i % 200)),
                    anssi_level=1 + i % 5,
                    result={
                        "findings": [
                            {"rule": r, "fully_excepted": False} for r in rules[i % len(rules)]
                        ]
                        + [{"rule": f"other_{n}", "fully_excepted": False} for n in range(20)]
                    },
                )
                for i, s in enumerate(structures)
            ],
            batch_size=2000,
        )
        facts = []
        for i, s in enumerate(structures):
            facts.append(
                ServiceFact(
                    structure=s,
                    kind="exposure_scan",
                    at=_aware(today - timedelta(days=i % 60)),
                    value={"critical": i % 3 == 0, "high": i % 2, "dmarc_reject": i % 4 == 0},
                    reference=f"scan-{i}",
                )
            )
            facts.append(
                ServiceFact(
                    structure=s,
                    kind="phishing_campaign",
                    at=_aware(today - timedelta(days=30)),
                    value={"reporting_rate": 0.1 * (i % 6)},
                    reference=f"phish-{i}",
                )
            )
            facts.append(
                ServiceFact(
                    structure=s,
                    kind="restore_test",
                    at=_aware(today - timedelta(days=i % 400)),
                    value={"result": ("success", "failure")[i % 2]},
                    reference=f"restore-{i}",
                )
            )
        ServiceFact.objects.bulk_create(facts, batch_size=5000)
        MeasureState.objects.bulk_create(
            [
                MeasureState(service=service, code=code, status="done")
                for service in services
                for code in ("gov.owner", "pro.updates", "def.incident")
            ],
            batch_size=5000,
        )
        TrackMark.objects.bulk_create(
            [
                TrackMark(structure=s, code=code, status="done")
                for i, s in enumerate(structures)
                for code in ("updates", "incident_reflex", "crisis_contacts")[: i % 4]
            ],
            batch_size=5000,
        )
    return {"structures": count, "services": len(services), "facts": len(facts)}


def new_results(today: date, count: int) -> dict:
    """A fresh exposure scan, without critical flaw, for ``count`` structures, then the night."""
    from carbet.bydesign import nightly
    from carbet.core.models import Structure
    from carbet.roadmap.models import ServiceFact

    ServiceFact.objects.bulk_create(
        [
            ServiceFact(
                structure_id=pk,
                kind="exposure_scan",
                at=_aware(today),
                value={"critical": 0, "high": 0, "dmarc_reject": True},
                reference=f"rescan-{pk}",
            )
            for pk in Structure.objects.order_by("pk").values_list("pk", flat=True)[:count]
        ]
    )
    return nightly.run(today=today, reminders=False)


def floor_read() -> None:
    from carbet.bydesign.models import DigitalService, MeasureState
    from carbet.directory.models import DirectoryAudit
    from carbet.roadmap.models import ServiceFact

    list(DigitalService.objects.values_list("pk", "structure_id", "kind", "hosting"))
    list(MeasureState.objects.values_list("service_id", "code", "status"))
    list(DirectoryAudit.objects.values_list("structure_id", "result"))
    list(ServiceFact.objects.values_list("structure_id", "kind", "value"))


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def page_times(user, requests: int) -> list[float]:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    times = []
    for _ in range(requests + 2):
        started = time.perf_counter()
        response = client.get("/services-numeriques/parcours/region/")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return sorted(times[2:])  # the first two warm the caches


def p95(values: list[float]) -> float:
    return values[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--structures", type=int, default=3000)
    parser.add_argument("--services", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="carbet-bench-medicosocial-"))
    try:
        configure(data_dir)
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        today = timezone.localdate()
        started = time.perf_counter()
        volumes = load_region(args.structures, min(args.services, len(SERVICES)), today)
        load_s = time.perf_counter() - started
        from carbet.accounts.models import User
        from carbet.bydesign import nightly
        from carbet.bydesign.models import MeasureState
        from carbet.findings.models import Finding

        floor_s = timed(floor_read)
        first: dict = {}
        first_s = timed(lambda: first.update(nightly.run(today=today, reminders=False)))
        third: dict = {}
        second: dict = {}
        second_s = timed(lambda: second.update(nightly.run(today=today, reminders=False)))
        changed_s = timed(lambda: third.update(new_results(today, args.structures // 10)))
        analyst = User.objects.create_user(
            username="a@c.test", email="a@c.test", password="x" * 20, centre_role="centre_analyst"
        )
        ars = User.objects.create_user(
            username="ars@c.test", email="ars@c.test", password="x" * 20, centre_role="ars_viewer"
        )
        centre_times = page_times(analyst, args.requests)
        ars_times = page_times(ars, args.requests)
        print(
            f"volumes: {volumes}; states {MeasureState.objects.count()}, "
            f"findings {Finding.objects.filter(source='bydesign').count()}"
        )
        print(f"  bulk load of the region               {load_s:>8.1f} s")
        print(f"  floor: read the inputs                {floor_s:>8.2f} s")
        print(
            f"  first night (write everything)        {first_s:>8.2f} s  "
            f"({first_s / floor_s:.0f}× floor)  {first}"
        )
        print(f"  second night (nothing changed)        {second_s:>8.2f} s  {second}")
        print(f"  a night after new scans of 10 %       {changed_s:>8.2f} s  {third}")
        for label, values in (("centre", centre_times), ("ARS", ars_times)):
            print(
                f"  region page, {label:<7} median {statistics.median(values) * 1000:>6.0f} ms"
                f"  p95 {p95(values) * 1000:>6.0f} ms  ({len(values)} requests)"
            )
        worst = max(second_s, changed_s)
        print(
            f"  aim nightly < 60 s: {'met' if worst < 60 else 'MISSED'}; "
            f"aim page p95 < 300 ms: "
            f"{'met' if max(p95(centre_times), p95(ars_times)) < 0.3 else 'MISSED'}"
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
