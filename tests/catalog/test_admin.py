from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django import forms as forms_module
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import ApiToken
from accounts.services import api_token_create
from catalog.admin import VariantForm
from catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    SearchLexeme,
    SearchSuggestion,
    VariantAttributeValue,
    VariantSalePrice,
)
from catalog.services import category_create
from inventory.services import (
    InsufficientStock,
    ReserveLine,
    stock_backorder_sync,
    stock_reserve,
)
from reviews.models import Review
from sellers.models import CatalogImportJob
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductTypeFactory,
    ProductVariantFactory,
    SellerMemberFactory,
    UserFactory,
    VariantAttributeValueFactory,
    product_type_with_each_attribute_type,
)
from tests.factories.inventory import stock_with

pytestmark = pytest.mark.django_db

APPS = {"accounts", "sellers", "catalog"}


@pytest.fixture
def staff_client(client):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def _rows(n: int) -> None:
    """n of everything the catalog, sellers and accounts admins list."""
    for i in range(n):
        member = SellerMemberFactory()
        category = CategoryFactory()
        attribute = AttributeFactory(type="choice")
        choice = AttributeChoiceFactory(attribute=attribute)
        ProductTypeFactory()
        product = ProductFactory(seller=member.seller, category=category)
        variant = ProductVariantFactory(product=product, price=Decimal("20.00"))
        VariantAttributeValueFactory(variant=variant, attribute=attribute, choice=choice)
        VariantSalePrice.objects.create(
            variant=variant, sale_price=Decimal("15.00"), starts_at=timezone.now()
        )
        ProductImage.objects.create(
            product=product, image=f"products/x{i}.jpg", width=400, height=400, alt_text="x"
        )
        Review.objects.create(product=product, user=member.user, rating=4)
        member.user.addresses.create(
            full_name="A", line1="1 Road", city="Town", postal_code="1", country="DE"
        )
        member.seller.invitations.create(
            email=f"invited{i}@example.com", token=f"token-{i}-{member.pk}", invited_by=member.user
        )
        member.seller.import_jobs.create(created_by=member.user, file=f"sellers/imports/{i}.csv")
        api_token_create(user=member.user, name=f"phone {i}")
        SearchSuggestion.objects.create(
            word=f"word{i}-{product.pk}",
            phrase=product.name.lower(),
            label=product.name,
            slug=product.slug,
            weight=1,
        )
        SearchLexeme.objects.get_or_create(lexeme=f"word{i}-{product.pk}")


def _changelist_queries(client, model) -> int:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _our_models():
    return [m for m in admin.site._registry if m._meta.app_label in APPS]


def test_every_model_of_accounts_sellers_catalog_is_registered():
    from django.apps import apps

    registered = set(_our_models())
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            assert model in registered, model


def test_changelists_load_with_queries_independent_of_rows(staff_client):
    _rows(2)
    few = {m: _changelist_queries(staff_client, m) for m in _our_models()}
    _rows(8)
    many = {m: _changelist_queries(staff_client, m) for m in _our_models()}
    grew = {m.__name__: (few[m], many[m]) for m in few if many[m] != few[m]}
    assert grew == {}
    assert max(many.values()) <= 15


def test_add_and_change_pages_render(staff_client):
    _rows(1)
    for model in _our_models():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        # Import jobs are written by the portal's import only, search lexemes by the search
        # index's writers, attribute values as a set on their variant's page, API tokens by
        # signing in: staff may look here, not add.
        read_only = (CatalogImportJob, SearchLexeme, VariantAttributeValue, ApiToken)
        expected_add = 403 if model in read_only else 200
        assert staff_client.get(reverse(f"{prefix}_add")).status_code == expected_add, model
        obj = model._default_manager.first()
        url = reverse(f"{prefix}_change", args=[obj.pk])
        assert staff_client.get(url).status_code == 200, model


def test_search_works_on_products(staff_client):
    ProductFactory(name="Aeris Laptop")
    ProductFactory(name="Plain Tee")
    response = staff_client.get(reverse("admin:catalog_product_changelist"), {"q": "aeris"})
    assert b"Aeris Laptop" in response.content and b"Plain Tee" not in response.content


# --- categories through the services ------------------------------------------------------------


def _category_post(client, url: str, **data) -> None:
    payload = {"name": "", "slug": "", "description": "", "position": 0, **data}
    response = client.post(url, payload)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_category_add_goes_through_category_create(staff_client):
    root = category_create(name="Home", slug="home")
    _category_post(
        staff_client,
        reverse("admin:catalog_category_add"),
        name="Lamps",
        slug="lamps",
        parent=root.pk,
    )
    lamps = Category.objects.get(slug="lamps")
    assert lamps.depth == 1
    assert lamps.path == f"{root.path}{lamps.pk:010d}/"


