"""Loading, and on request wiping, the demo region described in ``carbet.demo.region``.

Every row goes through the same services as the pages and the API (registry, mandates,
accounts, then findings, action plans and campaigns), so the demo exercises the real validation
and leaves a complete audit trail. The loader is idempotent: it looks each object up by its
natural key (FINESS number, e-mail address, mandate reference...) and only creates what is
missing, so a second run writes nothing. The findings side (``carbet.demo.findings``) is loaded
once, as a whole, and only into a database that holds nothing but the demo.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from carbet.accounts import user_admin
from carbet.accounts.models import User
from carbet.accounts.roles import CentreRole, Perm
from carbet.audit import services as audit
from carbet.core import contract, ownership
from carbet.core import services as registry
from carbet.core.choices import MEDICO_SOCIAL_CATEGORIES, ContactRole, Ownership
from carbet.core.models import Asset, Contact, Ght, Mandate, Organisation, Structure
from carbet.core.tenancy import SYSTEM, can
from carbet.demo import findings as demo_findings
from carbet.demo import region
from carbet.demo.findings import FindingsReport
from carbet.demo.pdf import mandate_pdf

DEMO_LOGIN_FILE = "demo-password"
# Letters and digits that cannot be mistaken for one another when read aloud or copied.
_READABLE_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
HOSPITAL_CATEGORIES = frozenset({"chu", "ch", "psychiatrie", "clinique", "ssr"})
# Fiction-reserved French phone numbers (ARCEP keeps 06 39 98 xx xx for films and books).
_PHONE_PREFIX = "06 39 98"


class DemoRefused(Exception):
    """The database holds data that is not the demo's: wiping it would lose real work."""


@dataclass
class LoadReport:
    """What a load created, and the logins to print."""

    created: Counter[str] = field(default_factory=Counter)
    passwords_set: int = 0
    findings: FindingsReport = field(default_factory=FindingsReport)


# --- Password -------------------------------------------------------------------------------


def password_file() -> Path:
    return Path(settings.DATA_DIR) / DEMO_LOGIN_FILE


def generate_password() -> str:
    """Four groups of four unambiguous characters, e.g. ``k7Qm-Xp3z-Rt9w-Hb2c``."""
    groups = ("".join(secrets.choice(_READABLE_ALPHABET) for _i in range(4)) for _j in range(4))
    return "-".join(groups)


def choose_password(explicit: str | None) -> tuple[str, bool]:
    """The shared demo password and whether it was just generated.

    An explicit password must pass the platform's password rules. Otherwise the password kept
    in the data directory (0600) by a previous run is reused, so that running the demo twice
    keeps the same logins; failing that, a new one is generated and kept.
    """
    if explicit is not None:
        validate_password(explicit)
        return explicit, False
    path = password_file()
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored, False
    password = generate_password()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(password + "\n", encoding="utf-8")
    tmp.replace(path)
    return password, True


# --- Loading --------------------------------------------------------------------------------


def finess_numbers() -> tuple[dict[str, str], dict[str, str]]:
    """FINESS EJ by organisation key and FINESS ET by structure key."""
    ej = {}
    et = {}
    serial = 0
    for org_serial, org in enumerate(region.ORGANISATIONS, start=1):
        ej[org.key] = region.finess_number(org.departement, "ej", org_serial)
        for structure in org.structures:
            serial += 1
            et[structure.key] = region.finess_number(structure.departement, "et", serial)
    return ej, et


def load_demo(password: str, *, today: dt.date | None = None) -> LoadReport:
    """Create whatever part of the demo region is missing, then its findings history.

    The registry and the accounts are written in one transaction, the findings side in a
    second one (``carbet.demo.findings``), skipped when the database holds anything that is not
    the demo: its campaign and snapshots span the whole region.
    """
    today = today or timezone.localdate()
    report = LoadReport()
    # The demo's lab hosts live on loopback addresses, which production validation refuses.
    with override_settings(CARBET_ALLOW_LOOPBACK_ASSETS=True), transaction.atomic():
        ght = _ensure_ght(report)
        organisations, structures = _ensure_registry(ght, report)
        users = _ensure_users(ght, organisations, structures, password, report)
        # Signed mandates reach the centre, whose administrator records them.
        recorder = next(u for u in users if u.centre_role == CentreRole.ADMIN)
        for index, (_org, spec) in enumerate(region.all_structures()):
            structure = structures[spec.key]
            _ensure_contacts(structure, spec, index, report)
            new_assets = _ensure_assets(structure, spec, index, report)
            _validate_assets(new_assets, users)
            _ensure_mandate(structure, spec, today, recorder, report)
    foreign = foreign_data()
    if foreign:
        report.findings = FindingsReport(foreign=foreign)
    else:
        report.findings = demo_findings.load_findings(structures, users, today=today)
        _load_services(structures, users, today, report)
        if report.findings.loaded:
            # The services' loaders add their own findings (scans, backups, campaigns) and
            # action items (an exercise's RETEX, a crisis' lessons).
            from carbet.findings.models import ActionItem, Finding

            report.findings.findings = Finding.objects.count()
            report.findings.actions = ActionItem.objects.count()
    return report


