"""Pure engines: sanitiser, .eml parsing, token extraction, tokens, Phish Scale, bots, schedule,
lure policy. Parsers of untrusted input get hypothesis tests."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.awareness import (
    bots,
    eml,
    landing,
    lures,
    phishscale,
    reports,
    schedule,
    tokens,
)

PARIS = schedule.PARIS
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- landing-page sanitiser -----------------------------------------------------------------

HOSTILE = """<html><head><base href="http://evil/"><meta http-equiv=refresh content="0;url=x">
<script>steal()</script><style>body{}</style></head><body onload="x()">
<form action="https://evil.example/collect" method=get onsubmit="grab()">
<input name=login><input type=password name=pw value=secret1>
<input type="PASSWORD" name="p2"><input name="mot_de_passe"><input id=pwd>
<textarea name=comment>hello</textarea><select name=site><option>A</option></select>
<button name=go value=1 formaction="https://evil/">OK</button></form>
<a href="javascript:alert(1)">x</a><a href="https://ok.example/">ok</a>
<img src="https://tracker.example/p.gif"><iframe src="https://x"></iframe>
<svg><script>1</script></svg><div style="color:red" class=keep>kept</div></body></html>"""


def test_sanitiser_strips_every_way_out_for_a_typed_value():
    page = landing.sanitize(HOSTILE, "/s/TOKEN/submit")
    html = page.html.lower()
    assert "script" not in html and "<style" not in html and "iframe" not in html
    assert "evil" not in html and "javascript:" not in html and "onload" not in html
    assert "style=" not in html and "formaction" not in html and "tracker" not in html
    assert html.count('action="/s/token/submit"') == 1
    assert 'method="post"' in html
    for tag in re.findall(r"<(?:input|select|textarea|button)\b[^>]*>", html):
        assert " name=" not in tag and " value=" not in tag, tag
    assert "secret1" not in html
    assert page.stripped_names == 7  # login, pw, p2, mot_de_passe, comment, site, go
    # Fields that look like a secret are shown masked.
    assert html.count('type="password"') == 4
    assert "kept" in page.html and 'class="keep"' in page.html


@FUZZ
@given(st.text(max_size=2000))
def test_sanitiser_never_outputs_a_named_field_or_script(text):
    page = landing.sanitize(text, "/s/T/submit")
    lowered = page.html.lower()
    assert "<script" not in lowered and "javascript:" not in lowered
    for tag in re.findall(r"<(?:input|select|textarea|button)\b[^>]*>", lowered):
        assert " name=" not in tag
    for action in re.findall(r'action="([^"]*)"', lowered):
        assert action == "/s/t/submit"


TAGS = st.sampled_from(["form", "input", "a", "script", "div", "img", "textarea", "style", "p"])
ATTRS = st.sampled_from(
    ["name", "type", "action", "onclick", "href", "value", "style", "src", "formaction", "id"]
)
VALUES = st.sampled_from(["password", "pw", "javascript:x()", "https://evil/", "mdp", "x", ""])


@FUZZ
@given(st.lists(st.tuples(TAGS, st.lists(st.tuples(ATTRS, VALUES), max_size=4)), max_size=30))
def test_sanitiser_on_generated_markup(elements):
    html = "".join(
        f"<{tag} " + " ".join(f'{a}="{v}"' for a, v in attrs) + f">t</{tag}>"
        for tag, attrs in elements
    )
    page = landing.sanitize(html, "/s/T/submit")
    lowered = page.html.lower()
    assert "onclick=" not in lowered and "style=" not in lowered and "formaction" not in lowered
    for _attr, url in re.findall(r'(href|src|action)="([^"]*)"', lowered):
        assert "evil" not in url and "javascript" not in url
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", lowered):
        assert " name=" not in tag and " value=" not in tag


# --- .eml import ---------------------------------------------------------------------------


def _eml() -> bytes:
    message = EmailMessage()
    message["From"] = '"Support DMP" <support@dmp-faux.test>'
    message["Subject"] = "Document en attente"
    message.set_content("Bonjour, cliquez ici : https://faux.test/x")
    message.add_alternative("<p>Bonjour <a href='https://faux.test/x'>ici</a></p>", subtype="html")
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="doc.pdf")
    return message.as_bytes()


def test_eml_is_read():
    parsed = eml.parse_eml(_eml())
    assert parsed.ok and parsed.subject == "Document en attente"
    assert "support@dmp-faux.test" in parsed.sender
    assert "cliquez" in parsed.text and "<a" in parsed.html and parsed.attachments == ["doc.pdf"]


@FUZZ
@given(st.binary(max_size=3000))
def test_eml_parser_never_raises_on_garbage(data):
    parsed = eml.parse_eml(data)
    assert isinstance(parsed, eml.ParsedEmail)
    assert parsed.ok or parsed.error


@FUZZ
@given(st.binary(max_size=500), st.integers(min_value=0, max_value=400))
def test_eml_parser_survives_truncation_and_corruption(noise, cut):
    data = _eml()
    mangled = data[: len(data) - cut] + noise
    parsed = eml.parse_eml(mangled)
    assert parsed.ok or parsed.error


def test_eml_refuses_huge_and_empty_files():
    assert not eml.parse_eml(b"").ok
    assert not eml.parse_eml(b"Subject: x\r\n\r\n" + b"a" * (eml.MAX_EML_BYTES + 1)).ok


# --- tokens and report extraction ------------------------------------------------------------


def test_tokens_are_long_random_and_stored_as_digests():
    drawn = {tokens.new_token() for _ in range(2000)}
    assert len(drawn) == 2000
    token = drawn.pop()
    assert tokens.looks_like_token(token) and len(token) == 32  # 24 bytes = 192 bits
    assert tokens.matches(token, tokens.digest(token))
    assert not tokens.matches(token[:-1] + ("A" if token[-1] != "A" else "B"), tokens.digest(token))
    assert not tokens.looks_like_token("../../etc/passwd")


def _report_with(token: str, how: str) -> bytes:
    link = f"https://carbet.example/s/{token}/c"
    inner = EmailMessage()
    inner["Subject"] = "Nouveau document"
    inner["From"] = "support@faux.test"
    inner.set_content(f"Consultez : {link}")
    outer = EmailMessage()
    outer["Subject"] = "TR: Nouveau document"
    outer["From"] = "agent@alpha.test"
    if how == "inline":
        outer.set_content(f"---- Message transféré ----\n{link}\n")
    elif how == "safelinks":
        from urllib.parse import quote

        wrapped = (
            "https://eur02.safelinks.protection.outlook.com/?url="
            f"{quote(link, safe='')}&data=05%7C01&reserved=0"
        )
        outer.set_content("Voir le message")
        outer.add_alternative(f'<a href="{wrapped}">lien</a>', subtype="html")
    elif how == "rfc822":
        outer.set_content("Message suspect en pièce jointe")
        outer.add_attachment(inner)
    elif how == "eml":
        outer.set_content("Ci-joint")
        outer.add_attachment(
            inner.as_bytes(),
            maintype="application",
            subtype="octet-stream",
            filename="suspect.eml",
        )
    elif how == "quoted-printable":
        outer.set_content(f"Lien : {link} " + "é" * 80, cte="quoted-printable")
    return outer.as_bytes()


def test_report_tokens_are_found_however_the_mail_was_forwarded():
    token = tokens.new_token()
    for how in ("inline", "safelinks", "rfc822", "eml", "quoted-printable"):
        assert reports.tokens_in_report(_report_with(token, how)) == {token}, how


@FUZZ
@given(st.binary(max_size=3000))
def test_report_extraction_never_raises(data):
    assert isinstance(reports.tokens_in_report(data), set)


@FUZZ
@given(st.text(max_size=400), st.text(max_size=400))
def test_report_extraction_finds_a_token_in_any_surrounding_text(before, after):
    token = tokens.new_token()
    text = f"{before} https://c.example/s/{token}/c {after}"
    assert token in reports.tokens_in_text(text)


# --- NIST Phish Scale, lure policy ----------------------------------------------------------


def test_phish_scale_matrix():
    strong = phishscale.PremiseAlignment(8, 8, 4, 2)
    weak = phishscale.PremiseAlignment(1, 1, 1, 1)
    assert phishscale.rate(3, strong) == phishscale.Difficulty.VERY
    assert phishscale.rate(20, weak) == phishscale.Difficulty.LEAST
    assert phishscale.rate(20, strong) == phishscale.Difficulty.MODERATE
    trained = phishscale.PremiseAlignment(8, 8, 4, 2, recent_training=8)
    assert phishscale.premise_band(trained.score()) == "medium"


def test_lure_policy_refuses_pay_and_sanctions():
    assert lures.forbidden_themes("Votre prime de fin d'année") == ["prime"]
    assert "salaire" in lures.forbidden_themes("Bulletin de SALAIRE disponible")
    assert "sanction" in lures.forbidden_themes("Procédure de sanction")
    assert lures.forbidden_themes("Nouveau document partagé dans le DMP") == []
    assert lures.forbidden_themes("Le primaire est fermé") == []


# --- bot clicks -------------------------------------------------------------------------------

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _click(**overrides) -> bots.Click:
    values = dict(
        at=T0 + dt.timedelta(minutes=5),
        delivered_at=T0,
        ip="192.0.2.10",
        user_agent="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0",
        followed_up=True,
        beacon=True,
    )
    values.update(overrides)
    return bots.Click(**values)


def test_bot_reasons():
    rules = bots.BotRules(networks=("198.51.100.0/24",))
    later = T0 + dt.timedelta(hours=1)
    assert bots.classify(_click(), rules, later) == []
    fast = _click(at=T0 + dt.timedelta(seconds=2))
    assert bots.BotReason.TOO_FAST in bots.classify(fast, rules, later)
    assert bots.classify(_click(ip="198.51.100.7"), rules, later) == [
        bots.BotReason.SCANNER_NETWORK
    ]
    assert bots.classify(_click(user_agent="python-requests/2.32"), rules, later) == [
        bots.BotReason.SCANNER_AGENT
    ]
    assert bots.classify(_click(followed_up=False, beacon=False), rules, later) == [
        bots.BotReason.NO_FOLLOW_UP
    ]
    assert bots.classify(_click(beacon=False), rules, later) == [bots.BotReason.NO_BEACON]
    # Within the grace period a missing beacon proves nothing yet.
    early = _click(beacon=False).at + dt.timedelta(seconds=30)
    assert bots.classify(_click(beacon=False), rules, early) == []


# --- sending schedule -----------------------------------------------------------------------


def test_schedule_stays_inside_business_hours_and_the_deadline():
    window = schedule.SendingWindow()
    launch = dt.datetime(2026, 3, 6, 16, 0, tzinfo=PARIS)  # a Friday, 16:00
    send_by = dt.datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)  # next Tuesday noon
    times = schedule.plan(500, launch, send_by, window, rng=random.Random(7))
    assert times == sorted(times) and len(times) == 500
    assert all(schedule.within(t, window) for t in times)
    assert all(launch <= t <= send_by for t in times)
    assert {t.astimezone(PARIS).weekday() for t in times} == {0, 1, 4}  # no weekend
    assert len({t.date() for t in times}) == 3


def test_schedule_throttle_spaces_messages():
    window = schedule.ALWAYS
    launch = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    times = schedule.plan(50, launch, None, window, per_minute=30)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 2.0 - 1e-6


def test_schedule_without_any_open_slot_is_refused():
    window = schedule.SendingWindow()
    saturday = dt.datetime(2026, 3, 7, 10, 0, tzinfo=PARIS)
    try:
        schedule.plan(3, saturday, saturday + dt.timedelta(hours=20), window)
    except schedule.ScheduleError:
        return
    raise AssertionError("a weekend-only span must be refused")