def test_category_parent_change_moves_the_subtree(staff_client):
    a = category_create(name="A", slug="a")
    b = category_create(name="B", slug="b")
    child = category_create(name="Child", slug="child", parent=a)
    grandchild = category_create(name="Grandchild", slug="grandchild", parent=child)
    url = reverse("admin:catalog_category_change", args=[child.pk])
    _category_post(staff_client, url, name="Child", slug="child", parent=b.pk, position=3)
    child.refresh_from_db()
    grandchild.refresh_from_db()
    assert child.parent == b and child.position == 3
    assert grandchild.path.startswith(b.path) and grandchild.depth == 2


def test_category_cannot_move_under_its_descendant(staff_client):
    a = category_create(name="A", slug="a")
    child = category_create(name="Child", slug="child", parent=a)
    url = reverse("admin:catalog_category_change", args=[a.pk])
    response = staff_client.post(
        url, {"name": "A", "slug": "a", "description": "", "position": 0, "parent": child.pk}
    )
    assert response.status_code == 200
    assert b"cannot move under itself" in response.content
    a.refresh_from_db()
    assert a.parent is None and a.depth == 0


# --- products -----------------------------------------------------------------------------------


def _png(name="photo.png", size=(300, 300)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def test_image_upload_in_admin_generates_a_thumbnail(staff_client):
    product = ProductFactory()
    response = staff_client.post(
        reverse("admin:catalog_productimage_add"),
        {"product": product.pk, "image": _png(), "alt_text": "Front", "position": 0},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    image = product.images.get()
    assert image.thumbnail.name.endswith("-thumb.jpg")
    assert (image.width, image.height) == (300, 300)


def test_too_small_image_is_refused_with_a_form_error(staff_client):
    product = ProductFactory()
    response = staff_client.post(
        reverse("admin:catalog_productimage_add"),
        {"product": product.pk, "image": _png(size=(50, 50)), "alt_text": "", "position": 0},
    )
    assert response.status_code == 200
    assert b"at least 100" in response.content
    assert not product.images.exists()


def test_publish_action_uses_the_service(staff_client):
    ready = ProductFactory(status=ProductStatus.DRAFT)
    ProductVariantFactory(product=ready)
    empty = ProductFactory(status=ProductStatus.DRAFT)
    response = staff_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "publish", "_selected_action": [ready.pk, empty.pk]},
        follow=True,
    )
    ready.refresh_from_db()
    empty.refresh_from_db()
    assert ready.status == ProductStatus.ACTIVE and ready.published_at is not None
    assert empty.status == ProductStatus.DRAFT  # refused: no active variant
    assert b"needs at least one active variant" in response.content


def test_sale_price_add_refuses_overlaps(staff_client):
    variant = ProductVariantFactory(price=Decimal("50.00"))
    now = timezone.now()
    url = reverse("admin:catalog_variantsaleprice_add")

    def post(price: str, start):
        return staff_client.post(
            url,
            {
                "variant": variant.pk,
                "sale_price": price,
                "starts_at_0": start.strftime("%Y-%m-%d"),
                "starts_at_1": start.strftime("%H:%M:%S"),
                "ends_at_0": (start + timedelta(days=5)).strftime("%Y-%m-%d"),
                "ends_at_1": "00:00:00",
            },
        )

    assert post("40.00", now).status_code == 302
    assert VariantSalePrice.objects.filter(variant=variant).count() == 1
    response = post("35.00", now + timedelta(days=1))
    assert response.status_code == 200 and b"does not overlap an existing sale" in response.content
    response = post("60.00", now + timedelta(days=30))
    assert response.status_code == 200 and b"below the regular price" in response.content
    assert VariantSalePrice.objects.filter(variant=variant).count() == 1


