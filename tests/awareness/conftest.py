"""Fixtures of the awareness tests: a real SMTP server (aiosmtpd) on loopback, started once per
session, and a structure ready for a campaign (mandate covering phishing, a mail domain whose
ownership is proven, a staff list, a sending profile)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from django.utils import timezone

from carbet.awareness.models import Campaign, EmailTemplate, SmtpProfile, Target
from carbet.awareness.services_targets import new_pseudonym
from carbet.core.models import Asset, Mandate
from tests.conftest import make_mandate, proven


@dataclass
class Received:
    at: float
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.envelope_to]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    """aiosmtpd on 127.0.0.1: every message is parsed and kept with its arrival time."""
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            with sink.lock:
                sink.messages.append(Received(time.time(), list(envelope.rcpt_tos), parsed))
            return "250 OK"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.clear()
    return smtp_server


def phishing_ready(structure, domain: str, *, mandate: bool = True) -> Mandate | None:
    """A proven mail domain (the centre's review) and (optionally) a mandate covering phishing.

    The structure's own "validated" is not enough any more: only proven ownership counts."""
    Asset.objects.get_or_create(
        structure=structure, kind="mail_domain", value=domain, defaults=proven()
    )
    if mandate:
        return make_mandate(structure, covers_phishing=True, reference=f"PH-{structure.pk}")
    return None


def add_targets(structure, domain: str, count: int, services=("Soins", "Accueil")) -> list:
    return [
        Target.objects.create(
            structure=structure,
            full_name=f"Agent {i:03d} Test",
            email=f"agent{i:03d}@{domain}",
            service=services[i % len(services)],
            role="IDE",
            pseudonym=new_pseudonym(),
        )
        for i in range(count)
    ]


def smtp_profile(sink, per_minute: int = 0) -> SmtpProfile:
    profile, _created = SmtpProfile.objects.get_or_create(
        name=f"Lab {sink.port} {per_minute}",
        defaults=dict(
            host=sink.host,
            port=sink.port,
            security="none",
            from_address="support@mail-lab.test",
            per_minute=per_minute,
            password="smtp-secret-value",
        ),
    )
    return profile


def draft_campaign(structure, profile, **overrides) -> Campaign:
    now = timezone.now()
    values = dict(
        structure=structure,
        name="Campagne de test",
        template=EmailTemplate.objects.get(name="Document partagé dans le DMP"),
        smtp_profile=profile,
        dpo_reference="DPO-2026-07",
        representatives_informed_on=dt.date.today() - dt.timedelta(days=10),
        launch_at=now,
        send_by=None,
        business_hours_only=False,
    )
    values.update(overrides)
    return Campaign.objects.create(**values)
