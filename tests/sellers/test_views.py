"""'Apply to sell' on the storefront."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sellers.models import MemberRole, Seller, SellerMember, SellerStatus
from tests.factories import SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_client(client):
    user = UserFactory(email="maker@example.com")
    client.force_login(user)
    client.user = user
    return client


def test_apply_requires_sign_in(client):
    response = client.get(reverse("sellers:apply"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_apply_creates_a_pending_shop_owned_by_the_user(user_client):
    response = user_client.post(
        reverse("sellers:apply"),
        {"name": "Maker's Workshop", "description": "Wooden toys.", "support_email": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("sellers:apply_done")
    seller = Seller.objects.get()
    assert (seller.name, seller.slug, seller.status) == (
        "Maker's Workshop",
        "makers-workshop",
        SellerStatus.PENDING,
    )
    assert seller.support_email == "maker@example.com"
    member = SellerMember.objects.get()
    assert (member.user, member.role) == (user_client.user, MemberRole.OWNER)

    done = user_client.get(response["Location"])
    body = done.content.decode()
    assert "staff will review" in body
    assert "Maker&#x27;s Workshop — Pending approval" in body
    # a pending shop is not public
    assert user_client.get(reverse("catalog:seller", args=[seller.slug])).status_code == 404


def test_a_taken_name_is_shown_beside_the_field_and_nothing_is_created(user_client):
    SellerFactory(name="Maker Workshop", slug="maker-workshop")
    response = user_client.post(reverse("sellers:apply"), {"name": "Maker  Workshop!"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["This name is taken."]}
    assert Seller.objects.count() == 1


def test_a_second_application_while_one_waits_is_refused(user_client):
    user_client.post(reverse("sellers:apply"), {"name": "First shop"})
    response = user_client.post(reverse("sellers:apply"), {"name": "Second shop"})
    assert response.status_code == 200
    assert "You already have an application waiting for review." in response.content.decode()
    assert list(Seller.objects.values_list("name", flat=True)) == ["First shop"]


def test_a_name_without_letters_or_digits_is_refused(user_client):
    response = user_client.post(reverse("sellers:apply"), {"name": "!!!"})
    assert response.context["form"].errors == {"name": ["Invalid name."]}
    assert not Seller.objects.exists()


def test_apply_refuses_a_post_without_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    response = client.post(reverse("sellers:apply"), {"name": "Sneaky shop"})
    assert response.status_code == 403
    assert not Seller.objects.exists()
