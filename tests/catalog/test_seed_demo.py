from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Count

from catalog.demo import DEMO_LOGINS
from catalog.models import Category, Product, ProductImage, ProductVariant, VariantSalePrice
from catalog.selectors import product_list, product_queryset_public
from sellers.models import SellerMember, SellerStatus

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_builds_a_browsable_marketplace():
    output = _seed("--products", "60", "--batch-size", "25")

    assert Product.objects.count() == 60
    assert "100%" in output and "60/60 products" in output
    # three levels, paths consistent with parents
    assert set(Category.objects.values_list("depth", flat=True)) == {0, 1, 2}
    for category in Category.objects.select_related("parent"):
        expected_prefix = category.parent.path if category.parent else ""
        assert category.path.startswith(expected_prefix)
        assert category.path.count("/") == category.depth + 1
    # 1-4 variants per product, unique SKUs
    per_product = Product.objects.annotate(n=Count("variants")).values_list("n", flat=True)
    assert set(per_product) <= {1, 2, 3, 4}
    skus = list(ProductVariant.objects.values_list("sku", flat=True))
    assert len(skus) == len(set(skus))
    # public list works and hides the suspended/pending sellers' products
    public = product_list()
    assert public.exists()
    assert not public.exclude(seller__status=SellerStatus.APPROVED).exists()
    hidden = Product.objects.filter(seller__status=SellerStatus.SUSPENDED, status="active")
    assert hidden.exists()  # the demo shows hiding: active products of a suspended seller
    assert not public.filter(pk__in=hidden.values("pk")).exists()
    # every product has an image whose files exist in storage
    assert not Product.objects.filter(images__isnull=True).exists()
    image = ProductImage.objects.first()
    assert default_storage.exists(image.image.name)
    assert default_storage.exists(image.thumbnail.name)
    assert Product.objects.filter(search_vector__isnull=False).count() == 0


def test_sale_prices_running_now_lower_the_price_shoppers_pay():
    _seed("--products", "80")
    live = VariantSalePrice.objects.filter(starts_at__lte=Product.objects.first().created_at)
    assert live.exists()
    sale = live.select_related("variant__product").first()
    assert sale.sale_price < sale.variant.price
    if product_queryset_public().filter(pk=sale.variant.product_id).exists():
        listed = product_list().get(pk=sale.variant.product_id)
        assert listed.price_from <= sale.sale_price


def test_demo_logins_work_and_seller_user_owns_the_first_seller():
    _seed("--products", "5")
    for _who, email, password in DEMO_LOGINS:
        assert authenticate(username=email, password=password) is not None, email
    staff = authenticate(username="admin@example.com", password=DEMO_LOGINS[0][2])
    assert staff.is_staff
    membership = SellerMember.objects.get(user__email="seller@example.com")
    assert membership.seller.slug == "northwind-outfitters"
    assert membership.seller.status == SellerStatus.APPROVED


def test_refuses_when_products_exist_and_changes_nothing():
    _seed("--products", "10")
    before = list(Product.objects.values_list("pk", flat=True))
    with pytest.raises(CommandError, match="--append"):
        _seed("--products", "10")
    assert list(Product.objects.values_list("pk", flat=True)) == before


def test_append_adds_and_force_replaces():
    _seed("--products", "10")
    _seed("--products", "7", "--append")
    assert Product.objects.count() == 17
    assert Category.objects.filter(slug="laptops").count() == 1  # tree not duplicated

    _seed("--products", "4", "--force")
    assert Product.objects.count() == 4


def test_same_seed_gives_the_same_catalogue():
    _seed("--products", "15", "--seed", "7")
    first = list(Product.objects.order_by("pk").values_list("name", "brand", "category__slug"))
    _seed("--products", "15", "--seed", "7", "--force")
    second = list(Product.objects.order_by("pk").values_list("name", "brand", "category__slug"))
    assert first == second