def _load_services(structures, users, today: dt.date, report: LoadReport) -> None:
    """Each service's demo data (directory audits, exposure scans, roadmaps, awareness)."""
    from carbet.demo import awareness as demo_awareness
    from carbet.demo import directory as demo_directory
    from carbet.demo.exposure import load_demo_exposure
    from carbet.demo.roadmap import load_roadmap
    from carbet.findings.posture.snapshots import take_snapshots

    with override_settings(CARBET_ALLOW_LOOPBACK_ASSETS=True):
        with transaction.atomic():
            counts = {"directory_audit": demo_directory.load(structures, today=today)}
        # Each exposure scan commits on its own (its job reaches the queue already finished).
        counts["exposure_scan"] = load_demo_exposure(structures, today)["scans"]
        with transaction.atomic():
            counts["awareness_campaign"] = demo_awareness.load(structures, today=today)
        # Services declaring their demo in their spec (exercises, crisis...): each commits on
        # its own, like the scans, since some dispatch through the task system.
        for name, load in contract.demo_loaders():
            counts[name] = load(structures, users, today=today)
        # Last: the roadmap's indicators read every service's facts recorded above.
        counts["roadmap"] = load_roadmap(structures, users, today=today).roadmaps
        if any(counts.values()):
            # Today's posture point again, now that every service has written: the score card
            # and the last point of its chart are the same figure.
            take_snapshots(today)
    report.created.update({kind: n for kind, n in counts.items() if n})


def _ensure_ght(report: LoadReport) -> Ght:
    ght = Ght.objects.filter(code=region.GHT_CODE).first()
    if ght is None:
        ght = Ght(code=region.GHT_CODE, name=region.GHT_NAME)
        registry.save_ght(SYSTEM, ght)
        report.created["ght"] += 1
    return ght


def _ensure_registry(
    ght: Ght, report: LoadReport
) -> tuple[dict[str, Organisation], dict[str, Structure]]:
    ej, et = finess_numbers()
    organisations: dict[str, Organisation] = {}
    structures: dict[str, Structure] = {}
    for org_spec in region.ORGANISATIONS:
        organisation = Organisation.objects.filter(finess_ej=ej[org_spec.key]).first()
        if organisation is None:
            organisation = Organisation(
                finess_ej=ej[org_spec.key],
                name=org_spec.name,
                legal_status=org_spec.legal_status,
                ght=ght if org_spec.in_ght else None,
            )
            registry.save_organisation(SYSTEM, organisation)
            report.created["organisation"] += 1
        organisations[org_spec.key] = organisation
        for spec in org_spec.structures:
            structure = Structure.objects.filter(finess_et=et[spec.key]).first()
            if structure is None:
                structure = Structure(
                    finess_et=et[spec.key],
                    name=spec.name,
                    organisation=organisation,
                    category=spec.category,
                    beds=spec.beds,
                    places=spec.places,
                    departement=spec.departement,
                    address=f"1 rue de la Démonstration, {spec.city}",
                    postal_code=spec.postal_code,
                    city=spec.city,
                )
                registry.save_structure(SYSTEM, structure)
                report.created["structure"] += 1
            structures[spec.key] = structure
    return organisations, structures


def _contact_plan(spec: region.StructureSpec, index: int) -> list[Contact]:
    site = f"{spec.key}.test"
    phone = f"{_PHONE_PREFIX} {index % 100:02d} 01"
    plan = [
        Contact(
            role=ContactRole.DIRECTOR,
            name=region.person_name(index * 4),
            email=f"direction@{site}",
            phone=phone,
        ),
        Contact(
            role=ContactRole.DPO,
            name=region.person_name(index * 4 + 1),
            email=f"dpo@{spec.key}.example",
        ),
    ]
    if spec.has_referent:
        plan.append(
            Contact(
                role=ContactRole.CYBER_REFERENT,
                name=region.person_name(index * 4 + 2),
                email=f"rssi@{site}",
            )
        )
    if spec.has_it_provider:
        plan.append(
            Contact(
                role=ContactRole.IT_PROVIDER,
                name=region.person_name(index * 4 + 3),
                email=f"support@{region.IT_COMPANY_DOMAIN}",
                organisation_name=region.IT_COMPANY,
            )
        )
    return plan


