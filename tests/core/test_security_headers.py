"""Browser security headers: a Content Security Policy without inline script or style,
Referrer-Policy, Permissions-Policy; HSTS and secure cookies when not debugging."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_pages_carry_a_strict_policy_and_the_other_headers(client):
    response = client.get("/accounts/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_only_the_api_docs_widen_the_policy_and_never_for_scripts(client):
    docs = client.get("/api/v1/docs/")["Content-Security-Policy"]
    page = client.get("/")["Content-Security-Policy"]

    assert "'unsafe-inline'" in docs and "'unsafe-inline'" not in page
    assert "script-src 'self';" in docs + ";"  # scripts stay this site's own
    assert "cdn.jsdelivr.net" not in docs


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the policy would refuse in a browser (the Chromium tests run under it too)."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"<style\b", text):
            offenders.append(f"{path}: <style>")
        if re.search(r"\sstyle=[\"']", text):
            offenders.append(f"{path}: style attribute")
        if re.search(r"\son[a-z]+=[\"']", text):
            offenders.append(f"{path}: inline event handler")
    assert offenders == []


def test_production_settings_send_hsts_and_secure_cookies(monkeypatch):
    import importlib

    import shop.settings as shop_settings

    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "test-only-not-a-secret")
    monkeypatch.setenv("SHOP_TEST_PAYMENTS", "1")
    try:
        production = importlib.reload(shop_settings)
        assert production.SECURE_HSTS_SECONDS >= 365 * 24 * 3600
        assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
        assert production.SESSION_COOKIE_SECURE is True
        assert production.CSRF_COOKIE_SECURE is True
        assert production.STAFF_2FA_REQUIRED is True
    finally:
        monkeypatch.delenv("DJANGO_DEBUG")
        importlib.reload(shop_settings)


def test_hsts_goes_out_on_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    response = client.get("/accounts/login/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
