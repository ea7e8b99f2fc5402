from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from PIL import Image

from catalog.models import ProductStatus
from catalog.services import product_image_add, sale_price_schedule
from search.services import search_index_rebuild
from sellers.models import SellerStatus
from tests.factories import (
    PASSWORD,
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerFactory,
    SellerMemberFactory,
    UserFactory,
    VariantAttributeValueFactory,
)

pytestmark = pytest.mark.django_db


def _png(name: str = "photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 40, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def _assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture
def catalog():
    electronics = CategoryFactory(name="Electronics", slug="electronics")
    computers = CategoryFactory(name="Computers", slug="computers", parent=electronics)
    laptops = CategoryFactory(name="Laptops", slug="laptops", parent=computers)
    fashion = CategoryFactory(name="Fashion", slug="fashion")

    colour = AttributeFactory(name="Colour", slug="colour", type="choice")
    black = AttributeChoiceFactory(attribute=colour, value="Black", slug="black")
    silver = AttributeChoiceFactory(attribute=colour, value="Silver", slug="silver")
    screen = AttributeFactory(name="Screen size", slug="screen-size", type="number", unit="in")

    shop = SellerFactory(name="Brightline", slug="brightline")
    other = SellerFactory(name="Acme Outlet", slug="acme-outlet")
    suspended = SellerFactory(name="Gone", slug="gone", status=SellerStatus.SUSPENDED)

    laptop = ProductFactory(name="Aeris 14", slug="aeris-14", seller=shop, category=laptops)
    cheap = ProductVariantFactory(product=laptop, sku="AER-128", price=Decimal("899.00"))
    big = ProductVariantFactory(
        product=laptop, sku="AER-512", price=Decimal("1199.00"), compare_at_price=Decimal("1299.00")
    )
    VariantAttributeValueFactory(variant=cheap, attribute=colour, choice=black)
    VariantAttributeValueFactory(variant=big, attribute=colour, choice=silver)
    VariantAttributeValueFactory(variant=cheap, attribute=screen, value_number=Decimal("14"))
    VariantAttributeValueFactory(variant=big, attribute=screen, value_number=Decimal("14"))
    sale_price_schedule(
        variant=cheap,
        sale_price=Decimal("799.00"),
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=5),
    )
    product_image_add(product=laptop, upload=_png(), alt_text="Aeris 14, open")

    tee = ProductFactory(name="Plain Tee", slug="plain-tee", seller=other, category=fashion)
    ProductVariantFactory(product=tee, sku="TEE-1", price=Decimal("15.00"))
    draft = ProductFactory(
        name="Secret", slug="secret", seller=shop, category=laptops, status=ProductStatus.DRAFT
    )
    ProductVariantFactory(product=draft, sku="SEC-1", price=Decimal("10.00"))
    hidden = ProductFactory(name="Hidden", slug="hidden", seller=suspended, category=laptops)
    ProductVariantFactory(product=hidden, sku="HID-1", price=Decimal("10.00"))
    # what the after-commit search refresh does: price filters and sorts read search_price_min
    search_index_rebuild()
    return {"laptop": laptop, "tee": tee, "shop": shop, "suspended": suspended}


# --- categories ---------------------------------------------------------------------------------


def test_category_tree_is_nested(api_client, catalog):
    response = api_client.get("/api/v1/categories/")
    assert response.status_code == 200
    roots = {node["slug"]: node for node in response.json()}
    assert set(roots) == {"electronics", "fashion"}
    computers = roots["electronics"]["children"][0]
    assert computers["slug"] == "computers"
    assert [c["slug"] for c in computers["children"]] == ["laptops"]
    assert computers["children"][0]["children"] == []


def test_category_detail_has_breadcrumbs_and_children(api_client, catalog):
    body = api_client.get("/api/v1/categories/computers/").json()
    assert [b["slug"] for b in body["breadcrumbs"]] == ["electronics", "computers"]
    assert [c["slug"] for c in body["children"]] == ["laptops"]


def test_unknown_category_is_404_with_error_shape(api_client, catalog):
    _assert_error_shape(api_client.get("/api/v1/categories/nope/"), 404, "not_found")


# --- product list -------------------------------------------------------------------------------


def _slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["results"]]


def test_product_list_shows_public_products_with_card_fields(api_client, catalog):
    response = api_client.get("/api/v1/products/", {"sort": "name"})
    assert _slugs(response) == ["aeris-14", "plain-tee"]  # no draft, no suspended seller
    body = response.json()
    assert body["count"] == 2
    item = body["results"][0]
    assert item["seller"] == {"slug": "brightline", "name": "Brightline"}
    assert item["category"] == {"slug": "laptops", "name": "Laptops"}
    assert item["price_from"] == "799.00"  # the running sale, not the 899.00 list price
    assert item["currency"] == "USD"
    assert item["thumbnail"].startswith("http://testserver/media/products/thumbs/")
    assert body["results"][1]["thumbnail"] is None


