from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from catalog.demo import DEMO_LOGINS
from catalog.models import Category, Product, ProductImage, ProductVariant, VariantSalePrice
from catalog.selectors import product_list
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
    # seeding leaves search vectors NULL and hands over to the search app's rebuild hook
    assert "Search index rebuilt." in output
    assert not Product.objects.filter(search_vector__isnull=True).exists()

    # a sale running now lowers the price shoppers pay
    live = VariantSalePrice.objects.filter(starts_at__lte=timezone.now())
    sale = live.filter(variant__product__in=public).select_related("variant").first()
    assert sale.sale_price < sale.variant.price
    assert public.get(pk=sale.variant.product_id).price_from <= sale.sale_price

    # the demo logins work; the seller user owns the first (approved) seller
    for _who, email, password in DEMO_LOGINS:
        assert authenticate(username=email, password=password) is not None, email
    assert authenticate(username="admin@example.com", password=DEMO_LOGINS[0][2]).is_staff
    membership = SellerMember.objects.get(user__email="seller@example.com")
    assert membership.seller.slug == "northwind-outfitters"
    assert membership.seller.status == SellerStatus.APPROVED


def test_refuses_appends_forces_and_is_deterministic():
    _seed("--products", "10", "--seed", "7")
    first = list(Product.objects.order_by("pk").values_list("name", "brand", "category__slug"))
    with pytest.raises(CommandError, match="--append"):
        _seed("--products", "10")
    assert Product.objects.count() == 10  # the refusal changed nothing

    _seed("--products", "7", "--append")
    assert Product.objects.count() == 17
    assert Category.objects.filter(slug="laptops").count() == 1  # tree not duplicated

    _seed("--products", "10", "--seed", "7", "--force")
    again = list(Product.objects.order_by("pk").values_list("name", "brand", "category__slug"))
    assert again == first