def _ensure_contacts(
    structure: Structure, spec: region.StructureSpec, index: int, report: LoadReport
) -> None:
    existing = set(structure.contacts.values_list("role", flat=True))
    for contact in _contact_plan(spec, index):
        if contact.role in existing:
            continue
        contact.structure = structure
        registry.save_contact(SYSTEM, contact)
        report.created["contact"] += 1


def asset_plan(spec: region.StructureSpec, index: int) -> list[dict]:
    """The assets of one demo structure: names under .test/.example, lab hosts on loopback."""
    site = f"{spec.key}.test"
    lab_net = f"127.97.{index + 1}"
    medico_social = spec.category in MEDICO_SOCIAL_CATEGORIES
    plan = [
        dict(kind="domain", value=site, label="Site internet", criticality="medium"),
        dict(kind="mail_domain", value=site, label="Messagerie", criticality="high"),
        dict(kind="hostname", value=f"webmail.{site}", label="Webmail", criticality="high"),
        dict(
            kind="ipv4",
            value=f"{lab_net}.10",
            label="Passerelle d'accès à distance (hôte de laboratoire)",
            criticality="critical",
        ),
    ]
    if spec.category in HOSPITAL_CATEGORIES:
        plan += [
            dict(
                kind="hostname",
                value=f"vpn.{spec.key}.example",
                label="Accès à distance (VPN)",
                criticality="critical",
            ),
            dict(
                kind="cidr",
                value=f"{lab_net}.0/28",
                label="Plage d'adresses publiques (laboratoire)",
                criticality="high",
            ),
            dict(
                kind="ad_domain",
                value=f"ad.{spec.key}.example",
                label="Annuaire des comptes (Active Directory)",
                criticality="critical",
                internet_exposed=False,
            ),
        ]
    plan.append(
        dict(
            kind="application",
            value="Logiciel de soins" if medico_social else "Dossier patient informatisé",
            label="Application métier",
            criticality="critical" if not medico_social else "high",
            internet_exposed=False,
        )
    )
    return plan


def _ensure_assets(
    structure: Structure, spec: region.StructureSpec, index: int, report: LoadReport
) -> list[Asset]:
    existing = set(structure.assets.values_list("kind", "value"))
    created = []
    for values in asset_plan(spec, index):
        if (values["kind"], values["value"]) in existing:
            continue
        asset = Asset(structure=structure, **values)
        registry.save_asset(SYSTEM, asset)
        report.created["asset"] += 1
        created.append(asset)
    return created


def _validate_assets(assets: list[Asset], users: list[User]) -> None:
    """The structure's own people confirm its network assets, then the centre proves them.

    Validation is the structure's word that an asset is its own, so the demo has it given by a
    demo director or referent of that structure, never by the platform. That word is not
    proof: the demo's centre analyst then records a review of each confirmed asset (the demo's
    names end in ``.test`` and cannot carry a DNS token), as the centre would after checking
    the address registry or the hosting contract. Structures without a demo account keep their
    assets "to prove", as a newly registered structure would.
    """
    reviewer = next((u for u in users if can(u, Perm.ASSET_PROVE, None)), None)
    for asset in assets:
        if asset.kind == "application":
            continue
        validator = next((u for u in users if can(u, Perm.ASSET_VALIDATE, asset.structure)), None)
        if validator is None:
            continue
        registry.validate_asset(validator, asset)
        if reviewer is not None and asset.ownership == Ownership.TO_PROVE:
            ownership.record_review(
                reviewer,
                asset,
                "Démonstration : propriété vérifiée par le centre (laboratoire 127.x).",
            )


def _ensure_users(
    ght: Ght,
    organisations: dict[str, Organisation],
    structures: dict[str, Structure],
    password: str,
    report: LoadReport,
) -> list[User]:
    users = []
    for spec in region.USERS:
        user = User.objects.filter(email__iexact=spec.email).first()
        if user is None:
            scopes = [_scope(spec, key, ght, organisations, structures) for key in spec.scopes]
            user = user_admin.create_user(
                SYSTEM,
                email=spec.email,
                full_name=spec.full_name,
                centre_role=spec.centre_role,
                membership=scopes[0] if scopes else None,
            )
            for extra in scopes[1:]:
                user_admin.add_membership(SYSTEM, user, extra)
            report.created["user"] += 1
            _set_password(user, password)
        elif not user.check_password(password):
            _set_password(user, password)
            report.passwords_set += 1
        users.append(user)
    return users


