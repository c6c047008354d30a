"""External anchoring: ``carbet audit anchor`` to a file sink and to a real SMTP server
(aiosmtpd on loopback), and ``carbet audit verify --anchor`` against what was exported."""

from __future__ import annotations

import mailbox
import socket
from email import message_from_bytes, policy
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from carbet.audit import anchor, keyring, services
from carbet.core.tenancy import SYSTEM
from tests.audit.test_chain import problems_text, raw, triggers_lifted


@pytest.fixture
def append(db, django_capture_on_commit_callbacks):
    def _append(count: int) -> None:
        for index in range(count):
            with django_capture_on_commit_callbacks(execute=True):
                services.record(SYSTEM, "test.append", changes={"n": index})

    return _append


@pytest.fixture
def sink_file(settings, tmp_path):
    """A file "on another machine" (in the tests: outside the data directory)."""
    path = tmp_path / "autre-machine" / "ancres-carbet.txt"
    settings.CARBET_AUDIT_ANCHOR_FILE = str(path)
    settings.CARBET_AUDIT_ANCHOR_EMAIL = []
    return path


@pytest.fixture
def inbox(settings):
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(
                (
                    list(envelope.rcpt_tos),
                    message_from_bytes(envelope.content, policy=policy.default),
                )
            )
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    settings.CARBET_AUDIT_ANCHOR_EMAIL = ["rssi@centre.test"]
    settings.CARBET_AUDIT_ANCHOR_FILE = None
    with override_settings(MAILERS=mailers, DEFAULT_FROM_EMAIL="carbet@centre.test"):
        yield received
    controller.stop()


def test_anchor_without_destination_is_refused_with_a_clear_message(append, settings):
    settings.CARBET_AUDIT_ANCHOR_EMAIL, settings.CARBET_AUDIT_ANCHOR_FILE = [], None
    append(1)
    with pytest.raises(CommandError, match="Aucune destination"):
        call_command("audit", "anchor", stdout=StringIO())


def test_file_sink_is_append_only_and_idempotent(append, sink_file):
    append(2)
    call_command("audit", "anchor", stdout=StringIO())
    call_command("audit", "anchor", stdout=StringIO())  # nothing new: nothing appended
    assert len(sink_file.read_text().splitlines()) == 1
    append(1)
    call_command("audit", "anchor", stdout=StringIO())
    lines = sink_file.read_text().splitlines()
    assert len(lines) == 2 and "seq=2 " in lines[0] and "seq=3 " in lines[1]
    assert (sink_file.stat().st_mode & 0o777) == 0o600
    out = StringIO()
    call_command("audit", "verify", "--anchor", str(sink_file), stdout=out)
    assert "2 ancre(s) externe(s)" in out.getvalue() and "intact" in out.getvalue()


def test_external_anchor_detects_a_rewrite_by_someone_who_has_the_key(append, sink_file):
    """The worst case: the attacker reads the key, truncates the trail and re-signs the local
    anchor. Locally everything agrees; the line kept on the other machine does not."""
    append(5)
    call_command("audit", "anchor", stdout=StringIO())
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence > 2")
    services.reanchor()  # signed with the (stolen) key
    assert services.verify().ok
    report = services.verify(anchor_file=sink_file)
    assert "entrées 3 à 5 supprimées (d'après" in problems_text(report)


def test_forged_and_damaged_anchor_lines_are_reported(append, sink_file):
    append(2)
    call_command("audit", "anchor", stdout=StringIO())
    line = sink_file.read_text().strip()
    forged = line.replace("seq=2 ", "seq=1 ")
    sink_file.write_text(f"{line}\n{forged}\ncarbet-audit-anchor v2 abîmée\n")
    text = problems_text(services.verify(anchor_file=sink_file))
    assert "signature invalide" in text and "ligne 3 : ancre illisible" in text


def test_broken_chain_is_never_published(append, sink_file):
    append(3)
    with triggers_lifted():
        raw("UPDATE audit_auditentry SET action = 'forged' WHERE sequence = 2")
    with pytest.raises(CommandError, match="aucune ancre envoyée"):
        call_command("audit", "anchor", stdout=StringIO())
    assert not sink_file.exists()


@pytest.mark.realserver
def test_anchor_email_reaches_a_real_smtp_server(append, inbox, tmp_path):
    append(3)
    out = StringIO()
    call_command("audit", "anchor", stdout=out)
    assert "rssi@centre.test" in out.getvalue()
    assert len(inbox) == 1
    recipients, message = inbox[0]
    assert recipients == ["rssi@centre.test"]
    assert message["Subject"] == "Carbet : ancre du journal d'audit n° 3"
    body = message.get_content()
    # The centre saves the e-mail as it came: verify reads the anchor out of it.
    saved = tmp_path / "courriel.eml"
    saved.write_bytes(message.as_bytes())
    assert "carbet-audit-anchor v2" in body
    assert services.verify(anchor_file=saved).ok
    exported = tmp_path / "export.mbox"  # a mail client's export of the folder
    box = mailbox.mbox(exported)
    box.add(message.as_bytes())
    box.close()
    assert services.verify(anchor_file=exported).ok
    call_command("audit", "anchor", stdout=StringIO())
    assert len(inbox) == 1  # idempotent


@pytest.mark.realserver
def test_a_broken_chain_sends_an_alert_instead(append, inbox):
    append(2)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence = 1")
    with pytest.raises(CommandError):
        call_command("audit", "anchor", stdout=StringIO())
    assert len(inbox) == 1
    assert inbox[0][1]["Subject"] == "ALERTE Carbet : journal d'audit altéré"


# --- the parser of exported anchors reads untrusted text -------------------------------------
@hsettings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parse_exports_never_raises_on_arbitrary_text(text):
    found, damaged = anchor.parse_exports(text)
    assert all(isinstance(n, int) for n in damaged)
    for head in found:
        assert len(head.entry_hash) == 64 and head.sequence >= 0


@hsettings(max_examples=100, deadline=None)
@given(
    sequence=st.integers(min_value=1, max_value=10**15),
    seal=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    before=st.text(
        alphabet=st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        max_size=30,
    ),
)
def test_exported_lines_round_trip_and_verify_their_tag(sequence, seal, before):
    import datetime as dt

    key = keyring.AuditKey("0123456789ab", b"s" * 43)
    line = anchor.export_line(sequence, seal, key, dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    found, damaged = anchor.parse_exports(f"{before}\n> {line}\n")
    assert damaged == [] and len(found) == 1
    assert (found[0].sequence, found[0].entry_hash) == (sequence, seal)
    assert anchor.export_tag_valid(found[0], {key.id: key.secret})
    assert not anchor.export_tag_valid(found[0], {key.id: b"t" * 43})


@hsettings(max_examples=200, deadline=None)
@given(st.binary(max_size=600) | st.builds(lambda b: b"From x\n" + b, st.binary(max_size=300)))
def test_anchor_files_of_any_content_are_read_without_error(data):
    anchor.parse_exports(anchor.anchor_file_text(data))
