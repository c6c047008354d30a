"""The demo region's findings, action plans, regional campaign and twelve weeks of history.

``carbet.demo.findings_data`` says what each structure had and when; this module replays it day
by day, oldest first, through the real services only: the ingest service writes the scans,
audits and imported reports (with ``now`` in the past, so deadlines fall where they would have),
complete rescans close what they no longer see, people triage, plan, prove and accept through
the lifecycle, action-plan, evidence, campaign and risk-acceptance services, and the nightly
snapshot service records each week's posture, so the trend charts have a history to draw.

Scans touch only what the exposure and directory services could have touched: proven assets
covered by a mandate valid that day. Structures without such assets only have findings from
imported reports or audit visits.
"""

from __future__ import annotations

import ipaddress
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from carbet.accounts.models import User
from carbet.core.models import Asset, Mandate, Structure
from carbet.demo import findings_data as data
from carbet.demo import region
from carbet.demo.pdf import mandate_pdf
from carbet.directory.service import DIRECTORY_SOURCE
from carbet.engines.exposure.core import Observation
from carbet.exposure.service import EXPOSURE_SOURCE
from carbet.exposure.services_run import fingerprint as exposure_fingerprint
from carbet.findings.choices import Source, Status
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import ActionEvidence, ActionItem, ActionStatus, Campaign, Finding
from carbet.findings.models.plans import Effort, OwnerKind
from carbet.findings.plans import campaigns, evidence
from carbet.findings.plans import services as plans
from carbet.findings.posture.snapshots import take_snapshots
from carbet.findings.services import acceptance, lifecycle
from carbet.jobs.models import Job

# The demo people who act in the story (their accounts are in ``region.USERS``).
ANALYST = "analyste@centre-demo.test"
GHT_REFERENT = "rssi@ght-caraibe-sud.test"
HIBISCUS_DIRECTOR = "directrice@ehpad-hibiscus.test"
FLAMBOYANTS_DIRECTOR = "direction@flamboyants.test"
ANSE_BLEUE_DIRECTOR = "direction@ch-anse-bleue.test"
TECHNICIAN = f"technicien@{region.IT_COMPANY_DOMAIN}"

SCANNED_SOURCES = {EXPOSURE_SOURCE: "exposure_scan", DIRECTORY_SOURCE: "directory_audit"}
_ROLE_OF_KIND = {
    "domain": "site",
    "mail_domain": "mail",
    "ipv4": "gateway",
    "cidr": "range",
    "ad_domain": "ad",
    "application": "app",
}


@dataclass
class FindingsReport:
    """What the findings side of the demo loaded (all zero when it was already there)."""

    findings: int = 0
    structures: int = 0
    actions: int = 0
    campaigns: int = 0
    snapshot_days: int = 0
    # Why nothing was loaded: what in the database is not the demo's.
    foreign: list[str] = field(default_factory=list)
    # A notification e-mail that could not leave after the data was saved.
    mail_error: str = ""

    @property
    def loaded(self) -> bool:
        return self.findings > 0


def already_loaded(structures: dict[str, Structure]) -> bool:
    """The demo's findings are there (or its campaign): nothing is loaded twice."""
    ids = [s.pk for s in structures.values()]
    return Finding.objects.filter(structure_id__in=ids).exists() or demo_campaigns().exists()


def load_findings(
    structures: dict[str, Structure], users: list[User], *, today: date
) -> FindingsReport:
    """Replay the demo's findings history, in one transaction, unless it is already there.

    Notification e-mails leave when the transaction commits: if the mail server refuses one
    then, the data stays and the report says so (a demo must not fail on an e-mail).
    """
    report = FindingsReport()
    if already_loaded(structures):
        return report
    committed = False
    try:
        with transaction.atomic():
            _History(structures, users, today).replay()
            committed = True
    except (smtplib.SMTPException, OSError) as exc:
        if not committed:
            raise
        report.mail_error = str(exc) or type(exc).__name__
    ids = [s.pk for s in structures.values()]
    findings = Finding.objects.filter(structure_id__in=ids)
    report.findings = findings.count()
    report.structures = findings.values("structure_id").distinct().count()
    report.actions = ActionItem.objects.filter(structure_id__in=ids).count()
    report.campaigns = demo_campaigns().count()
    report.snapshot_days = len(data.SNAPSHOT_DAYS)
    return report


# --- Reset ----------------------------------------------------------------------------------


