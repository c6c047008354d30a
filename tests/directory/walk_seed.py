"""Directory objects of structure A for the cross-tenant walks (see tests/walk_seeds.py)."""

from __future__ import annotations

import datetime as dt

from carbet.core.models import Asset
from carbet.directory.models import AuditStatus, DirectoryAudit, DirectoryConnection, RuleException
from tests.conftest import proven


def _asset(structure):
    return Asset.objects.get_or_create(
        structure=structure,
        kind="ad_domain",
        value="alpha-secret.local",
        defaults={"internet_exposed": False, **proven()},
    )[0]


def _connection(structure) -> DirectoryConnection:
    return DirectoryConnection.objects.get_or_create(
        structure=structure,
        label="CH Alpha-Secret DC",
        defaults={
            "asset": _asset(structure),
            "server": "127.0.0.1",
            "bind_user": "reader",
            "bind_password": "CH Alpha-Secret password",
        },
    )[0]


def _audit(structure) -> DirectoryAudit:
    finding = {
        "rule": "vuln2_krbtgt",
        "anssi": "vuln2_krbtgt",
        "level": 2,
        "category": "anomalies",
        "points": 20,
        "severity": 3,
        "title": "CH Alpha-Secret finding",
        "title_en": "",
        "description": "",
        "remediation": "",
        "command": "",
        "objects": ["krbtgt"],
        "objects_total": 1,
        "excepted_objects": [],
        "exploitable_now": False,
        "fully_excepted": False,
    }
    return DirectoryAudit.objects.get_or_create(
        structure=structure,
        domain="alpha-secret.local",
        defaults={
            "origin": "snapshot",
            "status": AuditStatus.DONE,
            "analysed_at": dt.datetime.now(dt.UTC),
            "anssi_level": 2,
            "score_global": 20,
            "result": {"domain": "alpha-secret.local", "findings": [finding], "score": {}},
        },
    )[0]


def seed(structure) -> None:
    _connection(structure)
    _audit(structure)
    RuleException.objects.get_or_create(
        structure=structure,
        rule="vuln2_krbtgt",
        defaults={
            "justification": "CH Alpha-Secret exception",
            "expires_on": dt.date.today() + dt.timedelta(days=30),
        },
    )


API_OBJECT_PARAMETERS = {
    ("audits", "id"): lambda region: _audit(region.a),
    ("connections", "id"): lambda region: _connection(region.a),
}
