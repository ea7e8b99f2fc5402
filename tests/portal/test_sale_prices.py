"""Portal sale prices: schedule, edit and remove per variant through the catalog services, with
the rules' errors beside their fields, the state shown, and every id scoped to the shop."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product, ProductStatus, VariantSalePrice
from sellers.models import MemberRole
from tests.factories import ProductFactory, ProductVariantFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db

FORMAT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def variant(owner):
    product = ProductFactory(seller=owner.seller, status=ProductStatus.ACTIVE)
    return ProductVariantFactory(product=product, sku="MUG-1", price=Decimal("12.00"))


def _sale(variant, price="9.00", start=None, days=7):
    start = start or timezone.now() + timedelta(days=1)
    return {
        "variant": variant.pk,
        "sale_price": price,
        "starts_at": start.strftime(FORMAT),
        "ends_at": (start + timedelta(days=days)).strftime(FORMAT) if days is not None else "",
    }


def test_schedule_a_sale_and_see_it_with_its_state(owner, portal_client, variant):
    client = portal_client(owner)
    url = reverse("portal:sale_price_new", args=[variant.product_id])
    assert client.get(url).status_code == 200
    assert client.post(url, _sale(variant)).status_code == 302
    now = timezone.now()
    VariantSalePrice.objects.create(
        variant=variant,
        sale_price=Decimal("8.00"),
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(days=10),
    )
    running = _sale(variant, "11.00", start=now - timedelta(hours=1), days=None)
    running["ends_at"] = (now + timedelta(hours=12)).strftime(FORMAT)
    assert client.post(url, running).status_code == 302
    assert client.post(url, {**running, "sale_price": "10.00"}).status_code == 400

    page = client.get(reverse("portal:product_edit", args=[variant.product_id])).content.decode()
    assert page.count("state-scheduled") == 1
    assert page.count("state-active") == 1
    assert page.count("state-ended") == 1
    assert "$9.00" in page and "$12.00" in page

    shop = Client().get(reverse("catalog:product", args=[variant.product.slug])).content
    assert b"$11.00" in shop


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"sale_price": "12.00"}, "sale_price", "below the regular price (12.00)"),
        ({"sale_price": "0"}, "sale_price", "above 0"),
        ({"ends_at": "2020-01-01T00:00"}, "ends_at", "must end after it starts"),
        ({"starts_at": "soon"}, "starts_at", "Enter a valid date/time."),
    ],
)
def test_sale_rules_are_shown_beside_the_field(owner, portal_client, variant, data, field, message):
    url = reverse("portal:sale_price_new", args=[variant.product_id])
    response = portal_client(owner).post(url, {**_sale(variant), **data})
    assert response.status_code == 400
    html = response.content.decode()
    errors_at = html.index(f'id="id_{field}_errors"')
    assert message in html[errors_at : errors_at + 400]
    assert not VariantSalePrice.objects.exists()


def test_overlapping_windows_are_refused(owner, portal_client, variant):
    client = portal_client(owner)
    url = reverse("portal:sale_price_new", args=[variant.product_id])
    start = timezone.now() + timedelta(days=2)
    assert client.post(url, _sale(variant, start=start, days=5)).status_code == 302
    response = client.post(url, _sale(variant, "8.00", start=start + timedelta(days=1)))
    assert response.status_code == 400
    assert b"does not overlap an existing sale" in response.content
    assert VariantSalePrice.objects.count() == 1


def test_edit_and_remove_a_sale(owner, portal_client, variant):
    client = portal_client(owner)
    client.post(reverse("portal:sale_price_new", args=[variant.product_id]), _sale(variant))
    sale = VariantSalePrice.objects.get()
    edit = reverse("portal:sale_price_edit", args=[variant.product_id, sale.pk])
    assert b'value="9.00"' in client.get(edit).content
    other = ProductVariantFactory(product=variant.product, price=Decimal("99"))
    changed = {**_sale(variant, "7.50", days=3), "variant": other.pk}
    assert client.post(edit, changed).status_code == 302
    sale.refresh_from_db()
    assert (sale.sale_price, sale.variant_id) == (Decimal("7.50"), variant.pk)

    Product.objects.filter(pk=variant.product_id).update(search_dirty=False)
    remove = reverse("portal:sale_price_delete", args=[variant.product_id, sale.pk])
    assert client.post(remove).status_code == 302
    assert not VariantSalePrice.objects.exists()
    assert Product.objects.get(pk=variant.product_id).search_dirty


def test_an_ended_sale_is_not_editable(owner, portal_client, variant):
    now = timezone.now()
    ended = VariantSalePrice.objects.create(
        variant=variant,
        sale_price=Decimal("8.00"),
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=1),
    )
    edit = reverse("portal:sale_price_edit", args=[variant.product_id, ended.pk])
    response = portal_client(owner).post(edit, _sale(variant), follow=True)
    assert b"has ended and can no longer be changed" in response.content
    ended.refresh_from_db()
    assert ended.sale_price == Decimal("8.00")


def test_sales_are_scoped_to_the_shop_and_the_product(owner, other_owner, portal_client, variant):
    foreign_variant = ProductVariantFactory(
        product=ProductFactory(seller=other_owner.seller), price=Decimal("50")
    )
    start = timezone.now() + timedelta(days=1)
    foreign_sale = VariantSalePrice.objects.create(
        variant=foreign_variant, sale_price=Decimal("40"), starts_at=start
    )
    client = portal_client(owner)
    mine = variant.product_id
    theirs = foreign_variant.product_id
    assert client.get(reverse("portal:sale_price_new", args=[theirs])).status_code == 404
    for name in ("portal:sale_price_edit", "portal:sale_price_delete"):
        assert client.post(reverse(name, args=[mine, foreign_sale.pk])).status_code == 404
        assert client.post(reverse(name, args=[theirs, foreign_sale.pk])).status_code == 404
    response = client.post(
        reverse("portal:sale_price_new", args=[mine]), _sale(foreign_variant, "30.00")
    )
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert VariantSalePrice.objects.count() == 1
    foreign_sale.refresh_from_db()
    assert foreign_sale.sale_price == Decimal("40")


def test_fulfilment_staff_cannot_schedule_sales(owner, portal_client, variant):
    staff = SellerMemberFactory(seller=owner.seller, role=MemberRole.FULFILMENT)
    url = reverse("portal:sale_price_new", args=[variant.product_id])
    assert portal_client(staff).post(url, _sale(variant)).status_code == 403
    assert not VariantSalePrice.objects.exists()


def test_sale_writes_need_the_csrf_token(owner, variant):
    sale = VariantSalePrice.objects.create(
        variant=variant, sale_price=Decimal("9"), starts_at=timezone.now() + timedelta(days=1)
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    product_id = variant.product_id
    assert (
        client.post(reverse("portal:sale_price_new", args=[product_id]), _sale(variant)).status_code
        == 403
    )
    delete = reverse("portal:sale_price_delete", args=[product_id, sale.pk])
    assert client.post(delete).status_code == 403
    assert VariantSalePrice.objects.count() == 1
