"""Charts write decimals the way the reader's language does (RGAA/issue 17: no decimal point
next to commas in French, no comma decimals in English)."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from carbet.engines import charts
from carbet.web.middleware import ChartLanguageMiddleware


def _render_under(language: str) -> str:
    def view(_request):
        svg = charts.bar_chart("t", "d", ["A", "B"], [1.5, 2.25])
        return HttpResponse(svg)

    with translation.override(language):
        response = ChartLanguageMiddleware(view)(RequestFactory().get("/"))
    return response.content.decode()


def test_french_charts_use_a_decimal_comma():
    assert "1,5" in _render_under("fr")


def test_english_charts_use_a_decimal_point():
    body = _render_under("en")
    assert "1.5" in body and "1,5" not in body


def test_the_separator_does_not_leak_out_of_the_request():
    _render_under("en")
    assert charts.DECIMAL_SEPARATOR.get() == ","
