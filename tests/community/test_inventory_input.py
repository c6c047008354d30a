"""Property tests of what people type for a declared application (form, then service): any text
is either refused with a message on its field or stored clean, within the columns' lengths,
and normalised to a CPE without ever raising."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.community import services_inventory as services
from carbet.community.choices import Hosting
from carbet.community.forms_inventory import DeclaredLineForm
from carbet.community.models import SoftwareLine
from carbet.core.tenancy import SYSTEM

FIELDS = ("name", "vendor", "product", "version", "maintainer")
# Printable text, control characters (NUL, tabs, line breaks) and long runs.
TEXT = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=260),
    st.sampled_from(["", "   ", "\x00", "FortiOS\x00 7.0.12", "Windows\nServer\t2012 R2", "=1+1"]),
)
INPUT = st.fixed_dictionaries(
    {name: TEXT for name in FIELDS},
    optional={"hosting": st.one_of(st.sampled_from(Hosting.values), st.text(max_size=12))},
)


def _check_clean(values: dict) -> None:
    for name, limit in services.DECLARED_LIMITS.items():
        text = values[name]
        assert len(text) <= limit
        assert text == text.strip() and "  " not in text
        assert not any(ord(char) < 32 or ord(char) == 127 for char in text)
    assert values["product"]
    assert values["hosting"] in Hosting.values


@settings(max_examples=300, deadline=None)
@given(INPUT)
def test_the_service_cleans_or_refuses_any_input(data):
    try:
        cleaned = services.clean_declared(data)
    except ValidationError as exc:
        assert set(exc.message_dict) <= {*FIELDS, "hosting"}
        assert all(messages for messages in exc.message_dict.values())
        return
    _check_clean(cleaned)
    cpe = services.normalised_cpe(cleaned["vendor"], cleaned["product"], cleaned["version"])
    assert cpe == "" or (cpe.startswith("cpe:2.3:") and len(cpe) <= 300)


@settings(max_examples=300, deadline=None)
@given(INPUT)
def test_the_form_then_the_service(data):
    form = DeclaredLineForm(data)
    if not form.is_valid():
        assert form.errors
        return
    try:
        _check_clean(services.clean_declared(form.values()))
    except ValidationError as exc:
        assert set(exc.message_dict) <= {*FIELDS, "hosting"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(INPUT)
def test_accepted_input_is_stored_as_cleaned(region, data):
    try:
        line = services.create_line(SYSTEM, region.a, data)
    except ValidationError:
        return
    stored = SoftwareLine.objects.get(pk=line.pk)
    _check_clean({name: getattr(stored, name) for name in (*FIELDS, "hosting")})
    assert stored.cpe == services.normalised_cpe(stored.vendor, stored.product, stored.version)
