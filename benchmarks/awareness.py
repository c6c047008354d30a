"""Benchmark of the awareness service: sending 10,000 simulation messages, and the tracking
endpoints under load.

1. **Sending**: a local SMTP server (aiosmtpd, in its own process) receives 10,000 messages
   sent by Carbet's campaign sender (``carbet.awareness.sending.run``, throttling off: state
   committed before and after each batch, fresh tokens, mandate check per batch), and then the
   same 10,000 messages sent by a plain ``smtplib`` loop over one connection (the floor: no
   database at all). Messages per second and the ratio are printed. Aim: within 1.5x.
2. **Tracking**: gunicorn serves Carbet on loopback (production settings, SQLite in WAL mode)
   and ``wrk`` hits the open pixel with the 10,000 real tokens, picked at random by a Lua
   script. Requests per second and p99 are printed; then the events recorded in the database
   are counted and compared with the requests wrk completed: any difference is a lost event.
   Aim: at least 1,000 requests/s on 2 cores, zero lost events.

    .venv/bin/python benchmarks/awareness.py                 # 10,000 recipients, 15 s of wrk
    .venv/bin/python benchmarks/awareness.py --recipients 2000 --duration 5 --keep
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This folder holds benchmarks/platform.py, which would shadow the standard library's module
# (imported later by Django): run as a script, the folder is first on the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
PYTHON = sys.executable
DOMAIN = "bench-hopital.test"

SINK = r"""
import re, sys, asyncio
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
token_re = re.compile(rb"/s/([A-Za-z0-9_-]{32})/c")
count = 0
class Handler:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        match = token_re.search(envelope.content)
        if match and out != "-":
            with open(out, "ab") as fh:
                fh.write(match.group(1) + b"\n")
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""

