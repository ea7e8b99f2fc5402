"""Shop settings: saved through the service, logo upload validated, role and CSRF enforced."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from sellers.models import MemberRole
from tests.factories import SellerMemberFactory

pytestmark = pytest.mark.django_db


def _png(size=(200, 200)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def _data(**overrides):
    data = {
        "description": "Handmade.",
        "support_email": "help@shop.example",
        "return_window_days": "14",
        "handling_time_days": "3",
        "low_stock_threshold": "7",
    }
    data.update(overrides)
    return data


def test_owner_saves_settings_and_a_logo(owner, portal_client):
    response = portal_client(owner).post(reverse("portal:settings"), _data(logo=_png()))
    assert response.status_code == 302
    seller = owner.seller
    seller.refresh_from_db()
    assert (seller.return_window_days, seller.handling_time_days, seller.low_stock_threshold) == (
        14,
        3,
        7,
    )
    assert seller.logo.name.startswith("sellers/logos/")


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("logo.png", b"not an image", content_type="image/png"),
        "tiny",
    ],
)
def test_bad_logo_is_refused_and_nothing_changes(owner, portal_client, upload):
    if upload == "tiny":
        upload = _png(size=(20, 20))
    response = portal_client(owner).post(reverse("portal:settings"), _data(logo=upload))
    assert response.status_code == 400
    owner.seller.refresh_from_db()
    assert owner.seller.return_window_days == 30
    assert not owner.seller.logo


def test_out_of_range_days_shown_by_the_field(owner, portal_client):
    response = portal_client(owner).post(
        reverse("portal:settings"), _data(return_window_days="900")
    )
    assert response.status_code == 400
    assert b"has-error" in response.content
    owner.seller.refresh_from_db()
    assert owner.seller.return_window_days == 30


@pytest.mark.parametrize("role", [MemberRole.MANAGER, MemberRole.FULFILMENT])
def test_only_owners_change_settings(portal_client, role):
    member = SellerMemberFactory(role=role)
    response = portal_client(member).post(reverse("portal:settings"), _data())
    assert response.status_code == 403
    member.seller.refresh_from_db()
    assert member.seller.return_window_days == 30
