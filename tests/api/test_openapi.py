"""The OpenAPI schema and the documentation page (local assets, strict CSP, no CDN)."""

from __future__ import annotations

import re
import shutil

import pytest
from django.test import Client

from carbet.api.urls import api_route_inventory
from tests.api.conftest import API


def test_openapi_json_is_served_and_lists_every_route(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"] == {
        "title": "Carbet API",
        "version": "1",
        "description": schema["info"]["description"],
    }
    documented = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert set(api_route_inventory()) == documented
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_inventory_covers_the_brief(db):
    inventory = set(api_route_inventory())
    for route in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/structures"),
        ("POST", "/api/v1/structures/{id}/assets"),
        ("POST", "/api/v1/assets/{id}/validate"),
        ("POST", "/api/v1/structures/{id}/mandates"),
        ("GET", "/api/v1/mandates/{id}/document"),
        ("GET", "/api/v1/jobs/{id}"),
        ("GET", "/api/v1/aggregates"),
    ]:
        assert route in inventory


def test_docs_page_uses_local_assets_and_no_inline_script(db):
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Content-Security-Policy" in response
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        attributes, body = script
        # Either an external local file, or a JSON data block (never executed).
        assert "src=" in attributes or 'type="application/json"' in attributes, script
        assert "src=" in attributes or body.strip().startswith("{")
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"
    assert "style=" not in html
    for path in sources:
        assert Client().get(path).status_code == 200, path


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
def test_docs_page_renders_under_the_csp_in_a_browser(live_server, transactional_db):
    """Headless Chromium loads the page with the real CSP: no violation, routes listed."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium())
        page = browser.new_page()
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
        outside: list[str] = []
        page.on(
            "request",
            lambda request: (
                outside.append(request.url)
                if not request.url.startswith(live_server.url)
                and not request.url.startswith("data:")
                else None
            ),
        )
        page.goto(f"{live_server.url}{API}/docs")
        page.locator(".opblock-summary-path").first.wait_for(timeout=20_000)
        text = page.inner_text("body")
        browser.close()
    assert "Carbet API" in text and "/api/v1/structures/{id}/assets" in text
    assert not outside, outside
    assert not problems, problems
