"""Demo data of the awareness service: staff lists, three past phishing simulations with their
results (improving over time), training assignments, findings and the dashboard score.

Nothing is sent: the demo writes results as a finished campaign would have left them, with
send times planned by the sender's own planner (working days and hours, throttle). The
structures must have a phishing mandate in force and a mail domain whose ownership is proven
(the demo registry has the centre review them, ``carbet.demo.services``); others are skipped.
Idempotent: a structure that already has campaigns is left alone.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from carbet.awareness import results
from carbet.awareness.choices import CampaignStatus, PrivacyMode, ReportSource, SendState
from carbet.awareness.coverage import covered_domains
from carbet.awareness.models import (
    Campaign,
    ClickEvent,
    EmailTemplate,
    Recipient,
    SmtpProfile,
    Target,
    TargetGroup,
    TrainingAssignment,
    TrainingModule,
)
from carbet.awareness.service import PHISHING_MANDATE
from carbet.awareness.services_campaigns import throttle_of, window_of
from carbet.awareness.services_targets import new_pseudonym
from carbet.core.mandates import check
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.awareness import tokens
from carbet.engines.awareness.schedule import plan

DEMO_STRUCTURES = ("ch-anse-bleue", "epsm-pointe", "ssr-bois-cannelle")
SERVICES = ("Soins", "Urgences", "Accueil", "Administration", "Pharmacie", "Imagerie")
FIRST_NAMES = (
    "Léa",
    "Marc",
    "Inès",
    "Paul",
    "Nadia",
    "Hugo",
    "Aïcha",
    "Jules",
    "Maëlle",
    "Yann",
    "Sarah",
    "Noé",
    "Chloé",
    "Rémi",
    "Lina",
    "Tom",
    "Zoé",
    "Luc",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Jean-Baptiste",
    "Petit",
    "Louis",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Romain",
    "Clément",
)
# (days ago, template, click rate, report rate): each campaign does better than the last.
HISTORY = (
    (300, "Renouvellement du badge d'accès", 0.32, 0.10),
    (180, "Demande de rendez-vous d'un patient", 0.21, 0.24),
    (40, "Document partagé dans le DMP", 0.12, 0.41),
)
STAFF = 36


def load(structures: dict[str, Structure], today: dt.date | None = None) -> int:
    """Add the demo campaigns; returns how many were created."""
    today = today or timezone.localdate()
    profile, _ = SmtpProfile.objects.get_or_create(
        name="Relais de démonstration",
        defaults={
            "host": "127.0.0.1",
            "port": 2525,
            "security": "none",
            "from_address": "ne-pas-repondre@relais-demo.test",
            "per_minute": 30,
        },
    )
    created = 0
    for key in DEMO_STRUCTURES:
        structure = structures.get(key)
        if structure is None or Campaign.objects.filter(structure=structure).exists():
            continue
        if not check(structure, PHISHING_MANDATE, at=today):
            continue
        domains = covered_domains(structure, at=today)
        if not domains:
            continue
        rng = random.Random(key)  # noqa: S311 — demo figures, not secrets
        targets = _staff(structure, domains[0], rng)
        for days_ago, template_name, click_rate, report_rate in HISTORY:
            _campaign(
                structure,
                profile,
                targets,
                today,
                days_ago,
                template_name,
                click_rate,
                report_rate,
                rng,
            )
            created += 1
        results.sync_findings(structure)
    return created


def _staff(structure: Structure, domain: str, rng: random.Random) -> list[Target]:
    group, _ = TargetGroup.objects.get_or_create(structure=structure, name="Tout le personnel")
    targets = []
    for index in range(STAFF):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        email = f"{first.lower()}.{last.lower()}{index}@{domain}"
        email = email.replace("é", "e").replace("è", "e").replace("ë", "e").replace("ï", "i")
        target, _ = Target.objects.get_or_create(
            structure=structure,
            email=email,
            defaults={
                "full_name": f"{first} {last}",
                "service": SERVICES[index % len(SERVICES)],
                "role": rng.choice(("IDE", "Aide-soignant", "Secrétaire", "Cadre")),
                "pseudonym": new_pseudonym(),
            },
        )
        target.groups.add(group)
        targets.append(target)
    return targets


def _campaign(
    structure, profile, targets, today, days_ago, template_name, click_rate, report_rate, rng
) -> Campaign:
    launch = timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(9, 30))
    )
    template = EmailTemplate.objects.get(name=template_name)
    module = TrainingModule.objects.filter(slug="reconnaitre-hameconnage").first()
    campaign = Campaign.objects.create(
        structure=structure,
        name=f"{template_name} ({launch:%m/%Y})",
        template=template,
        smtp_profile=profile,
        training=module,
        privacy=PrivacyMode.PSEUDONYMOUS,
        dpo_reference=f"REG-DPO-{structure.finess_et}-03",
        representatives_informed_on=launch.date() - dt.timedelta(days=21),
        launch_at=launch,
        send_by=launch + dt.timedelta(days=2),
        status=CampaignStatus.DONE,
        difficulty=template.difficulty,
        launched_at=launch,
        finished_at=launch + dt.timedelta(days=2),
        retention_days=365,
    )
    order = list(targets)
    rng.shuffle(order)
    clickers = round(click_rate * len(order))
    reporters = round(report_rate * len(order))
    # The sender's own planner: working days and hours of the campaign, its throttle.
    times = plan(
        len(order), launch, campaign.send_by, window_of(campaign), throttle_of(campaign), rng
    )
    for position, (target, sent) in enumerate(zip(order, times, strict=True)):
        recipient = Recipient.objects.create(
            campaign=campaign,
            target=target,
            email=target.email,
            pseudonym=target.pseudonym,
            service=target.service,
            state=SendState.SENT,
            scheduled_at=sent,
            sent_at=sent,
            token_digest=tokens.digest(tokens.new_token()),
        )
        fields = {}
        if rng.random() < 0.55:
            fields["opened_at"] = sent + dt.timedelta(minutes=rng.randint(2, 300))
            fields["open_count"] = 1
        if rng.random() < 0.15:  # the mail gateway's link check, seconds after delivery
            ClickEvent.objects.create(
                recipient=recipient,
                at=sent + dt.timedelta(seconds=3),
                ip="40.92.1.20",
                user_agent="Mozilla/5.0 (compatible; SafeLinks)",
                bot_reasons=["too_fast", "scanner_network", "scanner_agent"],
                settled=True,
            )
            fields["clicked_at"] = sent + dt.timedelta(seconds=3)
        if position < clickers:
            at = sent + dt.timedelta(minutes=rng.randint(5, 600))
            ClickEvent.objects.create(
                recipient=recipient,
                at=at,
                ip="10.20.0.15",
                user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0",
                page_at=at + dt.timedelta(seconds=1),
                beacon_at=at + dt.timedelta(seconds=2),
                settled=True,
            )
            fields.setdefault("clicked_at", at)
            fields["human_clicked_at"] = at
            fields.setdefault("opened_at", at)
            if rng.random() < 0.4:
                fields["submitted_at"] = at + dt.timedelta(seconds=40)
            if module is not None:
                assignment, _ = TrainingAssignment.objects.get_or_create(
                    module=module,
                    target=target,
                    campaign=campaign,
                    defaults={"structure": structure, "assigned_at": at},
                )
                if rng.random() < 0.6:
                    assignment.opened_at = at + dt.timedelta(hours=2)
                    assignment.completed_at = at + dt.timedelta(hours=2, minutes=6)
                    assignment.score = rng.choice((67, 100, 100))
                    assignment.attempts = 1 if assignment.score == 100 else 2
                    assignment.save()
        elif position < clickers + reporters:
            fields["reported_at"] = sent + dt.timedelta(minutes=rng.randint(3, 240))
            fields["report_source"] = rng.choice((ReportSource.MAILBOX, ReportSource.LINK))
        if fields:
            Recipient.objects.filter(pk=recipient.pk).update(**fields)
    results.refresh_summary(Campaign.objects.visible_to(SYSTEM).get(pk=campaign.pk))
    return campaign
