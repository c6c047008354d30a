"""Reports through a real IMAP mailbox: Debian's dovecot on loopback, started once per session
with a throw-away configuration; reported mails are delivered into it with IMAP APPEND (as a
mail client would file them) in every forwarding shape, then polled by Carbet."""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
from django.utils import timezone

from carbet.awareness import imap_reporting, results
from carbet.awareness.models import Recipient, ReportingMailbox
from carbet.engines.awareness import tokens
from tests.awareness.helpers import sent_campaign

pytestmark = pytest.mark.realserver
USER, PASSWORD = "signalement", "imap-pass-42"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def imap_server():
    if not os.path.exists(DOVECOT):
        if _in_ci():
            pytest.fail("dovecot is missing: the IMAP test cannot be skipped in CI")
        pytest.skip("dovecot is not installed")
    root = Path(tempfile.mkdtemp(prefix="carbet-dovecot-"))
    os.chmod(root, 0o755)
    (root / "mail").mkdir()
    port = _port()
    if os.geteuid() == 0:
        # Dovecot never gives mail access to root: mail is handled as "nobody".
        uid = gid = 65534
        os.chown(root / "mail", uid, gid)
        users = ""
    else:
        uid, gid = os.getuid(), os.getgid()
        name = pwd.getpwuid(uid).pw_name
        users = f"default_internal_user = {name}\ndefault_login_user = {name}\n"
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
{users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.1)
    yield {"host": "127.0.0.1", "port": port, "root": root}
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


def _append(server, raw: bytes) -> None:
    client = imaplib.IMAP4(server["host"], server["port"], timeout=10)
    client.login(USER, PASSWORD)
    client.append("INBOX", None, None, raw)
    client.logout()


def _forward(token: str, how: str) -> bytes:
    link = f"https://carbet.example/s/{token}/c"
    original = EmailMessage()
    original["Subject"] = "Nouveau document partagé"
    original["From"] = "support@faux.test"
    original.set_content(f"Consultez : {link}")
    report = EmailMessage()
    report["Subject"] = "TR: Nouveau document partagé"
    report["From"] = "agent@alpha-mail.test"
    report["To"] = "signalement@alpha-mail.test"
    if how == "safelinks":
        report.set_content("Suspect ?")
        wrapped = f"https://eur01.safelinks.protection.outlook.com/?url={quote(link, safe='')}"
        report.add_alternative(f'<p><a href="{wrapped}">document</a></p>', subtype="html")
    elif how == "attachment":
        report.set_content("Message suspect en pièce jointe.")
        report.add_attachment(original)
    else:
        report.set_content(f"> {link}")
    return report.as_bytes()


def test_forwarded_reports_are_matched_from_the_mailbox(region, smtp, imap_server):
    campaign, sent = sent_campaign(region, smtp, 4)
    safelinked, attached, inline, silent = sorted(sent.values())
    mailbox = ReportingMailbox.objects.create(
        name="Signalement",
        host=imap_server["host"],
        port=imap_server["port"],
        security="none",
        username=USER,
        password=PASSWORD,
    )
    _append(imap_server, _forward(safelinked, "safelinks"))
    _append(imap_server, _forward(attached, "attachment"))
    _append(imap_server, _forward(inline, "inline"))
    _append(imap_server, _forward(inline, "inline"))  # reported twice: counted once
    _append(imap_server, b"Subject: rien\r\n\r\nAucun lien ici.\r\n")
    _append(imap_server, b"\x00\xff garbage \r\n\r\n" * 50)
    outcome = imap_reporting.poll(mailbox)
    assert outcome.errors == []
    assert outcome.messages == 6 and outcome.reports == 4 and outcome.unknown == 2
    reported = {
        t
        for t in (safelinked, attached, inline, silent)
        if Recipient.objects.get(token_digest=tokens.digest(t)).reported_at
    }
    assert reported == {safelinked, attached, inline}
    recipient = Recipient.objects.get(token_digest=tokens.digest(attached))
    assert recipient.report_source == "mailbox"
    assert recipient.reported_at <= timezone.now() + dt.timedelta(seconds=1)
    numbers = results.funnel(campaign)
    assert numbers.reported == 3 and numbers.median_minutes_to_report is not None
    again = imap_reporting.poll(mailbox)  # everything was marked seen
    assert again.messages == 0 and again.reports == 0


def test_a_wrong_password_is_an_error_on_the_mailbox_not_a_crash(db, imap_server):
    mailbox = ReportingMailbox.objects.create(
        name="Mauvais",
        host=imap_server["host"],
        port=imap_server["port"],
        security="none",
        username=USER,
        password="wrong",
    )
    outcome = imap_reporting.poll(mailbox)
    assert outcome.errors and outcome.reports == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error and mailbox.last_polled_at