def demo_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(title=data.CAMPAIGN_TITLE)


def foreign_campaigns() -> int:
    """Campaigns that are not the demo's (someone's real work)."""
    return Campaign.objects.exclude(title=data.CAMPAIGN_TITLE).count()


def evidence_files() -> list[str]:
    """Stored evidence documents, to delete once a reset has committed."""
    return [e.document.name for e in ActionEvidence.objects.exclude(document="")]


def wipe_campaigns() -> int:
    """Delete the demo's campaign and its notice job (structures' rows go with the structures)."""
    ids = list(demo_campaigns().values_list("pk", flat=True))
    Job.objects.filter(kind=campaigns.NOTIFY_JOB, params__campaign__in=ids).delete()
    Campaign.objects.filter(pk__in=ids).delete()
    return len(ids)


# --- The replay -----------------------------------------------------------------------------


def _asset_roles(structure: Structure) -> dict[str, Asset]:
    """The structure's demo assets by the role ``findings_data`` names them with."""
    roles: dict[str, Asset] = {}
    for asset in structure.assets.order_by("pk"):
        role = _ROLE_OF_KIND.get(asset.kind)
        if asset.kind == "hostname":
            role = asset.value.split(".", 1)[0]  # "webmail" or "vpn"
        if role:
            roles.setdefault(role, asset)
    return roles


def observation(weakness: data.Weakness) -> Observation:
    """What the exposure engine reports for ``weakness`` (its check, port and CVE)."""
    port = weakness.evidence.get("port")
    return Observation(
        weakness.rule, port=port if isinstance(port, int) else None, cve=weakness.cve
    )


def _present(seen: data.Seen, day: int) -> bool:
    """Whether a scan ``day`` days before the load sees ``seen``."""
    until = -1 if seen.until is None else seen.until
    return until < day <= seen.since


