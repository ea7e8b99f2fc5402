"""Password reset, email verification, email change and closing an account, on the storefront
and the API: single-use, expiring links; the same answer for known and unknown emails; limits."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail, signing
from django.urls import reverse

from accounts.models import User
from accounts.services import email_verification_token
from cart.services import cart_get_or_create
from sellers.models import MemberRole
from tests.factories import PASSWORD, SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(celery_eager):
    """Emails leave through Celery after commit; run them inline."""


def _link(message) -> str:
    return re.search(r"http://\S+", message.body).group(0).replace("http://127.0.0.1:8000", "")


# --- password reset -----------------------------------------------------------------------------


def test_reset_asks_answer_the_same_for_known_and_unknown_emails(
    client, django_capture_on_commit_callbacks
):
    UserFactory(email="sam@example.com")
    answers = []
    for email in ("sam@example.com", "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:password_reset"), {"email": email})
        answers.append((response.status_code, response["Location"]))

    assert answers[0] == answers[1]
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]


def test_reset_link_sets_a_new_password_once(client, django_capture_on_commit_callbacks):
    UserFactory(email="sam@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "sam@example.com"})
    link = _link(mail.outbox[0])
    new = {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}

    assert client.get(link).status_code == 200
    assert client.post(link, new).status_code == 302
    assert User.objects.get(email="sam@example.com").check_password("a-new-long-passphrase")

    again = client.post(link, {**new, "new_password1": "x-another-passphrase"})
    assert again.status_code == 400
    assert "invalid or has expired" in again.content.decode()


def test_reset_link_expires(client, settings, django_capture_on_commit_callbacks):
    UserFactory(email="sam@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": "sam@example.com"})
    link = _link(mail.outbox[0])

    settings.PASSWORD_RESET_TIMEOUT = -1

    assert client.get(link).status_code == 400


def test_reset_over_the_api_is_single_use_and_revokes_tokens(
    api_client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="sam@example.com")
    signed_in = api_client.post(
        "/api/v1/auth/token/", {"username": "sam@example.com", "password": PASSWORD}
    ).json()["token"]
    with django_capture_on_commit_callbacks(execute=True):
        asked = api_client.post("/api/v1/auth/password/reset/", {"email": "SAM@example.com"})
    unknown = api_client.post("/api/v1/auth/password/reset/", {"email": "who@example.com"})
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    uid, token = re.search(r"code instead: (\S+)/(\S+)", mail.outbox[0].body).groups()
    body = {"uid": uid, "token": token, "new_password": "a-new-long-passphrase"}

    assert api_client.post("/api/v1/auth/password/reset/confirm/", body).status_code == 200
    reused = api_client.post("/api/v1/auth/password/reset/confirm/", body)

    assert reused.status_code == 400 and reused.json()["code"] == "invalid"
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {signed_in}")
    assert api_client.get("/api/v1/me/").status_code == 401


def test_reset_asks_are_rate_limited_per_email_and_address(api_client, settings):
    settings.ACCOUNT_EMAIL_ATTEMPTS = 2
    for _ in range(2):
        assert (
            api_client.post("/api/v1/auth/password/reset/", {"email": "a@example.com"}).status_code
            == 202
        )

    limited = api_client.post("/api/v1/auth/password/reset/", {"email": "a@example.com"})

    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"


# --- email verification -------------------------------------------------------------------------


def test_sign_up_sends_a_verification_link_that_works_once(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"),
            {
                "email": "New@Example.com",
                "full_name": "New",
                "password1": "a-long-passphrase",
                "password2": "a-long-passphrase",
            },
        )
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    link = _link(message)

    assert client.get(link).status_code == 200  # a page with a button: scanners do not confirm
    assert User.objects.get().email_verified_at is None
    assert client.post(link).status_code == 302
    assert User.objects.get().email_verified_at is not None
    assert client.post(link).status_code == 400


def test_verification_over_the_api_and_a_link_for_an_old_address_fails(api_client):
    user = UserFactory(email="sam@example.com")
    token = email_verification_token(user=user)
    user.email = "other@example.com"
    user.save()

    stale = api_client.post("/api/v1/auth/email/verify/", {"token": token})
    fresh = api_client.post(
        "/api/v1/auth/email/verify/", {"token": email_verification_token(user=user)}
    )

    assert stale.status_code == 400
    assert fresh.status_code == 200
    api_client.force_authenticate(User.objects.get(pk=user.pk))
    assert api_client.get("/api/v1/me/").json()["email_verified"] is True


def test_verification_link_expires(api_client, settings):
    user = UserFactory()
    token = email_verification_token(user=user)
    settings.ACCOUNT_EMAIL_LINK_MAX_AGE_SECONDS = 1
    time.sleep(2)

    assert api_client.post("/api/v1/auth/email/verify/", {"token": token}).status_code == 400


def test_a_forged_link_is_refused(api_client):
    user = UserFactory()
    forged = signing.dumps({"u": user.pk, "e": user.email, "f": "x"}, salt="wrong")

    assert api_client.post("/api/v1/auth/email/verify/", {"token": forged}).status_code == 400


# --- email change -------------------------------------------------------------------------------


def test_email_change_needs_the_password_and_the_new_address(
    api_client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="sam@example.com")
    api_client.force_authenticate(user)
    refused = api_client.post(
        "/api/v1/auth/email/change/", {"new_email": "new@example.com", "password": "wrong"}
    )
    assert refused.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        asked = api_client.post(
            "/api/v1/auth/email/change/", {"new_email": "new@example.com", "password": PASSWORD}
        )
    assert asked.status_code == 202
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert User.objects.get(pk=user.pk).email == "sam@example.com"
    token = _link(message).rstrip("/").rsplit("/", 1)[1]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api_client.post("/api/v1/auth/email/change/confirm/", {"token": token})

    assert confirmed.status_code == 200
    user.refresh_from_db()
    assert user.email == "new@example.com" and user.email_verified_at is not None
    assert mail.outbox[-1].to == ["sam@example.com"]  # the old address is told
    reused = api_client.post("/api/v1/auth/email/change/confirm/", {"token": token})
    assert reused.status_code == 400


def test_email_change_to_an_address_taken_meanwhile_is_a_409(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="sam@example.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:email_change"),
            {"new_email": "taken@example.com", "password": PASSWORD},
        )
    link = _link(mail.outbox[0])
    UserFactory(email="taken@example.com")

    response = client.post(link)

    assert response.status_code == 409
    assert User.objects.get(pk=user.pk).email == "sam@example.com"


# --- closing an account -------------------------------------------------------------------------


def test_closing_an_account_erases_personal_data_and_keeps_it_closed(api_client):
    user = UserFactory(email="sam@example.com", full_name="Sam")
    user.addresses.create(full_name="Sam", line1="1 Rd", city="X", postal_code="1", country="DE")
    cart_get_or_create(user=user)
    token = api_client.post(
        "/api/v1/auth/token/", {"username": "sam@example.com", "password": PASSWORD}
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert api_client.post("/api/v1/me/delete/", {"password": "wrong"}).status_code == 400
    assert api_client.post("/api/v1/me/delete/", {"password": PASSWORD}).status_code == 204

    user.refresh_from_db()
    assert user.email != "sam@example.com" and not user.full_name and not user.is_active
    assert not user.has_usable_password()
    assert not user.addresses.exists() and not user.carts.exists()
    assert api_client.get("/api/v1/me/").status_code == 401
    api_client.credentials()
    again = api_client.post(
        "/api/v1/auth/token/", {"username": "sam@example.com", "password": PASSWORD}
    )
    assert again.status_code == 400


def test_the_last_owner_of_a_shop_must_hand_it_over_first(client):
    owner = SellerMemberFactory(role=MemberRole.OWNER).user
    client.force_login(owner)

    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})

    assert response.status_code == 200
    assert "last owner" in response.content.decode()
    assert User.objects.get(pk=owner.pk).is_active


def test_the_storefront_closes_the_account_and_signs_out(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(pk=user.pk).is_active
