"""Shared helpers of the bulletin tests (no test here)."""

from __future__ import annotations

from typing import Any

from carbet.community import services_bulletins as services
from carbet.community.models import Bulletin

SECRET_A = "CH Alpha-Secret VPN"
BODY_A = "Mettez à jour **FortiOS** vers 7.0.14 aujourd'hui. Secret-du-corps-A."


def values(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Faille critique sur les passerelles VPN",
        "summary": "Mettez à jour la passerelle VPN aujourd'hui.",
        "body": "## Que faire\n\n- mettre à jour\n- changer les mots de passe",
        "severity": "critical",
        "tlp": "green",
        "references": ["https://www.cert.ssi.gouv.fr/alerte/CERTFR-2024-ALE-005/"],
        "cves": ["CVE-2024-21762"],
        "remind_after_days": 3,
    }
    base.update(overrides)
    return base


def draft(region: Any, **overrides: Any) -> Bulletin:
    return services.save_bulletin(region.users["centre_admin"], values(**overrides))


def published(region: Any, **overrides: Any) -> Bulletin:
    """A bulletin published for structure A only (unless ``structures`` says otherwise),
    without e-mails (the mail tests publish themselves)."""
    overrides.setdefault("structures", [region.a.pk])
    overrides.setdefault("title", SECRET_A)
    overrides.setdefault("body", BODY_A)
    bulletin = draft(region, **overrides)
    services.publish(region.users["centre_admin"], bulletin, notify=False)
    bulletin.refresh_from_db()
    return bulletin