class _History:
    """The demo region's last twelve weeks, replayed one day at a time."""

    def __init__(self, structures: dict[str, Structure], users: list[User], today: date):
        self.structures = structures
        self.today = today
        self.people = {u.email: u for u in users}
        self.assets = {key: _asset_roles(s) for key, s in structures.items()}
        self.mandates = {
            key: list(Mandate.objects.filter(structure=s).prefetch_related("assets"))
            for key, s in structures.items()
        }
        self.plan_actions: dict[str, ActionItem] = {}

    # Time and people.

    def moment(self, days_ago: int, minute: int = 0) -> datetime:
        """Mid-morning ``days_ago`` days before the load (right now for the load day)."""
        if days_ago <= 0:
            return timezone.now()
        start = datetime.combine(self.today - timedelta(days=days_ago), time(9, 0))
        return timezone.make_aware(start) + timedelta(minutes=minute)

    def person(self, email: str) -> User:
        return self.people[email]

    # Findings.

    def finding(self, key: str, weakness: str) -> Finding:
        return Finding.objects.select_related("structure__organisation").get(
            structure=self.structures[key], rule=data.CATALOGUE[weakness].rule
        )

    def scannable(self, key: str, service: str, day: int, asset: Asset | None = None) -> bool:
        """A mandate valid that day covers the service (and the asset, proven)."""
        when = self.today - timedelta(days=day)
        if asset is not None and not asset.is_proven:
            return False
        for mandate in self.mandates[key]:
            if not mandate.covers(service):
                continue
            if not mandate.valid_from <= when <= mandate.valid_until:
                continue
            if asset is None or mandate.all_assets or asset in mandate.assets.all():
                return True
        return False

    def item(self, key: str, seen: data.Seen) -> FindingInput:
        weakness = data.CATALOGUE[seen.weakness]
        roles = self.assets[key]
        asset = roles[seen.asset] if seen.asset else None
        values = {
            "asset": asset.value if asset else "",
            "domain": roles["site"].value,
            "expiry": f"{self.today - timedelta(days=seen.since - 27):%d/%m/%Y}",
            "expired": f"{self.today - timedelta(days=seen.since + 3):%d/%m/%Y}",
            "range_host": str(ipaddress.ip_network(roles["range"].value)[5])
            if "range" in roles
            else "",
        }
        proof: dict[str, Any] = {
            name: value.format(**values) if isinstance(value, str) else value
            for name, value in weakness.evidence.items()
        }
        proof.update(seen.detail)
        fingerprint = ""
        if weakness.source == EXPOSURE_SOURCE and not seen.via and asset is not None:
            # The exposure service's own fingerprint: the demo's scans (carbet.demo.exposure)
            # then see the same finding, never a second one for the same weakness.
            fingerprint = exposure_fingerprint(asset.pk, asset.value, observation(weakness))
        return FindingInput(
            fingerprint=fingerprint,
            title=weakness.title,
            severity=weakness.severity,
            rule=weakness.rule,
            description=weakness.description,
            remediation=weakness.remediation,
            asset_id=asset.pk if asset else None,
            cve=weakness.cve,
            cvss=weakness.cvss,
            kev=weakness.kev,
            references=list(weakness.references),
            product=weakness.product,
            evidence=proof,
        )

    def scan(self, key: str, source: str, day: int, label: str, minute: int) -> None:
        """A complete scan or audit of the structure, if it has any and a mandate allows it."""
        profile = [s for s in data.PROFILES[key] if s.source == source]
        service = SCANNED_SOURCES[source]
        if not profile or not self.scannable(key, service, day):
            return
        roles = self.assets[key]
        for seen in profile:
            asset = roles.get(seen.asset)
            if source == EXPOSURE_SOURCE and not self.scannable(key, service, day, asset):
                raise ValueError(f"demo data: {key} {seen.weakness} is on an unscannable asset")
        items = [self.item(key, s) for s in profile if _present(s, day)]
        when = self.today - timedelta(days=day)
        ingest(
            self.structures[key],
            source,
            items,
            complete=True,
            label=f"{label} du {when:%d/%m/%Y}",
            now=self.moment(day, minute),
        )

    def one_off(self, key: str, day: int, minute: int) -> None:
        """Audit visits and imported reports of that day: partial runs, they close nothing.

        A follow-up visit goes through the whole checklist again: a complete run of the audit
        stream, which closes what the first visit found and this one no longer does."""
        when = self.today - timedelta(days=day)
        if day in data.FOLLOW_UP_VISITS.get(key, ()):
            ingest(
                self.structures[key],
                Source.MANUAL,
                [
                    self.item(key, s)
                    for s in data.PROFILES[key]
                    if s.source == Source.MANUAL and _present(s, day)
                ],
                complete=True,
                label=f"Visite de contrôle du centre du {when:%d/%m/%Y}",
                actor=self.person(ANALYST),
                now=self.moment(day, minute),
            )
        batches: dict[tuple[str, str], list[data.Seen]] = {}
        for seen in data.PROFILES[key]:
            if seen.since == day and seen.source in (Source.MANUAL, Source.IMPORT):
                batches.setdefault((seen.source, seen.via), []).append(seen)
        for (source, via), seens in batches.items():
            title = data.IMPORT_LABELS[via] if via else "Visite d'audit du centre"
            ingest(
                self.structures[key],
                source,
                [self.item(key, s) for s in seens],
                complete=False,
                scope=via,
                label=f"{title} du {when:%d/%m/%Y}",
                actor=self.person(ANALYST),
                now=self.moment(day, minute),
            )

    def replay(self) -> None:
        steps = self.steps()
        one_off_days = {
            s.since
            for profile in data.PROFILES.values()
            for s in profile
            if s.source in (Source.MANUAL, Source.IMPORT)
        }
        days = {
            *(day for visits in data.FOLLOW_UP_VISITS.values() for day in visits),
            *data.EXPOSURE_SCAN_DAYS,
            *data.DIRECTORY_AUDIT_DAYS,
            *data.SNAPSHOT_DAYS,
            *one_off_days,
            *steps,
        }
        for day in sorted(days, reverse=True):
            for minute, key in enumerate(data.PROFILES):
                if day in data.EXPOSURE_SCAN_DAYS:
                    self.scan(key, EXPOSURE_SOURCE, day, "Analyse d'exposition", minute)
                if day in data.DIRECTORY_AUDIT_DAYS:
                    self.scan(key, DIRECTORY_SOURCE, day, "Audit de l'annuaire", minute)
                self.one_off(key, day, minute)
            for step in steps.get(day, ()):
                step(day)
            if day in data.SNAPSHOT_DAYS:
                take_snapshots(self.today - timedelta(days=day))

    # What people did, day by day.

    def steps(self) -> dict[int, list[Callable[[int], None]]]:
        return {
            60: [self.hibiscus_plan],
            56: [self.flamboyants_plan],
            55: [self.flamboyants_evidence],
            54: [self.flamboyants_verified],
            40: [self.epsm_false_positive],
            35: [self.anse_bleue_plan],
            30: [self.anse_bleue_progress],
            25: [self.anse_bleue_krbtgt_done],
            20: [self.chu_krbtgt_in_remediation, self.hibiscus_progress],
            10: [self.kev_campaign],
            5: [self.ti_kaz_progress],
            2: [self.fleuve_progress],
            0: [self.anse_bleue_acceptance],
        }

    def hibiscus_plan(self, day: int) -> None:
        """The EHPAD's director turns her findings into a plan: one action for the mail
        settings, one per backup weakness, all carried by her IT provider."""
        director = self.person(HIBISCUS_DIRECTOR)
        provider = {
            "owner_kind": OwnerKind.IT_PROVIDER,
            "owner_label": region.IT_COMPANY,
            "funding_source": "budget propre",
        }
        mail = [self.finding("ehpad-hibiscus", w).pk for w in ("dmarc", "spf")]
        (self.plan_actions["hibiscus-mail"],) = plans.create_from_findings(
            director,
            mail,
            grouped=True,
            overrides={
                **provider,
                "title": "Empêcher l'usurpation de notre adresse de messagerie (SPF et DMARC)",
                "effort": Effort.HOURS,
            },
            now=self.moment(day),
        )
        backups = [
            self.finding("ehpad-hibiscus", w).pk for w in ("offline_backup", "restore_untested")
        ]
        plans.create_from_findings(
            director,
            backups,
            grouped=False,
            overrides={**provider, "effort": Effort.DAYS},
            now=self.moment(day, 5),
        )

    def hibiscus_progress(self, day: int) -> None:
        plans.update_progress(
            self.person(HIBISCUS_DIRECTOR),
            self.plan_actions["hibiscus-mail"],
            progress=50,
            note="Règle SPF corrigée ; le prestataire publie l'enregistrement DMARC.",
            now=self.moment(day),
        )

    def flamboyants_plan(self, day: int) -> None:
        """The remote-desktop port found by this morning's scan becomes an action at once."""
        (self.plan_actions["flamboyants-rdp"],) = plans.create_from_findings(
            self.person(FLAMBOYANTS_DIRECTOR),
            [self.finding("ehpad-flamboyants", "rdp").pk],
            grouped=True,
            overrides={
                "owner_kind": OwnerKind.IT_PROVIDER,
                "owner_label": region.IT_COMPANY,
                "effort": Effort.HOURS,
            },
            now=self.moment(day, 30),
        )

    def flamboyants_evidence(self, day: int) -> None:
        lines = [
            "Compte rendu d'intervention — DÉMONSTRATION",
            "EHPAD Les Flamboyants : fermeture de l'accès au bureau à distance (port 3389)",
            "Redirection du port 3389 supprimée sur le pare-feu de l'établissement.",
            "Accès à distance du prestataire : VPN avec double authentification.",
            f"Intervenant : {region.IT_COMPANY}",
            "Document fictif produit par la commande « carbet demo ».",
        ]
        document = SimpleUploadedFile(
            "intervention-port-3389.pdf", mandate_pdf(lines), content_type="application/pdf"
        )
        evidence.submit_evidence(
            self.person(FLAMBOYANTS_DIRECTOR),
            self.plan_actions["flamboyants-rdp"],
            note=(
                "Le prestataire a supprimé la redirection du port 3389 sur le pare-feu. Les "
                "accès à distance passent maintenant par le VPN avec double authentification. "
                "Compte rendu d'intervention joint."
            ),
            document=document,
            claim_done=True,
            now=self.moment(day),
        )

    def flamboyants_verified(self, day: int) -> None:
        """The analyst checks the port from outside, then approves the proof."""
        proof = self.plan_actions["flamboyants-rdp"].evidence.get()
        evidence.approve_evidence(self.person(ANALYST), proof, now=self.moment(day))

    def epsm_false_positive(self, day: int) -> None:
        lifecycle.change_status(
            self.person(ANALYST),
            self.finding("epsm-pointe", "admin_page"),
            Status.FALSE_POSITIVE,
            "Vérifié avec l'hébergeur du site : l'adresse /admin renvoie vers la page de "
            "connexion de son espace client, protégée par double authentification. Aucune "
            "interface d'administration n'est exposée.",
            now=self.moment(day),
        )

    def anse_bleue_plan(self, day: int) -> None:
        """The GHT's security officer puts the hospital's two gravest findings in its plan."""
        chosen = [self.finding("ch-anse-bleue", w).pk for w in ("dicom", "krbtgt")]
        dicom, krbtgt = plans.create_from_findings(
            self.person(GHT_REFERENT),
            chosen,
            grouped=False,
            overrides={"owner_kind": OwnerKind.ROLE, "owner_label": "Service informatique"},
            now=self.moment(day),
        )
        self.plan_actions["anse-bleue-dicom"] = dicom
        self.plan_actions["anse-bleue-krbtgt"] = krbtgt

    def anse_bleue_krbtgt_done(self, day: int) -> None:
        """Declared done; the next directory audit no longer sees it and closes the finding."""
        plans.update_progress(
            self.person(GHT_REFERENT),
            self.plan_actions["anse-bleue-krbtgt"],
            status=ActionStatus.DONE,
            note="Mot de passe du compte krbtgt changé deux fois, à 48 heures d'intervalle.",
            now=self.moment(day),
        )

    def anse_bleue_progress(self, day: int) -> None:
        plans.update_progress(
            self.person(GHT_REFERENT),
            self.plan_actions["anse-bleue-dicom"],
            progress=30,
            note=(
                "Fermeture du port 104 demandée au fournisseur du PACS ; intervention à "
                "planifier avec le service biomédical."
            ),
            now=self.moment(day),
        )

    def chu_krbtgt_in_remediation(self, day: int) -> None:
        lifecycle.change_status(
            self.person(GHT_REFERENT),
            self.finding("chu-mornevert", "krbtgt"),
            Status.IN_REMEDIATION,
            "Changement du mot de passe krbtgt planifié en deux fois par le service "
            "informatique du CHU, à une semaine d'intervalle.",
            now=self.moment(day),
        )

    def kev_campaign(self, day: int) -> None:
        """The centre sees the same exploited flaw in several structures and launches one
        campaign: each structure gets its action and, through a job, one notice."""
        analyst = self.person(ANALYST)
        campaign = Campaign(
            title=data.CAMPAIGN_TITLE,
            description=data.CAMPAIGN_DESCRIPTION,
            notice=data.CAMPAIGN_NOTICE,
            match_cve=data.KEV_CVE,
            created_at=self.moment(day),
        )
        campaigns.save_campaign(analyst, campaign)
        report = campaigns.launch(analyst, campaign, now=self.moment(day, 10))
        for action in ActionItem.objects.filter(pk__in=report.actions_created):
            key = next(k for k, s in self.structures.items() if s.pk == action.structure_id)
            self.plan_actions[f"{key}-kev"] = action

    def ti_kaz_progress(self, day: int) -> None:
        plans.update_progress(
            self.person(TECHNICIAN),
            self.plan_actions["ehpad-ti-kaz-kev"],
            progress=50,
            note="Mise à jour de FortiOS programmée samedi soir, hors des heures de soins.",
            now=self.moment(day),
        )

    def fleuve_progress(self, day: int) -> None:
        plans.update_progress(
            self.person(GHT_REFERENT),
            self.plan_actions["ch-fleuve-kev"],
            progress=20,
            note="Le prestataire a commandé le contrat de support nécessaire à la mise à jour.",
            now=self.moment(day),
        )

    def anse_bleue_acceptance(self, day: int) -> None:
        """The security officer asks to live for six months with the PACS's service accounts;
        the hospital's director signs."""
        request = acceptance.request_acceptance(
            self.person(GHT_REFERENT),
            self.structures["ch-anse-bleue"],
            [self.finding("ch-anse-bleue", "dont_expire")],
            justification=(
                "Les comptes concernés sont ceux du PACS et de l'automate du laboratoire. Le "
                "fournisseur du PACS ne sait pas encore changer leurs mots de passe sans "
                "interrompre les examens ; ce sera possible avec la nouvelle version de son "
                "logiciel, installée dans six mois."
            ),
            compensating_measures=(
                "Mots de passe de 30 caractères tirés au sort, connus du seul service "
                "informatique ; ces comptes ne peuvent se connecter qu'aux serveurs du PACS et "
                "du laboratoire ; le prestataire de supervision alerte à toute autre connexion."
            ),
            expires_on=self.today + timedelta(days=180),
            today=self.today,
        )
        acceptance.approve(
            self.person(ANSE_BLEUE_DIRECTOR),
            request,
            note="Accord pour six mois, le temps de la nouvelle version du PACS.",
        )