def _set_password(user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(SYSTEM, "user.password_set", user, changes={"reason": "demo"})


def _scope(
    spec: region.UserSpec,
    key: str,
    ght: Ght,
    organisations: dict[str, Organisation],
    structures: dict[str, Structure],
) -> user_admin.MembershipSpec:
    if spec.scope_kind == "ght":
        return user_admin.MembershipSpec(spec.structure_role, ght=ght)
    if spec.scope_kind == "organisation":
        return user_admin.MembershipSpec(spec.structure_role, organisation=organisations[key])
    return user_admin.MembershipSpec(spec.structure_role, structure=structures[key])


def mandate_reference(structure: Structure) -> str:
    return f"DEMO-{structure.finess_et}"


def _mandate_dates(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(signed_on = valid_from, valid_until) for each kind of demo mandate."""
    day = dt.timedelta(days=1)
    return {
        "expiring": (today - 345 * day, today + 20 * day),
        "expired": (today - 400 * day, today - 35 * day),
    }.get(kind, (today - 120 * day, today + 245 * day))


def _ensure_mandate(
    structure: Structure,
    spec: region.StructureSpec,
    today: dt.date,
    recorder: User,
    report: LoadReport,
) -> None:
    """Record the structure's signed mandate, as the centre's administrator would on receipt."""
    if spec.mandate == "none":
        return
    reference = mandate_reference(structure)
    if Mandate.objects.filter(structure=structure, reference=reference).exists():
        return
    hospital = spec.category in HOSPITAL_CATEGORIES
    start, end = _mandate_dates(spec.mandate, today)
    director = structure.contacts.filter(role=ContactRole.DIRECTOR).first()
    mandate = Mandate(
        structure=structure,
        reference=reference,
        services=[
            kind
            for kind, covered in (
                ("exposure_scan", True),
                ("directory_audit", hospital),
                ("phishing", spec.category != "had"),
                ("exercise", spec.category == "chu"),
            )
            if covered
        ],
        all_assets=spec.mandate != "partial",
        signed_by_name=director.name if director else "La direction",
        signed_by_title="Direction de l'établissement",
        signed_on=start,
        valid_from=start,
        valid_until=end,
    )
    chosen = []
    if spec.mandate == "partial":
        chosen = list(structure.assets.filter(kind__in=["domain", "ipv4"]))
    lines = [
        "Mandat d'intervention du centre de ressources cyber — DÉMONSTRATION",
        f"Structure : {structure.name} (FINESS {structure.finess_et})",
        "Services couverts : " + ", ".join(str(s) for s in mandate.services_display()),
        f"Valable du {start:%d/%m/%Y} au {end:%d/%m/%Y}",
        f"Signé par : {mandate.signed_by_name}, {mandate.signed_by_title}",
        "Document fictif produit par la commande « carbet demo ».",
    ]
    document = SimpleUploadedFile(
        f"mandat-{structure.finess_et}.pdf", mandate_pdf(lines), content_type="application/pdf"
    )
    registry.record_mandate(recorder, mandate, document, chosen)
    report.created["mandate"] += 1
    if spec.mandate == "revoked":
        registry.revoke_mandate(
            recorder,
            mandate,
            "Changement de direction : la nouvelle direction doit signer un nouveau mandat.",
        )


# --- Reset ----------------------------------------------------------------------------------


def foreign_data() -> list[str]:
    """What in the database is not part of the demo (empty when only demo data is there)."""
    ej, et = finess_numbers()
    emails = [u.email for u in region.USERS]
    counts = {
        "GHT": Ght.objects.exclude(code=region.GHT_CODE).count(),
        "organisation(s)": Organisation.objects.exclude(finess_ej__in=ej.values()).count(),
        "structure(s)": Structure.objects.exclude(finess_et__in=et.values()).count(),
        "compte(s)": User.objects.exclude(email__in=emails).count(),
        "campagne(s)": demo_findings.foreign_campaigns(),
    }
    return [f"{count} {what}" for what, count in counts.items() if count]


def reset_demo() -> Counter[str]:
    """Wipe the registry and the demo accounts, refusing if anything else is in the database.

    The structures take their findings, action plans, acceptances and snapshots with them;
    the demo's regional campaign goes too. The audit trail is append-only: it keeps the history
    of the wiped rows and records the reset itself.
    """
    foreign = foreign_data()
    if foreign:
        raise DemoRefused(", ".join(foreign))
    removed: Counter[str] = Counter(
        {
            "structure": Structure.objects.count(),
            "organisation": Organisation.objects.count(),
            "ght": Ght.objects.count(),
            "user": User.objects.count(),
        }
    )
    with transaction.atomic():
        documents = [m.document.name for m in Mandate.objects.all() if m.document]
        documents += demo_findings.evidence_files()
        audit.record(SYSTEM, "demo.reset", changes=dict(removed))
        for name, wipe in contract.demo_wipers():
            removed[name] = wipe()
        Structure.objects.all().delete()
        demo_findings.wipe_campaigns()
        Organisation.objects.all().delete()
        Ght.objects.all().delete()
        User.objects.filter(email__in=[u.email for u in region.USERS]).delete()
        transaction.on_commit(lambda: _delete_files(documents))
    return removed


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)
