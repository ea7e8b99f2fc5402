"""The API docs render in Chromium with every request outside the live server refused: Swagger
UI and ReDoc come from drf-spectacular-sidecar's static files, not a CDN."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _offline_page(browser, live_server, refused: list[str]):
    page = browser.new_page(viewport={"width": 1366, "height": 900})

    def route(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return page


def test_swagger_ui_renders_offline(live_server, browser, tmp_path):
    refused: list[str] = []
    page = _offline_page(browser, live_server, refused)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.locator(".opblock-summary-path", has_text="/api/v1/checkouts/").first.wait_for()
    assert page.locator(".opblock").count() > 20
    page.screenshot(path=str(tmp_path / "swagger.png"))
    assert refused == []
    assert errors == []


def test_redoc_renders_offline(live_server, browser):
    refused: list[str] = []
    page = _offline_page(browser, live_server, refused)
    page.goto(f"{live_server.url}/api/v1/redoc/")
    page.get_by_text("Marketplace API").first.wait_for()
    page.locator("[data-section-id]").first.wait_for()
    # ReDoc's bundle hard-codes its "API docs by Redocly" logo image; it hides it when the
    # image fails, as it does offline. Nothing the page needs comes from elsewhere.
    assert [url for url in refused if not url.endswith("/redoc/logo-mini.svg")] == []
