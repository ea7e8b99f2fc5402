from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.selectors import product_queryset_listed
from sellers.models import SellerStatus
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:sellers_seller_changelist")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_approve_action_makes_a_pending_seller_public(staff_client):
    seller = SellerFactory(status=SellerStatus.PENDING, approved_at=None)
    response = staff_client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [seller.pk]}, follow=True
    )
    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED and seller.approved_at is not None
    assert b"Approved 1 seller" in response.content


def test_suspend_asks_for_a_reason_then_hides_products(staff_client):
    seller = SellerFactory()
    ProductVariantFactory(product=ProductFactory(seller=seller))
    assert product_queryset_listed().filter(seller=seller).exists()

    first = staff_client.post(CHANGELIST, {"action": "suspend", "_selected_action": [seller.pk]})
    assert first.status_code == 200
    assert b"You are about to suspend" in first.content and seller.name.encode() in first.content
    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED  # nothing happens before the reason is given

    staff_client.post(
        CHANGELIST,
        {
            "action": "suspend",
            "_selected_action": [seller.pk],
            "apply": "Suspend",
            "reason": "Counterfeit goods reported",
        },
    )
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED
    assert seller.status_reason == "Counterfeit goods reported"
    assert not product_queryset_listed().filter(seller=seller).exists()


def test_suspend_without_reason_shows_the_form_again(staff_client):
    seller = SellerFactory()
    response = staff_client.post(
        CHANGELIST,
        {"action": "suspend", "_selected_action": [seller.pk], "apply": "Suspend", "reason": ""},
    )
    assert response.status_code == 200
    assert b"This field is required" in response.content
    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED


def test_reject_records_the_reason(staff_client):
    seller = SellerFactory(status=SellerStatus.PENDING)
    staff_client.post(
        CHANGELIST,
        {
            "action": "reject",
            "_selected_action": [seller.pk],
            "apply": "Reject",
            "reason": "Incomplete details",
        },
    )
    seller.refresh_from_db()
    assert seller.status == SellerStatus.REJECTED and seller.status_reason == "Incomplete details"


def test_status_is_not_editable_in_the_form(staff_client):
    seller = SellerFactory(status=SellerStatus.PENDING)
    url = reverse("admin:sellers_seller_change", args=[seller.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="status"' not in page


def test_a_logo_uploaded_in_the_admin_is_checked_like_every_upload(staff_client):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(png, format="PNG")  # Django's ImageField takes it
    seller = SellerFactory()
    url = reverse("admin:sellers_seller_change", args=[seller.pk])
    data = {
        "name": seller.name,
        "slug": seller.slug,
        "description": "",
        "support_email": "",
        "country": "DE",
        "commission_rate": "0.10",
        "return_window_days": 30,
        "handling_time_days": 2,
        "low_stock_threshold": 5,
        "stripe_account_id": "",
        "members-TOTAL_FORMS": 0,
        "members-INITIAL_FORMS": 0,
        "logo": SimpleUploadedFile("logo.png", png.getvalue(), content_type="image/png"),
    }

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert "This image is 50×50 pixels" in response.content.decode()
    seller.refresh_from_db()
    assert not seller.logo
