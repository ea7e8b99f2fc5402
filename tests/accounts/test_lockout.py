"""Brute-force lockout on every face that takes a password: per account and per client address,
the same answer for accounts that exist and ones that do not, backoff, and a reset after the
window."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_LOCKOUT_SECONDS = 60
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 3600


def _form(client, email, password, addr="10.0.0.1"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=addr
    )


def _api(api_client, email, password, addr="10.0.0.1"):
    return api_client.post(
        "/api/v1/auth/token/", {"username": email, "password": password}, REMOTE_ADDR=addr
    )


def test_form_locks_the_account_after_the_limit_even_with_the_right_password(client):
    UserFactory(email="sam@example.com")
    for _ in range(LIMIT - 1):
        assert _form(client, "sam@example.com", "wrong").status_code == 200
    assert _form(client, "sam@example.com", "wrong").status_code == 429  # the LIMITth

    locked = _form(client, "sam@example.com", PASSWORD)

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 60
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_api_token_endpoint_locks_out_with_the_error_shape(api_client):
    UserFactory(email="sam@example.com")
    for _ in range(LIMIT - 1):
        assert _api(api_client, "sam@example.com", "wrong").status_code == 400
    assert _api(api_client, "sam@example.com", "wrong").status_code == 429

    locked = _api(api_client, "sam@example.com", PASSWORD)

    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert "Retry-After" in locked


def test_an_unknown_account_is_locked_out_the_same_way(api_client):
    UserFactory(email="sam@example.com")
    answers = {}
    for email in ("sam@example.com", "nobody@example.com"):
        for i in range(LIMIT + 1):
            response = _api(api_client, email, "wrong", addr=f"10.0.{len(answers)}.{i}")
        answers[email] = (response.status_code, response.json())

    assert answers["sam@example.com"] == answers["nobody@example.com"]
    assert answers["nobody@example.com"][0] == 429


def test_one_address_guessing_many_accounts_is_locked_out(client):
    UserFactory(email="victim@example.com")
    for i in range(LIMIT):
        _form(client, f"guess{i}@example.com", "wrong", addr="10.9.9.9")

    from_that_address = _form(client, "victim@example.com", PASSWORD, addr="10.9.9.9")
    from_elsewhere = _form(client, "victim@example.com", PASSWORD, addr="10.1.1.1")

    assert from_that_address.status_code == 429
    assert from_elsewhere.status_code == 302


def test_the_client_address_is_read_behind_the_trusted_proxy(client, settings):
    settings.SHOP_TRUSTED_PROXY_COUNT = 1
    UserFactory(email="sam@example.com")
    for i in range(LIMIT):
        client.post(
            reverse("accounts:login"),
            {"username": f"x{i}@example.com", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 6.6.6.6",  # the client forges the left part
        )

    response = client.post(
        reverse("accounts:login"),
        {"username": "sam@example.com", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )

    assert response.status_code == 429


def test_the_lockout_ends_after_the_window(client, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    UserFactory(email="sam@example.com")
    for _ in range(LIMIT):
        _form(client, "sam@example.com", "wrong")
    assert _form(client, "sam@example.com", PASSWORD).status_code == 429

    time.sleep(2.2)

    assert _form(client, "sam@example.com", PASSWORD).status_code == 302


def test_attempts_while_locked_out_lengthen_the_lockout(api_client):
    UserFactory(email="sam@example.com")
    first = None
    for _ in range(LIMIT):
        first = _api(api_client, "sam@example.com", "wrong")
    first = _api(api_client, "sam@example.com", "wrong")
    for _ in range(2 * LIMIT):
        later = _api(api_client, "sam@example.com", "wrong")

    assert int(later["Retry-After"]) > int(first["Retry-After"])
    assert int(later["Retry-After"]) <= 3600


def test_admin_sign_in_is_locked_out_too(client):
    UserFactory(email="staff@example.com", is_staff=True)
    url = reverse("admin:login")
    for _ in range(LIMIT):
        client.post(url, {"username": "staff@example.com", "password": "wrong"})

    response = client.post(url, {"username": "staff@example.com", "password": PASSWORD})

    assert response.status_code == 429
