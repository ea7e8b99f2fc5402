"""Optional TOTP two-factor for shop owners and staff (django-otp); required for staff in the
admin when STAFF_2FA_REQUIRED (production)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sellers.models import MemberRole
from tests.factories import PASSWORD, SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_device_throttle(settings):
    # django-otp waits 1 s after a wrong code before it takes the next; these tests enter a
    # wrong code and then the right one at once (the per-user attempt limit is tested below)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code(device: TOTPDevice, step: int = 0) -> str:
    """The app's code, `step` periods ahead (a code is accepted once: each use needs the
    next one; django-otp allows one period of clock drift)."""
    device.refresh_from_db()
    counter = device.drift + step
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, counter):06d}"


def turn_on(client, user) -> TOTPDevice:
    client.force_login(user)
    assert client.get(reverse("accounts:two_factor")).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:two_factor"), {"code": code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.logout()
    return device


def test_an_owner_turns_it_on_and_then_signs_in_with_a_code(client):
    owner = SellerMemberFactory(role=MemberRole.OWNER).user
    device = turn_on(client, owner)

    first = client.post(reverse("accounts:login"), {"username": owner.email, "password": PASSWORD})
    assert first.status_code == 302 and first["Location"] == reverse("accounts:login_code")
    assert "_auth_user_id" not in client.session  # not signed in yet

    wrong = client.post(reverse("accounts:login_code"), {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    right = client.post(reverse("accounts:login_code"), {"code": code(device, 1)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_the_api_asks_for_the_code_when_it_is_on(client, api_client):
    owner = SellerMemberFactory(role=MemberRole.OWNER).user
    device = turn_on(client, owner)
    credentials = {"username": owner.email, "password": PASSWORD}

    without = api_client.post("/api/v1/auth/token/", credentials)
    wrong = api_client.post("/api/v1/auth/token/", {**credentials, "otp": "000000"})
    right = api_client.post("/api/v1/auth/token/", {**credentials, "otp": code(device, 1)})

    assert without.status_code == 400 and "otp" in without.json()["fields"]
    assert wrong.status_code == 400
    assert right.status_code == 200 and right.json()["token"]


def test_codes_are_rate_limited(api_client, client, settings):
    settings.TWO_FACTOR_ATTEMPTS = 2
    owner = SellerMemberFactory(role=MemberRole.OWNER).user
    turn_on(client, owner)
    caches["ratelimit"].clear()  # the code that turned it on counted
    credentials = {"username": owner.email, "password": PASSWORD, "otp": "000000"}

    answers = [api_client.post("/api/v1/auth/token/", credentials).status_code for _ in range(3)]

    assert answers == [400, 400, 429]


def test_shoppers_cannot_turn_it_on(client):
    client.force_login(UserFactory())

    response = client.get(reverse("accounts:two_factor"))

    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()


def test_staff_need_it_for_the_admin_when_required(client, settings):
    settings.STAFF_2FA_REQUIRED = True
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 302  # to the admin's login

    client.logout()
    device = turn_on(client, staff)
    admin_login = client.post(
        reverse("admin:login"),
        {
            "username": staff.email,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": code(device, 1),
        },
    )

    assert admin_login.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_without_it_use_the_admin_when_not_required(client, settings):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert client.get(reverse("admin:index")).status_code == 200


def test_turning_it_off_needs_a_code(client):
    owner = SellerMemberFactory(role=MemberRole.OWNER).user
    device = turn_on(client, owner)
    client.force_login(owner)

    client.post(reverse("accounts:two_factor_disable"), {"code": "000000"})
    assert TOTPDevice.objects.filter(user=owner).exists()
    client.post(reverse("accounts:two_factor_disable"), {"code": code(device, 1)})
    assert not TOTPDevice.objects.filter(user=owner).exists()