def test_product_list_filters_like_the_storefront(api_client, catalog):
    get = api_client.get
    assert _slugs(get("/api/v1/products/", {"category": "electronics"})) == ["aeris-14"]
    assert _slugs(get("/api/v1/products/", {"price_max": "100"})) == ["plain-tee"]
    assert _slugs(
        get("/api/v1/products/", {"seller": "acme-outlet,brightline", "sort": "name"})
    ) == [
        "aeris-14",
        "plain-tee",
    ]
    assert _slugs(get("/api/v1/products/", {"attr_colour": "silver"})) == ["aeris-14"]
    assert _slugs(get("/api/v1/products/", {"attr_screen-size_min": "15"})) == []
    assert _slugs(get("/api/v1/products/", {"sort": "price_desc"})) == ["aeris-14", "plain-tee"]
    assert _slugs(get("/api/v1/products/", {"sort": "price_asc"})) == ["plain-tee", "aeris-14"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"price_min": "cheap"}, "price_min"),
        ({"price_min": "50", "price_max": "10"}, "price_max"),
        ({"sort": "random"}, "sort"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"attr_screen-size_min": "NaN"}, "attr_screen-size_min"),
    ],
)
def test_malformed_filters_are_400_with_field_errors(api_client, catalog, params, field):
    body = _assert_error_shape(api_client.get("/api/v1/products/", params), 400, "invalid")
    assert field in body["fields"]


def test_unknown_category_filter_is_404(api_client, catalog):
    _assert_error_shape(api_client.get("/api/v1/products/?category=nope"), 404, "not_found")


def test_pagination_and_page_size(api_client, catalog):
    body = api_client.get("/api/v1/products/", {"page_size": 1, "sort": "name"}).json()
    assert body["count"] == 2
    assert [r["slug"] for r in body["results"]] == ["aeris-14"]
    assert "page=2" in body["next"]
    _assert_error_shape(api_client.get("/api/v1/products/", {"page": 9}), 404, "not_found")


def test_count_says_when_it_stopped_at_the_limit(api_client, catalog, monkeypatch):
    """Counting every match of a million-product list costs more than the page: `count` stops
    at COUNT_LIMIT and `count_capped` tells a client that more products match."""
    from shop.core import pagination

    body = api_client.get("/api/v1/products/").json()
    assert (body["count"], body["count_capped"]) == (2, False)
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 1)
    body = api_client.get("/api/v1/products/", {"page_size": 1}).json()
    assert (body["count"], body["count_capped"]) == (1, True)
    assert len(body["results"]) == 1 and body["next"] is None


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_product_list_queries_do_not_grow_with_page_size(
    api_client, catalog, django_assert_num_queries
):
    for i in range(12):
        product = ProductFactory(seller=catalog["shop"], category=catalog["laptop"].category)
        ProductVariantFactory(product=product, price=Decimal(10 + i))
        product_image_add(product=product, upload=_png(f"p{i}.png"))
    small = _queries(api_client, "/api/v1/products/?page_size=2")
    large = _queries(api_client, "/api/v1/products/?page_size=14")
    assert small == large
    # the engine's lookups (approved sellers, tree, facet attributes), the table's size, the
    # facet statement (with the total), the page's ids, the page's products (one statement)
    with django_assert_num_queries(5):
        api_client.get("/api/v1/products/?page_size=14")


# --- product detail -----------------------------------------------------------------------------


def test_product_detail_has_priced_variants_images_and_attributes(api_client, catalog):
    response = api_client.get("/api/v1/products/aeris-14/")
    assert response.status_code == 200
    body = response.json()
    variants = {v["sku"]: v for v in body["variants"]}
    assert variants["AER-128"]["price"] == "899.00"
    assert variants["AER-128"]["current_price"] == "799.00"
    assert variants["AER-128"]["on_sale"] is True
    assert variants["AER-512"]["current_price"] == "1199.00"
    assert variants["AER-512"]["compare_at_price"] == "1299.00"
    assert variants["AER-512"]["on_sale"] is False
    assert {a["slug"]: a["value"] for a in variants["AER-512"]["attributes"]} == {
        "colour": "Silver",
        "screen-size": "14",
    }
    assert body["price_from"] == "799.00"
    assert body["attributes"] == [
        {
            "slug": "colour",
            "name": "Colour",
            "type": "choice",
            "unit": "",
            "values": ["Black", "Silver"],
        },
        {
            "slug": "screen-size",
            "name": "Screen size",
            "type": "number",
            "unit": "in",
            "values": ["14"],
        },
    ]
    (image,) = body["images"]
    assert image["alt"] == "Aeris 14, open"
    assert image["url"].startswith("http://testserver/media/products/")
    assert "/thumbs/" in image["thumbnail"]


