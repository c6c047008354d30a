"""An exposure that comes back after being fixed is alerted again, the same day, once per return
(issue 19, item 8): real scans of loopback listeners through the platform's path (request, job,
engine, finish, alert), real mail backend (locmem)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from carbet.audit.models import AuditEntry
from carbet.core.models import Contact
from carbet.exposure import alerts, services
from carbet.exposure.models import ExposureAlert, Scan, ScanObservation, ScanProfile, ScanStatus

pytestmark = pytest.mark.realserver
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _scan(region, callbacks, profile=None) -> Scan:
    with callbacks(execute=True):
        scan = services.request_structure_scan(
            region.a, region.users["centre_analyst"], profile=profile
        )
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    return scan


def _rdp(scan: Scan) -> ScanObservation:
    return ScanObservation.objects.get(scan=scan, check_id="port.rdp")


@override_settings(MAILERS=LOCMEM)
def test_an_exposure_back_after_a_fix_is_alerted_again_once_per_return(
    exposed, django_capture_on_commit_callbacks
):
    Contact.objects.create(
        structure=exposed.a, role="cyber_referent", name="Réf", email="rssi@alpha.test"
    )
    callbacks = django_capture_on_commit_callbacks
    web_only = ScanProfile.objects.create(
        name="Web seulement", ports=[8080], connect_timeout=1, read_timeout=1.5,
        tls=False, web_paths=False, mail_dns=False,
    )  # fmt: skip

    first = _scan(exposed, callbacks)
    fingerprint = _rdp(first).fingerprint
    per_alert = len(mail.outbox)
    assert per_alert >= 1
    assert "de nouveau visible" not in mail.outbox[0].body

    _scan(exposed, callbacks)  # still exposed: nothing new, no alert
    assert len(mail.outbox) == per_alert

    fixed = _scan(exposed, callbacks, profile=web_only)  # the RDP port no longer seen
    assert fingerprint in {item["fingerprint"] for item in fixed.diff["gone"]}
    assert len(mail.outbox) == per_alert

    back = _scan(exposed, callbacks)  # it came back: alerted again, the same day
    assert fingerprint in back.diff["new"]
    assert len(mail.outbox) == 2 * per_alert
    body = mail.outbox[-1].body
    assert "3389" in body and "de nouveau visible" in body
    episodes = list(
        ExposureAlert.objects.filter(structure=exposed.a, fingerprint=fingerprint)
        .order_by("episode")
        .values_list("episode", "scan_id")
    )
    assert episodes == [(1, first.pk), (2, back.pk)]
    entry = AuditEntry.objects.filter(action="exposure.alert.sent").order_by("-pk").first()
    assert entry is not None and entry.changes["returned"]

    # A rerun of the alert step for the same scan (a worker killed after sending) sends nothing.
    assert alerts.alert_new_critical(back) == 0
    _scan(exposed, callbacks)  # still there: once per return, not once per scan
    assert len(mail.outbox) == 2 * per_alert
    assert ExposureAlert.objects.filter(fingerprint=fingerprint).count() == 2


@override_settings(MAILERS=LOCMEM)
def test_missing_from_a_scan_that_did_not_see_it_gone_is_not_a_return(
    exposed, django_capture_on_commit_callbacks
):
    """An exposure "new" against a previous scan that could not look at the target (refused,
    unreachable: its diff does not list the exposure as gone) is not a return: no alert."""
    first = _scan(exposed, django_capture_on_commit_callbacks)
    fingerprint = _rdp(first).fingerprint
    later = _scan(exposed, django_capture_on_commit_callbacks)
    assert alerts.due_alerts(later) == []
    # As if the scan in between had not reached the target: the exposure looks new.
    later.diff = {**later.diff, "new": [*later.diff["new"], fingerprint]}
    later.save(update_fields=["diff"])
    assert alerts.due_alerts(later) == []
    assert ExposureAlert.objects.filter(fingerprint=fingerprint).count() == 1
