"""The account area on the storefront: the header's account menu, the address book pages and
the product page's wishlist button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Address
from accounts.services import address_create
from cart.models import WishlistItem
from tests.factories import ProductVariantFactory, SellerMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = {
    "full_name": "Ada Lovelace",
    "line1": "Invalidenstr. 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def test_the_account_menu_links_orders_addresses_wishlist_and_the_portal(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get("/").content.decode()
    for name in ("orders:list", "accounts:addresses", "cart:wishlist", "accounts:home"):
        assert f'href="{reverse(name)}"' in html
    assert reverse("portal:home") not in html
    SellerMemberFactory(user=user)
    assert f'href="{reverse("portal:home")}"' in client.get("/").content.decode()


def test_the_address_book_adds_edits_defaults_and_removes(client):
    user = UserFactory()
    client.force_login(user)
    refused = client.post(reverse("accounts:address_new"), {**BERLIN, "postal_code": "1011"})
    assert refused.status_code == 400
    assert "Enter the postal code as used in Germany." in refused.content.decode()
    assert 'name="country"' in refused.content.decode() and "<select" in refused.content.decode()
    assert client.post(reverse("accounts:address_new"), BERLIN).status_code == 302
    address = Address.objects.get(user=user)
    assert address.is_default and address.latitude is not None
    edit = reverse("accounts:address_edit", args=[address.pk])
    assert client.post(edit, {**BERLIN, "phone": "030 1234567"}).status_code == 302
    address.refresh_from_db()
    assert address.phone == "+49301234567"
    second = address_create(user=user, **{**BERLIN, "line1": "Chausseestr. 2"})
    client.post(reverse("accounts:address_default", args=[second.pk]))
    second.refresh_from_db()
    assert second.is_default
    delete = reverse("accounts:address_delete", args=[second.pk])
    assert "Remove this address?" in client.get(delete).content.decode()  # asks first
    client.post(delete)
    assert list(Address.objects.filter(user=user)) == [address]
    other = address_create(user=UserFactory(), **BERLIN)
    assert client.get(reverse("accounts:address_edit", args=[other.pk])).status_code == 404


def test_add_to_wishlist_from_the_product_page(client):
    variant = ProductVariantFactory()
    url = reverse("catalog:product", args=[variant.product.slug])
    assert "Sign in to save it to your wishlist" in client.get(url).content.decode()
    user = UserFactory()
    client.force_login(user)
    assert "Add to wishlist" in client.get(url).content.decode()
    response = client.post(reverse("cart:wishlist_add"), {"variant": variant.pk})
    assert response.status_code == 302 and response.url.startswith(url)
    assert WishlistItem.objects.filter(user=user, variant=variant).exists()
