"""A shop owner in a real browser, under the Content Security Policy: signs in, opens the
account settings, turns on two-factor by scanning (reading) the key, signs out and signs in
again with a code. Headless Debian Chromium via Playwright."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import totp

from sellers.models import MemberRole
from tests.factories import PASSWORD, SellerMemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _code(secret: str, ahead: int = 0) -> str:
    return f"{totp(b32decode(secret), 30, 0, 6, ahead):06d}"


def test_owner_turns_on_two_factor_and_signs_in_with_a_code(live_server, browser, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    owner = SellerMemberFactory(role=MemberRole.OWNER).user
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")
    page.goto(f"{live_server.url}/accounts/settings/")
    assert page.locator("h1").inner_text() == "Account settings"

    page.click("text=Turn on")
    page.wait_for_url("**/accounts/settings/two-factor/")  # the click navigates; wait for the page
    page.locator("svg.segno").wait_for()
    assert page.locator("svg.segno").count() == 1
    secret = page.locator("code").inner_text()
    page.fill("#id_code", _code(secret))
    with page.expect_navigation():
        page.click("form[action='/accounts/settings/two-factor/'] button[type=submit]")
    assert "Two-factor sign-in is on" in page.content()

    page.click("summary:has-text('Account')")  # the account menu
    with page.expect_navigation():
        page.click("text=Sign out")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")
    assert page.url.endswith("/accounts/login/code/")
    page.fill("#id_code", _code(secret, ahead=1))
    with page.expect_navigation():
        page.click("form[action='/accounts/login/code/'] button[type=submit]")

    page.goto(f"{live_server.url}/accounts/settings/")
    assert page.url.endswith("/accounts/settings/")