WRK_LUA = r"""
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/s/" .. tokens[math.random(#tokens)] .. "/o.gif")
end
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
        "CARBET_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    os.environ.update(env)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def start_sink(port: int, out: Path | str) -> subprocess.Popen:
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


def prepare_campaign(recipients: int, smtp_port: int):
    """A structure with a phishing mandate, a proven mail domain, ``recipients`` staff and a
    draft campaign, all through the models (bulk inserts)."""
    import datetime as dt

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from carbet.awareness.models import Campaign, EmailTemplate, SmtpProfile, Target
    from carbet.awareness.services_targets import new_pseudonym
    from carbet.core.models import Asset, Mandate, Organisation, Structure

    organisation = Organisation.objects.create(
        finess_ej="750712184", name="CH Banc d'essai", legal_status="public"
    )
    structure = Structure.objects.create(
        finess_et="970200010",
        name="CH Banc d'essai",
        organisation=organisation,
        category="ch",
        departement="972",
    )
    # Only a proven domain may be mailed (the structure's own "validated" is not proof).
    Asset.objects.create(
        structure=structure,
        kind="mail_domain",
        value=DOMAIN,
        validated=True,
        proven_at=timezone.now(),
        proof_method="centre_review",
        proof_note="banc d'essai",
    )
    today = dt.date.today()
    mandate = Mandate(
        structure=structure,
        reference="BENCH",
        services=["phishing"],
        signed_by_name="Direction",
        signed_on=today,
        valid_from=today,
        valid_until=today + dt.timedelta(days=30),
        document_sha256="0" * 64,
    )
    mandate.document.save("mandat.pdf", ContentFile(b"%PDF-1.4"), save=False)
    mandate.save()
    Target.objects.bulk_create(
        [
            Target(
                structure=structure,
                full_name=f"Agent {i:05d}",
                email=f"agent{i}@{DOMAIN}",
                service=f"Service {i % 12}",
                pseudonym=new_pseudonym(),
            )
            for i in range(recipients)
        ],
        batch_size=2000,
    )
    profile = SmtpProfile.objects.create(
        name="Banc",
        host="127.0.0.1",
        port=smtp_port,
        security="none",
        from_address="support@bench-relais.test",
        per_minute=0,
    )
    return Campaign.objects.create(
        structure=structure,
        name="Banc d'essai",
        smtp_profile=profile,
        template=EmailTemplate.objects.get(name="Document partagé dans le DMP"),
        dpo_reference="DPO-BENCH",
        representatives_informed_on=today,
        launch_at=timezone.now(),
        business_hours_only=False,
    )


def bench_sending(recipients: int, tokens_file: Path) -> dict[str, float]:
    from carbet.awareness import sending, services_campaigns
    from carbet.awareness.models import Campaign, Recipient
    from carbet.core.tenancy import SYSTEM
    from carbet.engines.awareness import tokens

    smtp_port = free_port()
    sink = start_sink(smtp_port, tokens_file)
    try:
        campaign = prepare_campaign(recipients, smtp_port)
        services_campaigns.launch(SYSTEM, campaign)  # plans; the job runs on commit (none here)
        started, cpu = time.perf_counter(), time.process_time()
        counts = sending.run(campaign.pk)
        carbet_seconds = time.perf_counter() - started
        carbet_cpu = time.process_time() - cpu
        assert counts["sent"] == recipients, counts
        campaign = Campaign.objects.get(pk=campaign.pk)
        # The floor: the same messages (same template, same rendering) through one smtplib
        # connection, without any database work.
        rows = list(
            Recipient.objects.filter(campaign=campaign).select_related("target").order_by("pk")
        )
        base = sending.public_base_url()
        messages = [
            sending.render_message(
                campaign.template,
                campaign.smtp_profile,
                r.email,
                r.target.full_name,
                tokens.new_token(),
                base,
                campaign.pk,
            )
            for r in rows
        ]
        started, cpu = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as server:
            for message in messages:
                server.send_message(message)
        floor_send = time.perf_counter() - started
        floor_send_cpu = time.process_time() - cpu
        # The floor including rendering, as a loop that builds and sends would do.
        started, cpu = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as server:
            for r in rows:
                server.send_message(
                    sending.render_message(
                        campaign.template,
                        campaign.smtp_profile,
                        r.email,
                        r.target.full_name,
                        tokens.new_token(),
                        base,
                        campaign.pk,
                    )
                )
        floor_full = time.perf_counter() - started
        floor_full_cpu = time.process_time() - cpu
    finally:
        stop(sink)
    # Carbet sent first: the first lines are its tokens (the floor's links lead nowhere).
    lines = tokens_file.read_text().split()[:recipients]
    tokens_file.write_text("\n".join(lines) + "\n")
    return {
        "carbet": carbet_seconds,
        "floor_send": floor_send,
        "floor_full": floor_full,
        "carbet_cpu": carbet_cpu,
        "floor_send_cpu": floor_send_cpu,
        "floor_full_cpu": floor_full_cpu,
        "campaign": campaign.pk,
    }


def bench_tracking(
    env: dict[str, str],
    tokens_file: Path,
    duration: int,
    workers: int,
    threads: int,
    connections: int,
) -> dict[str, float]:
    from django.db.models import Sum

    from carbet.awareness.models import Recipient

    if not shutil.which("wrk") or not shutil.which("gunicorn", path=str(Path(PYTHON).parent)):
        raise SystemExit("wrk and gunicorn are needed (apt-get install wrk; pip install gunicorn)")
    port = free_port()
    log = tokens_file.parent / "gunicorn.log"
    gunicorn = str(Path(PYTHON).parent / "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "carbet.wsgi:application",
            "-c",
            "python:carbet.ops.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=log.open("wb"),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        # Workers import Django after the socket is bound: wait for a real answer.
        first = tokens_file.read_text().split()[0]
        while time.monotonic() < deadline + 60:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/s/{first}/o.gif", timeout=5
                ) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        before = Recipient.objects.aggregate(n=Sum("open_count"))["n"] or 0
        script = tokens_file.with_suffix(".lua")
        script.write_text(WRK_LUA % tokens_file)
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    after = Recipient.objects.aggregate(n=Sum("open_count"))["n"] or 0
    completed = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "completed": completed,
        "recorded": after - before,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds of wrk")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="carbet-bench-awareness-"))
    try:
        env = configure(data_dir)
        tokens_file = data_dir / "tokens.txt"
        send = bench_sending(args.recipients, tokens_file)
        n = args.recipients
        print(f"\nSending {n} messages to a local SMTP server (aiosmtpd, separate process)")
        print("| sender | seconds | messages/s | ratio to the floor | CPU s | CPU ratio |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, key in (
            ("plain smtplib loop, messages pre-rendered (floor)", "floor_send"),
            ("plain smtplib loop, rendering each message", "floor_full"),
            ("Carbet campaign sender (throttling off)", "carbet"),
        ):
            seconds = send[key]
            ratio = seconds / send["floor_send"]
            cpu = send[f"{key}_cpu"]
            cpu_ratio = cpu / send["floor_send_cpu"]
            print(
                f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {ratio:.2f}x | {cpu:.2f} | "
                f"{cpu_ratio:.2f}x |"
            )
        track = bench_tracking(
            env, tokens_file, args.duration, args.workers, args.threads, args.connections
        )
        print(
            f"\nOpen pixel under wrk ({args.duration} s, {args.connections} connections, "
            f"gunicorn {args.workers} workers x {args.threads} threads, SQLite WAL)"
        )
        print("| requests/s | p99 ms | requests completed | events recorded | lost | non-2xx |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        # Requests still in flight when wrk stops are recorded by the server but not counted
        # by wrk: more recorded than completed is normal; fewer would be lost events.
        lost = max(0, track["completed"] - track["recorded"])
        print(
            f"| {track['rps']:,.0f} | {track['p99_ms']:.1f} | {track['completed']} | "
            f"{track['recorded']} | {lost} | {track['non_2xx']} |"
        )
        print(
            f"(socket errors: {track['socket_errors']}; wrk may count a request cut at the end "
            "of the run as not completed although the server recorded it)"
        )
    finally:
        if args.keep:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
