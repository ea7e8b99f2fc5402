"""API tokens: one per device, expiring, listed and revoked by their owner, all revoked by a
password change, the device's own by signing out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_tokens_delete_expired
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(email: str, password: str = PASSWORD, device: str = "phone") -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": email, "password": password, "device": device}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    return client, body


def test_a_token_is_per_device_stored_as_a_digest_and_expires(settings):
    user = UserFactory(email="sam@example.com")
    _, phone = sign_in("sam@example.com", device="phone")
    _, tablet = sign_in("sam@example.com", device="tablet")

    assert phone["token"] != tablet["token"]
    stored = ApiToken.objects.get(user=user, name="phone")
    assert phone["token"] not in (stored.digest, stored.token_key)
    ttl = stored.expiry - timezone.now()
    assert timedelta(seconds=settings.API_TOKEN_TTL_SECONDS - 60) < ttl
    assert ttl <= timedelta(seconds=settings.API_TOKEN_TTL_SECONDS)


def test_an_expired_token_is_refused_and_swept():
    UserFactory(email="sam@example.com")
    client, _body = sign_in("sam@example.com")
    assert client.get("/api/v1/me/").status_code == 200

    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert api_tokens_delete_expired() == 1
    assert not ApiToken.objects.exists()


def test_list_and_revoke_one_token():
    UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com", device="phone")
    tablet, _ = sign_in("sam@example.com", device="tablet")

    listed = phone.get("/api/v1/auth/tokens/").json()
    assert {(t["name"], t["current"]) for t in listed} == {("phone", True), ("tablet", False)}
    tablet_id = next(t["id"] for t in listed if t["name"] == "tablet")

    assert phone.delete(f"/api/v1/auth/tokens/{tablet_id}/").status_code == 204

    assert tablet.get("/api/v1/me/").status_code == 401
    assert phone.get("/api/v1/me/").status_code == 200


def test_another_users_token_cannot_be_revoked():
    UserFactory(email="sam@example.com")
    UserFactory(email="eve@example.com")
    sam, _ = sign_in("sam@example.com")
    eve, _ = sign_in("eve@example.com")
    sams_id = sam.get("/api/v1/auth/tokens/").json()[0]["id"]

    response = eve.delete(f"/api/v1/auth/tokens/{sams_id}/")

    assert response.status_code == 404
    assert sam.get("/api/v1/me/").status_code == 200


def test_logout_revokes_the_token_of_the_request_only():
    UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com", device="phone")
    tablet, _ = sign_in("sam@example.com", device="tablet")

    assert phone.post("/api/v1/auth/logout/").status_code == 204

    assert phone.get("/api/v1/me/").status_code == 401
    assert tablet.get("/api/v1/me/").status_code == 200


def test_logout_all_revokes_every_token():
    UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com", device="phone")
    tablet, _ = sign_in("sam@example.com", device="tablet")

    assert phone.post("/api/v1/auth/logout-all/").status_code == 204

    assert phone.get("/api/v1/me/").status_code == 401
    assert tablet.get("/api/v1/me/").status_code == 401


def test_a_password_change_revokes_every_token_and_answers_a_new_one():
    UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com", device="phone")
    tablet, _ = sign_in("sam@example.com", device="tablet")

    response = phone.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": "a-new-long-passphrase"},
    )

    assert response.status_code == 200, response.json()
    assert phone.get("/api/v1/me/").status_code == 401
    assert tablet.get("/api/v1/me/").status_code == 401
    phone.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert phone.get("/api/v1/me/").status_code == 200
    assert ApiToken.objects.get().name == "phone"


def test_a_password_change_needs_the_current_password():
    UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com")

    response = phone.post(
        "/api/v1/auth/password/change/",
        {"current_password": "wrong", "new_password": "a-new-long-passphrase"},
    )

    assert response.status_code == 400
    assert "current_password" in response.json()["fields"]
    assert phone.get("/api/v1/me/").status_code == 200


def test_a_storefront_password_change_signs_every_app_out(client):
    user = UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com")
    client.force_login(user)

    response = client.post(
        "/accounts/settings/password/",
        {
            "current_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )

    assert response.status_code == 302
    assert phone.get("/api/v1/me/").status_code == 401
    assert client.get("/accounts/settings/").status_code == 200  # this session stays


def test_tokens_past_the_per_user_limit_revoke_the_oldest(settings):
    settings.API_TOKENS_PER_USER = 2
    UserFactory(email="sam@example.com")
    first, _ = sign_in("sam@example.com", device="one")
    sign_in("sam@example.com", device="two")
    sign_in("sam@example.com", device="three")

    assert set(ApiToken.objects.values_list("name", flat=True)) == {"two", "three"}
    assert first.get("/api/v1/me/").status_code == 401


def test_the_settings_page_lists_and_revokes_app_sign_ins(client):
    user = UserFactory(email="sam@example.com")
    phone, _ = sign_in("sam@example.com", device="Sam's phone")
    client.force_login(user)
    page = client.get("/accounts/settings/").content.decode()
    assert "Sam&#x27;s phone" in page

    token = ApiToken.objects.get()
    response = client.post(f"/accounts/settings/tokens/{token.token_key}/revoke/")

    assert response.status_code == 302
    assert phone.get("/api/v1/me/").status_code == 401
