"""Players' e-mail replies come back through a real IMAP mailbox (dovecot), matched to their
exercise and inject; hostile mail never breaks the parser; the archive copy tells a restarted
clock that a message did leave."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.core.tenancy import SYSTEM
from carbet.exercises import dispatch, replies, services_console
from carbet.exercises.choices import InjectState
from carbet.exercises.mailing import message_id_of
from carbet.exercises.models import Reply
from tests.exercises.conftest import imap_append, make_profile, prepared


def _reply(to: str, *, sender="crise@alpha.test", in_reply_to="", body="Cellule activée") -> bytes:
    message = EmailMessage()
    message["From"] = f"Joueur Crise <{sender}>"
    message["To"] = to
    message["Subject"] = "RE: [EXERCICE] Écrans noirs"
    message["Message-ID"] = f"<reply-{abs(hash((to, in_reply_to, body)))}@alpha.test>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(f"{body}\n\n> citation")
    return message.as_bytes()


@given(st.binary(max_size=3000))
@settings(max_examples=200, deadline=None)
def test_hostile_bytes_never_break_the_matcher(raw):
    matched, _message = replies.match_reply(raw)
    assert matched is None or matched.inject_id >= 0


@given(
    st.text(max_size=200),
    st.text(alphabet="0123456789abcdef", min_size=12, max_size=12),
    st.integers(min_value=1, max_value=10**9),
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_sub_address_is_found_among_any_headers(noise, key, inject):
    to = f"reponses+{key}-{inject}@exercice.lab.test"
    raw = _reply(f"{to}, autre@x.test")
    matched, _message = replies.match_reply(raw + noise.encode("utf-8", "replace"))
    assert matched is not None and (matched.reply_key, matched.inject_id) == (key, inject)


@pytest.mark.django_db
@pytest.mark.realserver
def test_a_reply_comes_back_through_imap_into_the_log(region, version, smtp, imap_server):
    profile = make_profile(smtp, imap_server)
    exercise = prepared(region.a, version, profile)
    services_console.start(SYSTEM, exercise)
    dispatch.run_clock({"exercise": exercise.pk}, once=True)
    first = exercise.injects.get(ref="I1")
    sent = next(r for r in smtp.messages if r.message["Message-ID"] == first.message_id)
    # The archive is a recipient of the same SMTP transaction.
    assert profile.reply_address in sent.envelope_to
    imap_append(imap_server, sent.message.as_bytes())  # what the archive mailbox received
    imap_append(imap_server, _reply(str(sent.message["Reply-To"])))
    imap_append(
        imap_server, _reply("x@y.test", in_reply_to=first.message_id, body="Via References")
    )
    imap_append(imap_server, _reply("reponses+000000000000-1@exercice.lab.test", body="Inconnue"))
    result = replies.poll(profile)
    assert result.errors == [] and result.replies == 2 and result.unknown == 2
    rows = list(Reply.objects.filter(exercise=exercise).order_by("id"))
    assert [r.inject_id for r in rows] == [first.pk, first.pk]
    assert rows[0].participant.email == "crise@alpha.test" and rows[0].source == "imap"
    assert "Cellule activée" in rows[0].body
    assert exercise.log.filter(kind="reply").count() == 2
    # A second poll finds everything already read: nothing counted twice.
    assert replies.poll(profile).replies == 0
    assert Reply.objects.filter(exercise=exercise).count() == 2
    # The archive answers the restarted clock's question about a message it lost track of.
    assert replies.archived(profile, first.message_id) is True
    assert replies.archived(profile, "<inject-999.abcdefabcdef@exercice.lab.test>") is False


@pytest.mark.django_db
@pytest.mark.realserver
def test_recovery_with_an_archive_resolves_mail_injects_exactly(region, version, smtp, imap_server):
    profile = make_profile(smtp, imap_server)
    exercise = prepared(region.a, version, profile)
    services_console.start(SYSTEM, exercise)
    dispatch.run_clock({"exercise": exercise.pk}, once=True)
    first = exercise.injects.get(ref="I1")
    sent = next(r for r in smtp.messages if r.message["Message-ID"] == first.message_id)
    imap_append(imap_server, sent.message.as_bytes())
    # As if the worker died after the server's "250 OK" (I1) and before sending I4.
    old = timezone.now() - dispatch.STALE_CLAIM - dt.timedelta(seconds=5)
    exercise.injects.filter(ref__in=("I1", "I4")).update(
        state=InjectState.SENDING, claim_id="dead", claimed_at=old, due_at=old
    )
    assert dispatch.recover([exercise.pk]) == 2
    assert exercise.injects.get(ref="I1").state == InjectState.SENT  # the archive has it
    assert exercise.injects.get(ref="I4").state == InjectState.PENDING  # never left: send it
    assert message_id_of(exercise, first, profile.sender_domain) == first.message_id