def test_product_detail_tells_each_variants_availability(api_client, catalog):
    """What the product page shows per variant, under the same words: units, status, label."""
    from catalog.models import ProductVariant
    from tests.factories.inventory import stock_with

    stock_with(variant=ProductVariant.objects.get(sku="AER-128"), on_hand=2)
    stock_with(variant=ProductVariant.objects.get(sku="AER-512"), on_hand=40)
    variants = {
        v["sku"]: v for v in api_client.get("/api/v1/products/aeris-14/").json()["variants"]
    }
    assert variants["AER-128"]["available"] == 2
    assert variants["AER-128"]["stock_status"] == "low_stock"
    assert variants["AER-128"]["stock_label"] == "Only 2 left"
    assert variants["AER-512"]["stock_status"] == "in_stock" and variants["AER-512"]["can_buy"]


def test_product_detail_query_count_is_fixed(api_client, catalog, django_assert_num_queries):
    # product (+seller, category, type), variants, their attribute values, images
    with django_assert_num_queries(4):
        api_client.get("/api/v1/products/aeris-14/")


@pytest.mark.parametrize("slug", ["secret", "hidden", "does-not-exist"])
def test_hidden_or_unknown_product_is_404(api_client, catalog, slug):
    _assert_error_shape(api_client.get(f"/api/v1/products/{slug}/"), 404, "not_found")


def test_suspending_a_seller_hides_its_products_at_once(api_client, catalog):
    from sellers.services import seller_suspend

    seller_suspend(seller=catalog["shop"], reason="Test")
    response = api_client.get("/api/v1/products/")
    assert _slugs(response) == ["plain-tee"]
    assert response.json()["count"] == 1  # the count too, before any search refresh
    _assert_error_shape(api_client.get("/api/v1/products/aeris-14/"), 404, "not_found")


# --- sellers ------------------------------------------------------------------------------------


def test_sellers_lists_approved_only(api_client, catalog):
    body = api_client.get("/api/v1/sellers/").json()
    assert [s["slug"] for s in body["results"]] == ["acme-outlet", "brightline"]
    assert api_client.get("/api/v1/sellers/brightline/").json()["name"] == "Brightline"
    _assert_error_shape(api_client.get("/api/v1/sellers/gone/"), 404, "not_found")


def test_writes_are_not_allowed(api_client, catalog):
    _assert_error_shape(api_client.post("/api/v1/products/", {}), 405, "method_not_allowed")


# --- auth ---------------------------------------------------------------------------------------


def test_token_authenticates_me(api_client):
    user = UserFactory(email="sam@example.com")
    SellerMemberFactory(user=user, seller=SellerFactory(name="Sam's", slug="sams"))
    _assert_error_shape(api_client.get("/api/v1/me/"), 401, "not_authenticated")

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "sam@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = api_client.get("/api/v1/me/").json()
    assert body["email"] == "sam@example.com"
    assert body["seller_memberships"] == [
        {
            "seller_slug": "sams",
            "seller_name": "Sam's",
            "seller_status": "approved",
            "role": "owner",
        }
    ]

    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    _assert_error_shape(api_client.get("/api/v1/me/"), 401, "authentication_failed")


def test_wrong_password_gets_no_token(api_client):
    UserFactory(email="sam@example.com")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "sam@example.com", "password": "x"}
    )
    _assert_error_shape(response, 400, "invalid")


# --- schema -------------------------------------------------------------------------------------


def test_openapi_schema_validates_and_catalog_views_emit_no_warnings(tmp_path, capsys):
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(target))
    stderr = capsys.readouterr().err
    ours = [
        line
        for line in stderr.splitlines()
        if ("Warning" in line or "Error" in line) and ("/catalog/" in line or "/accounts/" in line)
    ]
    assert ours == []
    schema = target.read_text()
    for path in (
        "/api/v1/products/",
        "/api/v1/products/{slug}/",
        "/api/v1/categories/",
        "/api/v1/me/",
    ):
        assert f"{path}:" in schema
    assert "Error:" in schema  # the error shape is a component
    assert "name: price_min" in schema and "name: sort" in schema