def test_non_staff_cannot_open_the_admin(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:catalog_product_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_product_variant_inline_validates_compare_at_price(staff_client):
    product = ProductFactory()
    url = reverse("admin:catalog_productvariant_add")
    response = staff_client.post(
        url,
        {
            "product": product.pk,
            "sku": "X-1",
            "name": "X",
            "price": "20.00",
            "compare_at_price": "10.00",
            "currency": "USD",
            "weight_grams": 0,
            "is_active": "on",
            "max_quantity_per_order": 5,
            "position": 0,
            "attribute_values-TOTAL_FORMS": 0,
            "attribute_values-INITIAL_FORMS": 0,
            "sale_prices-TOTAL_FORMS": 0,
            "sale_prices-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert b"compare-at price must be at least the price" in response.content
    assert not product.variants.exists()
    assert Product.objects.count() == 1


def _resubmit(client, url: str, **changes):
    """POST an admin change page back as it was rendered, with `changes` (field name -> value;
    a checkbox is sent as "on" or left out)."""
    page = client.get(url)
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, forms_module.BooleanField):
                value = "on" if value else None
            elif isinstance(value, list | tuple):
                value = [v for v in value if v is not None]
            if value is not None:
                data[form.add_prefix(name)] = value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data)


def _reserve_two(variant) -> bool:
    try:
        stock_reserve(holder="admin-test", lines=[ReserveLine(variant.pk, 2)])
    except InsufficientStock:
        return False
    return True


@pytest.mark.parametrize("page", ["variant", "product"])
def test_backorders_changed_in_admin_change_what_can_be_sold(staff_client, page):
    variant = ProductVariantFactory(allow_backorder=False)
    stock = stock_with(variant=variant)  # nothing on hand
    if page == "variant":
        url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
        field = "allow_backorder"
    else:
        url = reverse("admin:catalog_product_change", args=[variant.product_id])
        field = "variants-0-allow_backorder"
    assert not _reserve_two(variant)

    response = _resubmit(staff_client, url, **{field: "on"})
    assert response.status_code == 302
    stock.refresh_from_db()
    assert stock.backorder_allowed
    assert _reserve_two(variant)

    # two units are promised with none on hand: turning backorders off is refused, beside the
    # field, and nothing changes
    response = _resubmit(staff_client, url, **{field: None})
    assert response.status_code == 200
    assert b"more promised than on hand" in response.content
    variant.refresh_from_db()
    stock.refresh_from_db()
    assert variant.allow_backorder and stock.backorder_allowed


@pytest.mark.parametrize("page", ["variant", "product"])
def test_a_reservation_landing_after_the_backorder_check_is_a_message_not_an_error(
    staff_client, page, monkeypatch
):
    """The race: the form's check passed, then two units were promised before the save. The
    save is refused as a message on the same page and nothing changes."""
    variant = ProductVariantFactory(allow_backorder=True)
    stock = stock_with(variant=variant)  # nothing on hand
    stock_backorder_sync(variant=variant)
    assert _reserve_two(variant)
    # the check ran before the reservation landed: it saw nothing promised
    monkeypatch.setattr(VariantForm, "_backorder_change_validate", lambda self, **kw: None)
    if page == "variant":
        url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
        changes = {"allow_backorder": None, "name": "Renamed"}
    else:
        url = reverse("admin:catalog_product_change", args=[variant.product_id])
        changes = {"variants-0-allow_backorder": None, "name": "Renamed"}

    response = _resubmit(staff_client, url, **changes)

    assert response.status_code == 302 and response.url == url
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(m.startswith("Nothing was saved:") for m in shown)
    assert not any("was changed successfully" in m for m in shown)
    variant.refresh_from_db()
    stock.refresh_from_db()
    assert variant.allow_backorder and stock.backorder_allowed
    assert variant.name != "Renamed"
    assert Product.objects.get(pk=variant.product_id).name != "Renamed"


def test_variant_edits_in_the_admin_go_through_the_variant_service(staff_client):
    """Lowering a price to or below a sale still to come is refused as in the portal, and a
    SKU is checked the same way (stripped, unique)."""
    from datetime import timedelta

    from django.utils import timezone

    from catalog.services import sale_price_schedule

    variant = ProductVariantFactory(price=Decimal("50.00"), sku="SKU-A")
    ProductVariantFactory(sku="SKU-B")
    sale_price_schedule(
        variant=variant,
        sale_price=Decimal("40.00"),
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=None,
    )
    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    response = _resubmit(staff_client, url, price="35.00")
    assert response.status_code == 302 and response.url == url
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("would not be above a scheduled sale" in m for m in shown), shown
    variant.refresh_from_db()
    assert variant.price == Decimal("50.00")

    response = _resubmit(staff_client, url, sku="  SKU-C  ", price="45.00")
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.sku, variant.price) == ("SKU-C", Decimal("45.00"))

    product_url = reverse("admin:catalog_product_change", args=[variant.product_id])
    response = _resubmit(staff_client, product_url, **{"variants-0-price": "30.00"})
    assert any("would not be above" in str(m) for m in get_messages(response.wsgi_request))
    variant.refresh_from_db()
    assert variant.price == Decimal("45.00")


