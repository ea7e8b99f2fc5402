"""Headless Debian Chromium for the browser tests, through Playwright's Python package (never
`playwright install`: `apt-get install -y chromium`, or set CHROMIUM_PATH)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class CspWatchingBrowser:
    """The browser, recording every Content Security Policy violation a page reports (Chromium
    logs each refused script, style or frame to the console): a test passes only if there was
    none, so every browser test also proves the pages work under the policy."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

    def _watch(self, page) -> None:
        def console(message) -> None:
            if "Content Security Policy" in message.text:
                self.violations.append(f"{page.url}: {message.text}")

        page.on("console", console)

    def new_page(self, **options):
        page = self._browser.new_page(**options)
        self._watch(page)
        return page

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.on("page", self._watch)
        return context


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it with `apt-get install -y chromium` "
            "(or set CHROMIUM_PATH); do not use `playwright install`."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls between
    # browser steps are plain blocking calls on the test's own database, which this allows.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        watching = CspWatchingBrowser(browser)
        try:
            yield watching
            assert watching.violations == [], "the Content Security Policy refused something"
        finally:
            browser.close()
            # While Playwright's event loop runs in this thread, Django keys its connections by
            # the loop's context, so ORM calls between browser steps open a second connection
            # that pytest-django never closes; left open, it blocks dropping the test database.
            connections.close_all()
