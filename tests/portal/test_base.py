"""Portal base: sign-in redirect, current seller and switcher, role refusals, CSRF, banners."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sellers.models import MemberRole, SellerStatus
from tests.factories import SellerFactory, SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=/seller/")


def test_user_without_a_shop_is_sent_to_apply(client):
    client.force_login(UserFactory())
    response = client.get(reverse("portal:home"))
    assert response["Location"] == reverse("sellers:apply")


def test_switcher_changes_the_current_seller_only_to_own_shops(owner, other_owner, portal_client):
    second = SellerMemberFactory(user=owner.user, seller=SellerFactory(name="Zeta Goods"))
    client = portal_client(owner)
    assert owner.seller.name.encode() in client.get(reverse("portal:home")).content

    response = client.post(reverse("portal:switch"), {"seller": second.seller_id})
    assert response.status_code == 302
    assert b"<h1>Zeta Goods</h1>" in client.get(reverse("portal:home")).content

    foreign = client.post(reverse("portal:switch"), {"seller": other_owner.seller_id})
    assert foreign.status_code == 404
    assert b"<h1>Zeta Goods</h1>" in client.get(reverse("portal:home")).content


@pytest.mark.parametrize("role", [MemberRole.MANAGER, MemberRole.FULFILMENT])
def test_members_page_refused_to_non_owners(role, portal_client):
    member = SellerMemberFactory(role=role)
    response = portal_client(member).get(reverse("portal:members"))
    assert response.status_code == 403
    assert b"does not allow this action" in response.content


def test_pending_and_suspended_shops_see_banners(portal_client):
    pending = SellerMemberFactory(seller=SellerFactory(status=SellerStatus.PENDING))
    assert b"waiting for approval" in portal_client(pending).get(reverse("portal:home")).content
    suspended = SellerMemberFactory(
        seller=SellerFactory(status=SellerStatus.SUSPENDED, status_reason="Late shipments")
    )
    body = portal_client(suspended).get(reverse("portal:home")).content
    assert b"suspended: Late shipments" in body


def test_forms_enforce_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    response = client.post(reverse("portal:members"), {"email": "x@example.com", "role": "manager"})
    assert response.status_code == 403
    assert owner.seller.invitations.count() == 0
