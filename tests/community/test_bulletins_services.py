"""Bulletins: publishing (deliveries and e-mails through a real SMTP server), restricted TLP,
acknowledgements, reminders, withdrawal and rights."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.community import services_bulletins as services
from carbet.community.models import BulletinDelivery, SoftwareLine
from carbet.core.tenancy import SYSTEM
from tests.community.test_bulletins_fixtures import BODY_A, SECRET_A, draft, published

pytestmark = pytest.mark.django_db

A_PEOPLE = {"ref@alpha.test", "rssi@ght.test", "dir@alpha.test", "dg@alpha.test"}


def _deliveries(bulletin) -> dict[int, BulletinDelivery]:
    return {d.structure_id: d for d in BulletinDelivery.objects.filter(bulletin=bulletin)}


def test_publish_delivers_and_mails_the_targeted_structures_only(
    region, smtp_inbox, django_capture_on_commit_callbacks
):
    SoftwareLine.objects.create(
        structure=region.b, origin="exposure", source_key="exposure:vpn.beta.test:443",
        vendor="Fortinet", product="FortiOS", version="7.0.12",
    )  # fmt: skip
    bulletin = draft(region, products=["fortios"], title="FortiOS : faille exploitée")
    assert bulletin.status == "draft" and not BulletinDelivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        reached = services.publish(region.users["centre_admin"], bulletin)
    assert reached == 1
    bulletin.refresh_from_db()
    assert bulletin.status == "published" and bulletin.published_at
    deliveries = _deliveries(bulletin)
    assert set(deliveries) == {region.b.pk}
    assert deliveries[region.b.pk].emailed_at is not None
    assert deliveries[region.b.pk].recipients == ["dir@beta.test"]
    mails = smtp_inbox.by_recipient()
    assert set(mails) == {"dir@beta.test"}
    message = mails["dir@beta.test"][0]
    assert "FortiOS : faille exploitée" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "mettre à jour" in text and "CVE-2024-21762" in text
    assert f"/communaute/bulletins/{bulletin.pk}/" in text
    html = message.get_body(("html",)).get_content()
    assert "<li>mettre à jour</li>" in html
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"community.bulletin.create", "community.bulletin.publish"} <= actions
    assert "community.bulletin.mailed" in actions
    # publishing twice is refused; mailing again sends nothing more
    with pytest.raises(ValidationError):
        services.publish(region.users["centre_admin"], bulletin)
    assert services.mail_deliveries(bulletin) == 0
    assert len(smtp_inbox.messages) == 1


def test_each_person_gets_one_message_with_no_other_address(
    region, smtp_inbox, django_capture_on_commit_callbacks
):
    bulletin = draft(region, ghts=[region.ght.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish(region.users["centre_admin"], bulletin) == 2
    assert set(_deliveries(bulletin)) == {region.a.pk, region.a2.pk}
    # A: referent, GHT referent, director, organisation director; A2: the last two and the GHT
    # referent. Nobody of B.
    received = smtp_inbox.by_recipient()
    assert set(received) == A_PEOPLE
    assert "dir@beta.test" not in received
    for recipients, message in smtp_inbox.messages:
        assert len(recipients) == 1
        others = A_PEOPLE - set(recipients)
        raw = message.as_string()
        assert not any(address in raw for address in others)


@pytest.mark.parametrize("tlp", ["red", "amber+strict"])
def test_restricted_tlp_mail_holds_no_content(
    region, smtp_inbox, django_capture_on_commit_callbacks, tlp
):
    bulletin = draft(region, tlp=tlp, structures=[region.a.pk], title=SECRET_A, body=BODY_A)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(region.users["centre_admin"], bulletin)
    assert smtp_inbox.messages
    for _recipients, message in smtp_inbox.messages:
        raw = message.as_string()
        for secret in (SECRET_A, "Secret-du-corps-A", "FortiOS", "CVE-2024-21762", "cert.ssi"):
            assert secret not in raw
        assert "Un nouveau bulletin vous attend dans Carbet" in message["Subject"]
        assert f"/communaute/bulletins/{bulletin.pk}/" in message.get_content()
        assert not message.is_multipart()  # no HTML copy either


def test_publish_refuses_an_empty_audience_and_non_centre(region):
    bulletin = draft(region, categories=["chu"])
    with pytest.raises(ValidationError):
        services.publish(region.users["centre_admin"], bulletin)
    for role in ("director", "referent", "ars_viewer", "director_b"):
        with pytest.raises(PermissionDenied):
            services.publish(region.users[role], bulletin)
        with pytest.raises(PermissionDenied):
            services.save_bulletin(region.users[role], {"title": "x", "body": "y"})


def test_drafts_only_are_edited(region):
    bulletin = published(region)
    with pytest.raises(ValidationError):
        services.save_bulletin(
            region.users["centre_admin"], {"title": "autre", "body": "texte"}, bulletin
        )


def test_acknowledgements(region):
    bulletin = published(region)
    delivery = _deliveries(bulletin)[region.a.pk]
    director = region.users["director"]
    # the centre's look does not mark it read; the structure's does
    assert not services.mark_read(region.users["centre_admin"], delivery)
    assert services.mark_read(director, delivery)
    assert delivery.status == "read" and not services.mark_read(director, delivery)
    with pytest.raises(ValidationError) as error:
        services.acknowledge(director, delivery, "not_concerned", "   ")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.acknowledge(director, delivery, "unread")
    services.acknowledge(director, delivery, "not_concerned", "Nous n'avons pas de VPN")
    delivery.refresh_from_db()
    assert delivery.status == "not_concerned" and delivery.reason == "Nous n'avons pas de VPN"
    assert delivery.acknowledged_by == director
    services.acknowledge(director, delivery, "applied", "ignored reason")
    delivery.refresh_from_db()
    assert delivery.status == "applied" and delivery.reason == ""
    with pytest.raises(PermissionDenied):
        services.acknowledge(region.users["director_b"], delivery, "applied")
    entries = AuditEntry.objects.filter(action="community.bulletin.acknowledge")
    assert entries.count() == 2
    assert set(entries.values_list("structure_id", flat=True)) == {region.a.pk}
    services.withdraw(region.users["centre_admin"], bulletin)
    with pytest.raises(ValidationError):
        services.acknowledge(director, delivery, "read")


def test_reminders_are_claimed_once_per_period_and_three_at_most(region, smtp_inbox):
    bulletin = published(region, structures=[region.a.pk, region.b.pk], remind_after_days=2)
    deliveries = _deliveries(bulletin)
    services.acknowledge(region.users["director_b"], deliveries[region.b.pk], "applied")
    start = deliveries[region.a.pk].delivered_at
    assert services.send_reminders(start + dt.timedelta(days=1)) == 0  # too early
    day2 = start + dt.timedelta(days=2, minutes=1)
    assert services.send_reminders(day2) == 1
    assert services.send_reminders(day2) == 0  # idempotent when run twice
    assert services.send_reminders(day2 + dt.timedelta(days=1)) == 0  # within the period
    assert set(smtp_inbox.by_recipient()) == A_PEOPLE  # B answered: not reminded
    assert all("Rappel" in m["Subject"] for _r, m in smtp_inbox.messages)
    assert services.send_reminders(day2 + dt.timedelta(days=2)) == 1
    assert services.send_reminders(day2 + dt.timedelta(days=4)) == 1
    assert services.send_reminders(day2 + dt.timedelta(days=30)) == 0  # three at most
    delivery = BulletinDelivery.objects.get(bulletin=bulletin, structure=region.a)
    assert delivery.reminders == 3
    assert AuditEntry.objects.filter(action="community.bulletin.remind").count() == 3


def test_reminders_skip_read_only_beyond_and_other_severities(region, smtp_inbox):
    later = timezone.now() + dt.timedelta(days=10)
    medium = published(region, severity="medium")
    never = published(region, remind_after_days=0)
    high = published(region, severity="high")
    read = published(region)
    services.mark_read(region.users["director"], _deliveries(read)[region.a.pk])
    applied = published(region)
    services.acknowledge(region.users["director"], _deliveries(applied)[region.a.pk], "applied")
    withdrawn = published(region)
    services.withdraw(region.users["centre_admin"], withdrawn)
    assert services.send_reminders(later) == 2  # high and read (read is not an answer)
    reminded = set(
        BulletinDelivery.objects.filter(reminders=1).values_list("bulletin_id", flat=True)
    )
    assert reminded == {high.pk, read.pk}
    assert medium.pk not in reminded and never.pk not in reminded


def test_remind_now_is_the_centres_and_sends_once_per_hour(region, smtp_inbox):
    bulletin = published(region)
    with pytest.raises(PermissionDenied):
        services.remind_now(region.users["director"], bulletin)
    assert services.remind_now(region.users["centre_analyst"], bulletin) == 1
    assert services.remind_now(region.users["centre_analyst"], bulletin) == 0
    assert services.send_reminders() == 0  # the automatic one waits for its period


def test_system_can_publish_and_audience_counts(region):
    assert services.audience({"departements": ["972"]}) == 2
    assert services.audience({"departements": ["not a departement"]}) == 0
    bulletin = services.save_bulletin(SYSTEM, {"title": "t", "body": "b", "sizes": ["small"]})
    assert services.publish(SYSTEM, bulletin, notify=False) == 2


def test_notices_a_mail_server_failure_kept_back_go_out_with_the_next_run(
    region, smtp_inbox, django_capture_on_commit_callbacks
):
    import socket

    from django.test import override_settings

    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed, "timeout": 5},
        }
    }
    bulletin = draft(region, structures=[region.b.pk], severity="low")
    with override_settings(MAILERS=down), django_capture_on_commit_callbacks(execute=True):
        assert services.publish(region.users["centre_admin"], bulletin) == 1
    delivery = BulletinDelivery.objects.get(bulletin=bulletin)
    assert delivery.emailed_at is None and not smtp_inbox.messages
    assert services.send_reminders() == 0  # a low bulletin gets no reminder, but its notice:
    assert set(smtp_inbox.by_recipient()) == {"dir@beta.test"}
    delivery.refresh_from_db()
    assert delivery.emailed_at is not None and delivery.recipients == ["dir@beta.test"]
    services.send_reminders()
    assert len(smtp_inbox.messages) == 1


def test_deliveries_published_without_notice_are_never_mailed_later(region, smtp_inbox):
    published(region, structures=[region.b.pk], severity="low")
    assert services.send_reminders() == 0
    assert not smtp_inbox.messages
