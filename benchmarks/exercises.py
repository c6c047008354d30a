"""Benchmark of the exercises service: a regional exercise at the scale of the national
ECRAN-Santé exercise, dispatched on time by a real worker, with animators watching.

1. **Dispatch on time**: 200 structures play one scenario of 250 injects (one a scenario
   minute, e-mail mostly, some press, social and phone) compressed 60x, so 200 injects fall
   due at every second for about four minutes. A real ``carbet worker`` runs the regional
   clock and sends every e-mail inject to a local SMTP server (aiosmtpd, in its own process).
   Lateness is ``sent_at - due_at`` of every inject; p50 / p99 / max are printed, and the
   messages the server received are counted against the e-mail injects (nothing lost, nothing
   twice). Aim: p99 under 2 s.
2. **Animators**: meanwhile 20 animators refresh the regional console's live part
   (``/exercices/regional/<id>/direct/``: structures x expectations), each every second, over
   real HTTP (keep-alive, a logged-in session cookie) to ``carbet serve`` (gunicorn, in its own
   process): the path an animator's browser takes. Aim: p95 under 300 ms.
3. **E-mails per second**: 200 structures x 10 e-mail injects all due at once (2,000 messages)
   sent by the clock (claim, mandate check, one SMTP transaction per inject over a few
   persistent connections, states and log rows committed in groups), against the floor: the
   same 2,000 messages sent by a plain ``smtplib`` loop over one connection, without any
   database. The ratio is printed.

    .venv/bin/python benchmarks/exercises.py                      # 200 x 250, 60x
    .venv/bin/python benchmarks/exercises.py --structures 20 --injects 30 --keep
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/exercises.py
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This folder holds benchmarks/platform.py, which would shadow the standard library's module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
PYTHON = sys.executable

SINK = r"""
import sys, time
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
handle = open(out, "a", buffering=1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        subject = b""
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"x-carbet-inject:"):
                subject = line.split(b":", 1)[1].strip()
                break
        handle.write(f"{time.time():.6f} {subject.decode()}\n")
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(data_dir: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "carbet.settings",
        "CARBET_DATA_DIR": str(data_dir),
        "CARBET_ALLOWED_HOSTS": "testserver,127.0.0.1",
        "CARBET_PLAIN_STATIC": "1",
        "CARBET_LOG_LEVEL": "WARNING",
        "CARBET_INSECURE_HTTP": "1",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def start_sink(port: int, out: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [PYTHON, "-c", SINK, str(port), str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdout.readline().strip() == b"ready"
    return process


def stop(process: subprocess.Popen) -> None:
    if process.stdin:
        process.stdin.close()
    process.terminate()
    process.wait(timeout=20)


def scenario(injects: int, *, burst: bool = False):
    """``injects`` injects one scenario minute apart (all at 0 for the burst): e-mail mostly,
    every 5th a press article, every 7th a social post, every 11th a phone call."""
    from carbet.engines.exercises import model as m

    items = []
    for n in range(injects):
        channel = "email"
        if not burst:
            if n % 5 == 4:
                channel = "press"
            elif n % 7 == 6:
                channel = "social"
            elif n % 11 == 10:
                channel = "phone"
        items.append(
            m.Inject(
                f"I{n}",
                0 if burst else n,
                f"Inject {n}",
                channel,
                scope="regional" if n % 10 == 0 else "local",
                sender=m.Sender("ARS", "ars@x.test"),
                subject=f"Point {n} au {{{{structure}}}}",
                body="Merci de faire un point de situation.",
                phone_script="Demander un point." if channel == "phone" else "",
            )
        )
    return m.Scenario(
        code="bench-burst" if burst else "bench",
        version="1",
        title="Banc d'essai au {{structure}}",
        level="intermediaire",
        audience="tous",
        summary="Banc d'essai.",
        duration_minutes=max(injects, 1),
        variables=(m.Variable("structure", "Structure", "la structure"),),
        objectives=(m.Objective("O1", "Tenir"),),
        situation=(m.Section("Contexte", "Texte."),),
        cells=(m.Cell("crise", "Cellule", "decision"),),
        injects=tuple(items),
        observation_grid=(
            m.Criterion("C1", "Alerte", "O1", (m.ScaleLevel(1, "Non"), m.ScaleLevel(4, "Oui"))),
        ),
    )


def region(count: int, smtp_port: int):
    """``count`` structures whose mandate covers exercises, a sending profile, a centre
    analyst (second factor verified) for the console."""
    import datetime as dt

    from django.core.files.base import ContentFile

    from carbet.accounts.models import User
    from carbet.core.models import Mandate, Organisation, Structure
    from carbet.exercises.models import SendingProfile

    organisation = Organisation.objects.create(
        finess_ej="750712184", name="GHT du banc", legal_status="public"
    )
    structures = Structure.objects.bulk_create(
        [
            Structure(
                finess_et=f"97{n:07d}",
                name=f"Structure {n:03d}",
                organisation=organisation,
                category="ehpad" if n % 3 else "ch",
                departement="972",
            )
            for n in range(count)
        ]
    )
    today = dt.date.today()
    for structure in structures:
        mandate = Mandate(
            structure=structure,
            reference=f"EX-{structure.pk}",
            services=["exercise"],
            signed_by_name="Direction",
            signed_on=today,
            valid_from=today,
            valid_until=today + dt.timedelta(days=30),
            document_sha256="0" * 64,
        )
        mandate.document.save("mandat.pdf", ContentFile(b"%PDF-1.4"), save=False)
        mandate.save()
    profile = SendingProfile.objects.create(
        name="Banc",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        sender_domain="exercice.bench.test",
        reply_address="reponses@exercice.bench.test",
    )
    analyst = User.objects.create_user(
        username="analyst@bench.test",
        email="analyst@bench.test",
        password="bench bench bench 42",
        centre_role="centre_analyst",
    )
    return structures, profile, analyst


def regional_exercise(structures, profile, injects: int, compression: float, burst=False):
    from django.utils import timezone

    from carbet.core.tenancy import SYSTEM
    from carbet.engines.exercises import jsonformat
    from carbet.exercises import services_regional
    from carbet.exercises.models import Participant, ScenarioVersion

    data = jsonformat.to_data(scenario(injects, burst=burst))
    version = ScenarioVersion.objects.create(
        code=data["code"], version="1", title="Banc", level="intermediaire", data=data
    )
    started = time.perf_counter()
    regional = services_regional.create_regional(
        SYSTEM, version, structures, planned_start=timezone.now(), compression=compression,
        profile=profile,
    )  # fmt: skip
    people = []
    for child in regional.children.all():
        people += [
            Participant(exercise=child, name="Directrice", email=f"dir{child.pk}@s.test",
                        role="director"),
            Participant(exercise=child, name="Joueur", email=f"j{child.pk}@s.test", role="player"),
            Participant(exercise=child, name="Joueuse", email=f"k{child.pk}@s.test", role="player"),
        ]  # fmt: skip
    Participant.objects.bulk_create(people, batch_size=1000)
    return regional, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def serve(env: dict[str, str], port: int, log: Path, workers: int) -> subprocess.Popen:
    """Carbet's web server as a user reaches it: ``carbet serve`` (gunicorn, gthread workers)
    in its own process group, without its own worker (the benchmark starts one)."""
    process = subprocess.Popen(
        [PYTHON, "-m", "carbet.cli", "serve", "--no-worker", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        cwd=ROOT, env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("carbet serve stopped:\n" + log.read_text()[-3000:])
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("carbet serve did not answer:\n" + log.read_text()[-3000:])


class Animators:
    """``count`` threads refreshing the regional console's live part every ``every`` s over
    real HTTP (keep-alive, one connection each) with a logged-in session cookie of a centre
    analyst whose second factor is verified: what an animator's browser does."""

    def __init__(self, analyst, regional_pk: int, port: int, count: int = 20, every: float = 1):
        self.path = f"/exercices/regional/{regional_pk}/direct/"
        self.port, self.count, self.every = port, count, every
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stopped = threading.Event()
        self.cookie = self.session_cookie(analyst)
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(count)]
        self.warmed = threading.Barrier(count + 1)

    @staticmethod
    def session_cookie(analyst) -> str:
        from django.conf import settings
        from django.test import Client
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _created = TOTPDevice.objects.get_or_create(
            user=analyst, name="bench", confirmed=True
        )
        client = Client()
        client.force_login(analyst)  # a session row in the database the server reads
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def get(self, connection: http.client.HTTPConnection) -> tuple[int, bytes]:
        connection.request("GET", self.path, headers={"Cookie": self.cookie, "HX-Request": "true"})
        response = connection.getresponse()
        return response.status, response.read()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.get(connection)  # warm-up (templates compiled), not counted
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(repr(exc))
        self.warmed.wait(timeout=120)
        while not self.stopped.is_set():
            started = time.perf_counter()
            try:
                status, _body = self.get(connection)
            except (OSError, http.client.HTTPException) as exc:
                # The server closed an idle keep-alive connection: a browser reconnects.
                self.errors.append(repr(exc))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            elapsed = time.perf_counter() - started
            if status != 200:
                self.errors.append(str(status))
            self.latencies.append(elapsed)
            self.stopped.wait(max(0.0, self.every - elapsed))
        connection.close()

    def start(self) -> None:
        """The animators open the console, then the exercise starts (as in a real exercise)."""
        for thread in self.threads:
            thread.start()
        self.warmed.wait(timeout=120)

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=30)


def bench_dispatch(env, args, tmp: Path) -> dict:
    from carbet.core.tenancy import SYSTEM
    from carbet.exercises import services_regional
    from carbet.exercises.models import Inject

    port = free_port()
    received = tmp / "received.txt"
    sink = start_sink(port, received)
    worker = web = None
    try:
        structures, profile, analyst = region(args.structures, port)
        regional, setup = regional_exercise(structures, profile, args.injects, args.compression)
        print(f"prepared {args.structures} exercises x {args.injects} injects in {setup:.1f} s")
        # Started once the database is quiet (its start-up checks read the database).
        worker_log = tmp / "worker.log"
        worker_started = time.monotonic()
        worker = subprocess.Popen(
            [PYTHON, "-m", "carbet.cli", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=worker_log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # The worker must be up (imports, first poll of the queue) before the start: the
        # console starts an exercise on a running platform, not while its worker boots.
        while time.monotonic() - worker_started < 8:
            time.sleep(0.2)
        web_port = free_port()
        web = serve(env, web_port, tmp / "web.log", args.web_workers)
        animators = Animators(analyst, regional.pk, web_port, args.animators)
        animators.start()
        services_regional.start_regional(SYSTEM, regional)
        injects = Inject.objects.filter(exercise__regional=regional)
        total = injects.count()
        deadline = time.monotonic() + args.injects * 60 / args.compression + 600
        while time.monotonic() < deadline:
            if not injects.filter(state__in=("pending", "sending")).exists():
                break
            time.sleep(1.0)
        animators.stop()
        rows = list(injects.values_list("state", "channel", "due_at", "sent_at"))
        emails = sum(1 for state, channel, *_ in rows if channel == "email" and state == "sent")
        time.sleep(1.0)
    finally:
        for process in (worker, web):
            if process is not None:
                os.killpg(process.pid, 15)
                process.wait(timeout=30)
        stop(sink)
    lateness = [(sent - due).total_seconds() for state, _c, due, sent in rows if state == "sent"]
    lines = received.read_text().splitlines()
    ids = [line.split()[1] for line in lines]
    return {
        "injects": total,
        "sent": len(lateness),
        "not_sent": total - len(lateness),
        "emails_sent": emails,
        "emails_received": len(lines),
        "duplicates": len(ids) - len(set(ids)),
        "p50": percentile(lateness, 0.50),
        "p99": percentile(lateness, 0.99),
        "max": max(lateness) if lateness else float("nan"),
        "console_p50": percentile(animators.latencies, 0.50) * 1000,
        "console_p95": percentile(animators.latencies, 0.95) * 1000,
        "console_requests": len(animators.latencies),
        "console_errors": len(animators.errors),
        "structures": structures,
        "profile": profile,
    }


def bench_throughput(structures, profile, count: int, tmp: Path) -> dict:
    """``count`` e-mail injects per structure, all due at once: the clock against smtplib."""
    from carbet.core.tenancy import SYSTEM
    from carbet.exercises import dispatch, services_regional
    from carbet.exercises.mailing import build_message, recipients_of
    from carbet.exercises.models import Inject, SendingProfile

    port = free_port()
    sink = start_sink(port, tmp / "burst.txt")
    try:
        SendingProfile.objects.filter(pk=profile.pk).update(smtp_port=port)
        profile.refresh_from_db()
        regional, _setup = regional_exercise(structures, profile, count, 1.0, burst=True)
        services_regional.start_regional(SYSTEM, regional)  # the job waits: no worker now
        started, cpu = time.perf_counter(), time.process_time()
        result = dispatch.run_clock({"regional": regional.pk})
        carbet = time.perf_counter() - started
        carbet_cpu = time.process_time() - cpu
        injects = list(
            Inject.objects.filter(exercise__regional=regional)
            .select_related("exercise", "exercise__profile")
            .order_by("pk")
        )
        people = {}
        for inject in injects:
            if inject.exercise_id not in people:
                people[inject.exercise_id] = list(inject.exercise.participants.all())
        messages = []
        for inject in injects:
            to = sorted(p.email for p in recipients_of(inject, people[inject.exercise_id]))
            messages.append((build_message(inject.exercise, inject, profile, to), to))
        started, cpu = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as server:
            for message, to in messages:
                server.send_message(message, to_addrs=to)
        floor = time.perf_counter() - started
        floor_cpu = time.process_time() - cpu
    finally:
        stop(sink)
    return {
        "messages": result["sent"],
        "carbet": carbet,
        "floor": floor,
        "carbet_cpu": carbet_cpu,
        "floor_cpu": floor_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--structures", type=int, default=200)
    parser.add_argument("--injects", type=int, default=250)
    parser.add_argument("--compression", type=float, default=60.0)
    parser.add_argument("--animators", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=2, help="carbet serve --workers")
    parser.add_argument("--burst", type=int, default=10, help="e-mail injects per structure")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="carbet-bench-exercises-"))
    try:
        env = configure(tmp / "data")
        dispatch = bench_dispatch(env, args, tmp)
        print(
            f"dispatch: {dispatch['sent']}/{dispatch['injects']} injects sent, "
            f"lateness p50 {dispatch['p50']:.3f} s, p99 {dispatch['p99']:.3f} s, "
            f"max {dispatch['max']:.3f} s (aim: p99 < 2 s)"
        )
        print(
            f"          e-mail injects sent {dispatch['emails_sent']}, received by the server "
            f"{dispatch['emails_received']}, duplicates {dispatch['duplicates']}"
        )
        print(
            f"console:  {args.animators} animators, {dispatch['console_requests']} refreshes, "
            f"p50 {dispatch['console_p50']:.0f} ms, p95 {dispatch['console_p95']:.0f} ms "
            f"(aim: p95 < 300 ms), errors {dispatch['console_errors']}"
        )
        burst = bench_throughput(dispatch["structures"], dispatch["profile"], args.burst, tmp)
        n = burst["messages"]
        print(
            f"e-mails:  {n} injects due at once: Carbet {n / burst['carbet']:.0f}/s "
            f"({burst['carbet']:.2f} s, cpu {burst['carbet_cpu']:.2f} s), smtplib floor "
            f"{n / burst['floor']:.0f}/s ({burst['floor']:.2f} s, cpu {burst['floor_cpu']:.2f} s)"
            f", ratio {burst['carbet'] / burst['floor']:.2f}x"
        )
    finally:
        if args.keep:
            print(f"data kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