def test_attribute_values_in_the_admin_are_set_through_the_service(staff_client):
    """A variant's values are saved as a set by `variant_attributes_set`: a value of the wrong
    kind, or a missing required one, is refused; nothing half-saved."""
    product_type = product_type_with_each_attribute_type(
        name="Shirt",
        choice="Colour",
        options=("Red", "Blue"),
        number="Width",
        unit="cm",
        boolean="Washable",
        text="Fabric",
    )
    colour = product_type.attributes.get(slug="colour")
    variant = ProductVariantFactory(product=ProductFactory(product_type=product_type))
    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    data = {
        "attribute_values-TOTAL_FORMS": 1,
        "attribute_values-INITIAL_FORMS": 0,
        "attribute_values-0-attribute": colour.pk,
        "attribute_values-0-choice": colour.choices.first().pk,
    }
    response = _resubmit(staff_client, url, **data)
    assert response.status_code == 302 and response.url == url  # refused: the others missing
    assert any("missing or invalid" in str(m) for m in get_messages(response.wsgi_request))
    assert not VariantAttributeValue.objects.filter(variant=variant).exists()


# --- what staff change reaches search (no signals: the services and the admin tell it) ----------


def _searchable(query: str) -> list[int]:
    from django.http import QueryDict

    from search.postgres import PostgresSearchBackend
    from search.query import listing_query_parse

    parsed = listing_query_parse(params=QueryDict(query), page_size=50)
    return PostgresSearchBackend().search(query=parsed).product_ids


@pytest.fixture
def indexed_lamp():
    from search.services import search_index_rebuild

    product = ProductFactory(name="Desk Lamp", slug="desk-lamp")
    ProductVariantFactory(product=product, price=Decimal("30.00"))
    search_index_rebuild()
    return product


def _marked(product) -> bool:
    from shop.core.outbox import OutboxMessage

    product.refresh_from_db()
    return product.search_dirty and any(
        product.pk in message.kwargs.get("product_ids", [product.pk])
        for message in OutboxMessage.objects.filter(task__startswith="search.tasks.")
    )


def test_a_product_renamed_in_the_admin_is_searchable_after_commit(
    staff_client, indexed_lamp, django_capture_on_commit_callbacks
):
    from shop.celery import app

    url = reverse("admin:catalog_product_change", args=[indexed_lamp.pk])
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = _resubmit(staff_client, url, name="Desk Lantern")
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _searchable("q=lantern") == [indexed_lamp.pk]
    assert _searchable("q=lamp") == []


def test_a_product_added_in_the_admin_is_a_draft_marked_for_search(
    staff_client, django_capture_on_commit_callbacks
):
    seller, category = SellerMemberFactory().seller, CategoryFactory()
    with django_capture_on_commit_callbacks(execute=False):
        response = staff_client.post(
            reverse("admin:catalog_product_add"),
            {
                "name": "Floor Lamp",
                "slug": "floor-lamp",
                "seller": seller.pk,
                "category": category.pk,
                "brand": "",
                "description": "",
                "tax_class": "standard",
                "variants-TOTAL_FORMS": 0,
                "variants-INITIAL_FORMS": 0,
                "images-TOTAL_FORMS": 0,
                "images-INITIAL_FORMS": 0,
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(slug="floor-lamp")
    assert product.status == ProductStatus.DRAFT
    assert _marked(product)


def test_a_sale_deleted_on_the_variant_page_goes_through_the_service(
    staff_client, indexed_lamp, django_capture_on_commit_callbacks
):
    from catalog.services import sale_price_schedule

    variant = indexed_lamp.variants.get()
    sale_price_schedule(
        variant=variant, sale_price=Decimal("20.00"), starts_at=timezone.now(), ends_at=None
    )
    Product.objects.filter(pk=indexed_lamp.pk).update(search_dirty=False)
    url = reverse("admin:catalog_productvariant_change", args=[variant.pk])
    with django_capture_on_commit_callbacks(execute=False):
        response = _resubmit(staff_client, url, **{"sale_prices-0-DELETE": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not VariantSalePrice.objects.filter(variant=variant).exists()
    assert _marked(indexed_lamp)


def test_renaming_an_attribute_choice_or_a_category_in_the_admin_marks_their_products(
    staff_client, indexed_lamp, django_capture_on_commit_callbacks
):
    choice = AttributeChoiceFactory(value="Brass", slug="brass")
    VariantAttributeValueFactory(
        variant=indexed_lamp.variants.get(), attribute=choice.attribute, choice=choice
    )
    Product.objects.filter(pk=indexed_lamp.pk).update(search_dirty=False)
    url = reverse("admin:catalog_attributechoice_change", args=[choice.pk])
    with django_capture_on_commit_callbacks(execute=False):
        response = staff_client.post(
            url,
            {"attribute": choice.attribute_id, "value": "Bronze", "slug": "brass", "position": 0},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _marked(indexed_lamp)

    Product.objects.filter(pk=indexed_lamp.pk).update(search_dirty=False)
    category = indexed_lamp.category
    url = reverse("admin:catalog_category_change", args=[category.pk])
    with django_capture_on_commit_callbacks(execute=False):
        _category_post(staff_client, url, name="Lighting", slug=category.slug)
    assert _marked(indexed_lamp)
