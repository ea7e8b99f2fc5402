"""Portal bulk CSV: the streamed export, the dry run (every row's errors, nothing changed), the
import job (all or nothing, through the catalog and inventory services, stock ledger rows),
the round trip, roles, foreign SKUs and job ids, CSRF and the progress endpoint."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import (
    AttributeType,
    Product,
    ProductStatus,
    ProductVariant,
    VariantAttributeValue,
)
from inventory.models import MovementReason, Stock, StockMovement
from inventory.services import stock_reserve
from inventory.services.contracts import ReserveLine
from sellers.bulk.export import catalog_export_rows
from sellers.bulk.imports import (
    IMPORT_MAX_ATTEMPTS,
    IMPORT_RUN_TASK,
    catalog_import_apply,
    catalog_import_check,
    catalog_import_jobs_recover,
    catalog_import_run,
)
from sellers.models import CatalogImportJob, ImportStatus, MemberRole
from sellers.tasks import catalog_import_recover_task
from shop.core.errors import Conflict
from shop.core.outbox import OutboxMessage
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductTypeFactory,
    ProductVariantFactory,
    SellerMemberFactory,
    VariantAttributeValueFactory,
)
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db


class Shop:
    """An owner's shop: a T-shirt with two variants (colour attribute, stock in two
    warehouses) and a draft mug; plus another shop with its own SKU."""

    def __init__(self, owner, other_owner) -> None:
        self.owner = owner
        self.seller = owner.seller
        clothing = CategoryFactory(name="Clothing", slug="clothing")
        self.tees = CategoryFactory(name="T-shirts", slug="t-shirts", parent=clothing)
        self.kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
        self.colour = AttributeFactory(name="Colour", slug="colour", type=AttributeType.CHOICE)
        self.red = AttributeChoiceFactory(attribute=self.colour, value="Red", slug="red")
        self.blue = AttributeChoiceFactory(attribute=self.colour, value="Blue", slug="blue")
        self.tee_type = ProductTypeFactory(name="T-shirt")
        self.tee_type.attributes.add(self.colour)
        self.main = WarehouseFactory(seller=self.seller, code="main", priority=1)
        self.east = WarehouseFactory(seller=self.seller, code="east", priority=2)
        self.tee = ProductFactory(
            seller=self.seller,
            category=self.tees,
            product_type=self.tee_type,
            name="Basic tee",
            slug="basic-tee",
            description='Soft cotton.\nTwo lines, "quoted", and a comma.',
        )
        self.tee_red = ProductVariantFactory(
            product=self.tee, sku="TEE-RED", name="Red", price=Decimal("10.00"), position=0
        )
        self.tee_blue = ProductVariantFactory(
            product=self.tee,
            sku="TEE-BLUE",
            name="=Blue",
            price=Decimal("12.00"),
            compare_at_price=Decimal("15.00"),
            position=1,
        )
        VariantAttributeValueFactory(variant=self.tee_red, attribute=self.colour, choice=self.red)
        VariantAttributeValueFactory(variant=self.tee_blue, attribute=self.colour, choice=self.blue)
        stock_with(variant=self.tee_red, warehouse=self.main, on_hand=5)
        stock_with(variant=self.tee_blue, warehouse=self.east, on_hand=3)
        self.mug = ProductFactory(
            seller=self.seller,
            category=self.kitchen,
            name="Mug",
            slug="mug",
            status=ProductStatus.DRAFT,
        )
        self.mug_variant = ProductVariantFactory(
            product=self.mug, sku="MUG-1", price=Decimal("8.50")
        )
        self.other_variant = ProductVariantFactory(
            product=ProductFactory(seller=other_owner.seller, slug="foreign-thing"),
            sku="FOREIGN-1",
        )
        WarehouseFactory(seller=other_owner.seller, code="theirs")


@pytest.fixture
def shop(owner, other_owner):
    return Shop(owner, other_owner)


def _export(client: Client) -> bytes:
    response = client.get(reverse("portal:catalog_export"))
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _csv(rows: list[dict[str, str]], *, bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def _upload(client: Client, data: bytes, name: str = "products.csv"):
    return client.post(
        reverse("portal:catalog_csv"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def _snapshot():
    return (
        sorted(Product.objects.values_list("slug", "name", "status", "category_id", "updated_at")),
        sorted(
            ProductVariant.objects.values_list(
                "sku", "price", "compare_at_price", "weight_grams", "updated_at"
            )
        ),
        sorted(Stock.objects.values_list("variant_id", "warehouse_id", "on_hand")),
        StockMovement.objects.count(),
        sorted(VariantAttributeValue.objects.values_list("variant_id", "attribute_id", "choice")),
    )


def _run(client, job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:import_start", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    return job


# --- export ---------------------------------------------------------------------------------


def test_export_streams_one_row_per_variant_of_this_shop_only(shop, portal_client):
    data = _export(portal_client(shop.owner))
    assert data.startswith("\ufeff".encode())
    rows = _rows(data)
    assert [r["sku"] for r in rows] == ["TEE-RED", "TEE-BLUE", "MUG-1"]
    red, blue, mug = rows
    assert red["handle"] == "basic-tee"
    assert red["category"] == "clothing/t-shirts"
    assert red["product_type"] == "T-shirt"
    assert red["description"] == 'Soft cotton.\nTwo lines, "quoted", and a comma.'
    assert red["attr:colour"] == "Red"
    assert (red["stock:main"], red["stock:east"]) == ("5", "0")
    assert (blue["stock:main"], blue["stock:east"]) == ("0", "3")
    assert (blue["price"], blue["compare_at_price"]) == ("12.00", "15.00")
    # A value a spreadsheet would run as a formula is neutralised.
    assert blue["variant_name"] == "'=Blue"
    assert mug["status"] == "draft"
    assert "stock:theirs" not in red
    assert b"FOREIGN-1" not in data


def test_export_query_count_does_not_grow_with_the_catalog(
    shop, portal_client, django_assert_num_queries
):
    client = portal_client(shop.owner)
    client.get(reverse("portal:catalog_csv"))  # session and membership warm-up
    with django_assert_num_queries(10) as small:
        _export(client)
    for n in range(15):
        product = ProductFactory(seller=shop.seller, category=shop.tees)
        stock_with(
            variant=ProductVariantFactory(product=product), warehouse=shop.main, on_hand=n + 1
        )
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(_rows(_export(client))) == 18


# --- dry run --------------------------------------------------------------------------------


def test_dry_run_reports_every_broken_row_and_changes_nothing(shop, portal_client):
    client = portal_client(shop.owner)
    rows = _rows(_export(client))
    new = dict(rows[2], handle="new-mug", sku="MUG-1", category="nowhere/at-all")
    foreign = dict(rows[2], handle="", sku="FOREIGN-1")
    bad_attr = dict(rows[0], handle="other-tee", sku="TEE-GREEN", **{"attr:colour": "Green"})
    rows[0]["price"] = "12,50"
    rows[1]["stock:east"] = "-4"
    before = _snapshot()

    response = _upload(client, _csv([*rows, new, foreign, bad_attr]))

    assert response.status_code == 400
    errors = {(e.row, e.column) for e in response.context["plan"].errors}
    assert errors == {
        (2, "price"),
        (3, "stock:east"),
        (5, "sku"),  # MUG-1 again: duplicate in the file
        (5, "category"),  # still checked
        (6, "sku"),  # another shop's SKU
        (7, "attr:colour"),  # not a choice of Colour
    }
    body = response.content.decode()
    assert "12,50" in body and "appears twice in the file (first in row 4)" in body
    assert "used by another shop" in body and "Nothing was imported" in body
    assert _snapshot() == before
    assert not CatalogImportJob.objects.exists()


def test_dry_run_reports_unknown_category_and_new_product_without_a_name(shop):
    data = _csv(
        [
            {
                "handle": "lamp",
                "sku": "LAMP-1",
                "name": "Lamp",
                "category": "lighting",
                "price": "5",
            },
            {"handle": "vase", "sku": "VASE-1", "name": "", "category": "kitchen", "price": "-1"},
        ]
    )
    plan = catalog_import_check(seller=shop.seller, data=data)
    assert [(e.row, e.column) for e in plan.errors] == [
        (2, "category"),
        (3, "name"),
        (3, "price"),
    ]


def test_header_with_unknown_warehouse_and_column_is_refused(shop):
    data = b"sku,price,stock:nowhere,stock:theirs,prise\nTEE-RED,10.00,1,1,1\n"
    plan = catalog_import_check(seller=shop.seller, data=data)
    assert {(e.row, e.column) for e in plan.errors} == {
        (1, "stock:nowhere"),
        (1, "stock:theirs"),  # another shop's warehouse code is unknown here
        (1, "prise"),
    }
    assert "Your warehouses: east, main" in plan.errors[0].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("sku,price\nTEE-RED,9.99\n".encode("utf-16"), "not UTF-8"),
        ("sku,variant_name\nTEE-RED,Café\n".encode("latin-1"), "not UTF-8"),
        (b"sku,price\n", "no product rows"),
        (b"sku,price\nA,1\nB,1\nC,1\n", "at most 2 product rows"),
        (b"x" * 2048, "larger than"),
    ],
)
def test_file_level_refusals(shop, settings, data, message):
    settings.SELLER_IMPORT_MAX_ROWS = 2
    settings.SELLER_IMPORT_MAX_BYTES = 1024
    plan = catalog_import_check(seller=shop.seller, data=data)
    assert len(plan.errors) == 1
    assert message in plan.errors[0].message


def test_utf8_with_byte_order_mark_is_read(shop):
    data = _csv([{"sku": "TEE-RED", "variant_name": "Rouge é"}], bom=True)
    plan = catalog_import_check(seller=shop.seller, data=data)
    assert plan.errors == []
    assert plan.variants_updated == 1


def test_stock_promised_to_checkouts_cannot_be_counted_away(shop):
    stock_reserve(holder="cart-1", lines=[ReserveLine(variant_id=shop.tee_red.pk, quantity=4)])
    plan = catalog_import_check(seller=shop.seller, data=b"sku,stock:main\nTEE-RED,2\n")
    assert [(e.row, e.column) for e in plan.errors] == [(2, "stock:main")]
    assert "4 units" in plan.errors[0].message


def test_dry_run_query_count_does_not_grow_with_the_file(
    shop, django_assert_num_queries, django_assert_max_num_queries
):
    def export_of_shop() -> bytes:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        for row in catalog_export_rows(seller=shop.seller):
            writer.writerow(row)
        return out.getvalue().encode()

    data = export_of_shop()
    with django_assert_max_num_queries(12) as small:
        assert catalog_import_check(seller=shop.seller, data=data).errors == []
    for _ in range(20):
        product = ProductFactory(seller=shop.seller, category=shop.tees, product_type=shop.tee_type)
        ProductVariantFactory(product=product)
    data = export_of_shop()
    with django_assert_num_queries(len(small.captured_queries)):
        plan = catalog_import_check(seller=shop.seller, data=data)
    assert plan.errors == [] and plan.total_rows == 23


def _products_file(tag: str, rows: int, *, price: str = "10.00", stock: int = 5) -> bytes:
    """`rows` variants, two per product, counted in both warehouses."""
    return _csv(
        [
            {
                "handle": f"{tag}-{i // 2}",
                "name": f"{tag} {i // 2}",
                "category": "kitchen",
                "sku": f"{tag}-{i}",
                "price": price,
                "stock:main": str(stock),
                "stock:east": "1",
            }
            for i in range(rows)
        ]
    )


def test_import_queries_per_row_are_pinned_and_search_refresh_is_one_task(
    shop, django_capture_on_commit_callbacks, celery_eager
):
    """What a row costs: a new variant (its product on every second row, two stock rows
    counted) at most 21 queries, a new price and one stock count at most 13; the search
    refresh is one task for the whole import, not one per product and variant save (it was
    ~34.5 and ~14 queries and 1.5 and 1 tasks per row)."""

    def apply(tag: str, rows: int, **changes) -> tuple[int, list]:
        data = _products_file(tag, rows, **changes)
        plan = catalog_import_check(seller=shop.seller, data=data)
        assert plan.errors == []
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            catalog_import_apply(seller=shop.seller, plan=plan, actor=None, reference=tag)
        return len(queries.captured_queries), callbacks

    small_queries, small_tasks = apply("small", 4)
    big_queries, big_tasks = apply("big", 12)
    assert (big_queries - small_queries) / 8 <= 21
    assert len(small_tasks) == len(big_tasks) == 1
    small_update, _ = apply("small", 4, price="11.00", stock=7)
    big_update, _ = apply("big", 12, price="11.00", stock=7)
    assert (big_update - small_update) / 8 <= 13
    stocks = Stock.objects.filter(variant__sku="big-0")
    assert sorted(stocks.values_list("warehouse__code", "on_hand")) == [("east", 1), ("main", 7)]
    assert StockMovement.objects.filter(stock__in=stocks).count() == 3  # 5, 1, then 5 -> 7
    new = Product.objects.filter(slug__startswith="big-")
    assert new.count() == 6 and not new.filter(search_dirty=False).exists()
    big_tasks[0]()  # after commit: the one task refreshes every product of the import
    assert not new.filter(search_dirty=True).exists()


# --- the import job -------------------------------------------------------------------------


def test_import_creates_and_updates_through_the_services(
    shop, portal_client, celery_eager, django_capture_on_commit_callbacks
):
    client = portal_client(shop.owner)
    data = _csv(
        [
            {
                "handle": "basic-tee",
                "sku": "TEE-RED",
                "name": "",
                "category": "",
                "product_type": "",
                "price": "11.00",
                "status": "",
                "stock:main": "9",
                "attr:colour": "",
            },
            {
                "handle": "hoodie",
                "sku": "HOOD-S",
                "name": "Hoodie",
                "category": "clothing/t-shirts",
                "product_type": "t-shirt",
                "price": "40",
                "status": "active",
                "stock:main": "7",
                "attr:colour": "Red",
            },
            {
                "handle": "hoodie",
                "sku": "HOOD-M",
                "name": "",
                "category": "",
                "product_type": "",
                "price": "42.50",
                "status": "",
                "stock:main": "",
                "attr:colour": "blue",
            },
        ]
    )
    response = _upload(client, data)
    assert response.status_code == 302
    job = CatalogImportJob.objects.get()
    assert job.status == ImportStatus.CHECKED
    assert (job.products_created, job.variants_created, job.variants_updated) == (1, 2, 1)
    assert job.stock_changes == 2
    assert Product.objects.filter(slug="hoodie").count() == 0  # nothing yet
    page = client.get(reverse("portal:import_job", args=[job.pk])).content.decode()
    assert "Start the import" in page and "Variants to create</dt><dd>2</dd>" in page
    listing = client.get(reverse("portal:catalog_csv")).content.decode()
    assert "products.csv" in listing and "Checked, waiting to start" in listing

    job = _run(client, job, django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert job.processed_rows == job.total_rows == 3
    hoodie = Product.objects.get(slug="hoodie")
    assert hoodie.seller == shop.seller and hoodie.status == ProductStatus.ACTIVE
    assert sorted(hoodie.variants.values_list("sku", "price")) == [
        ("HOOD-M", Decimal("42.50")),
        ("HOOD-S", Decimal("40.00")),
    ]
    shop.tee_red.refresh_from_db()
    assert shop.tee_red.price == Decimal("11.00")
    # Empty cells kept the colour and the product's fields.
    assert shop.tee_red.attribute_values.get().choice == shop.red
    assert Product.objects.get(pk=shop.tee.pk).name == "Basic tee"
    assert sorted(
        VariantAttributeValue.objects.filter(variant__product=hoodie).values_list(
            "variant__sku", "choice__value"
        )
    ) == [("HOOD-M", "Blue"), ("HOOD-S", "Red")]
    movements = StockMovement.objects.filter(reference=f"import:{job.pk}")
    assert sorted(movements.values_list("stock__variant__sku", "delta", "reason")) == [
        ("HOOD-S", 7, MovementReason.ADJUSTMENT),
        ("TEE-RED", 4, MovementReason.ADJUSTMENT),
    ]
    assert {m.actor_id for m in movements} == {shop.owner.user_id}
    page = client.get(reverse("portal:import_job", args=[job.pk]))
    assert "The import finished" in page.content.decode()


def test_round_trip_export_import_export_changes_nothing(
    shop, portal_client, celery_eager, django_capture_on_commit_callbacks
):
    client = portal_client(shop.owner)
    first = _export(client)
    before = _snapshot()

    assert _upload(client, first).status_code == 302
    job = CatalogImportJob.objects.get()
    assert (
        job.products_created,
        job.products_updated,
        job.variants_created,
        job.variants_updated,
        job.stock_changes,
    ) == (0, 0, 0, 0, 0)
    job = _run(client, job, django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.SUCCEEDED, job.errors
    assert _export(client) == first
    assert _snapshot() == before  # not even updated_at moved
    assert not StockMovement.objects.filter(reference=f"import:{job.pk}").exists()


def test_a_failure_while_applying_rolls_everything_back(
    shop, portal_client, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    client = portal_client(shop.owner)
    rows = _rows(_export(client))
    rows[0]["price"] = "99.00"
    rows[2]["stock:main"] = "6"
    assert _upload(client, _csv(rows)).status_code == 302
    before = _snapshot()

    def refuse(**kwargs):
        raise Conflict("Stock changed meanwhile.")

    monkeypatch.setattr("sellers.bulk.imports.stock_count_set", refuse)
    job = _run(client, CatalogImportJob.objects.get(), django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.FAILED
    assert job.errors == [{"row": 4, "column": "stock:main", "message": "Stock changed meanwhile."}]
    assert _snapshot() == before  # the price written before the failure was rolled back


def test_the_job_checks_the_file_again_when_it_runs(
    shop, other_owner, portal_client, celery_eager, django_capture_on_commit_callbacks
):
    client = portal_client(shop.owner)
    data = b"handle,sku,name,category,price\nlamp,LAMP-1,Lamp,kitchen,5\n"
    assert _upload(client, data).status_code == 302
    # Meanwhile another shop takes the SKU.
    ProductVariantFactory(product=ProductFactory(seller=other_owner.seller), sku="LAMP-1")

    job = _run(client, CatalogImportJob.objects.get(), django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.FAILED
    assert job.errors[0]["row"] == 2 and job.errors[0]["column"] == "sku"
    assert not Product.objects.filter(slug="lamp").exists()


def test_a_job_runs_once(shop, portal_client, celery_eager, django_capture_on_commit_callbacks):
    client = portal_client(shop.owner)
    assert _upload(client, b"sku,stock:main\nTEE-RED,8\n").status_code == 302
    job = _run(client, CatalogImportJob.objects.get(), django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.SUCCEEDED
    response = client.post(reverse("portal:import_start", args=[job.pk]), follow=True)
    assert "already started" in response.content.decode()
    assert StockMovement.objects.filter(reference=f"import:{job.pk}").count() == 1


# --- a worker that dies: heartbeat, takeover, recovery -----------------------------------------


def _job_running(job, *, attempt: int, quiet_for: timedelta) -> None:
    """As a worker that started the job and then died: running, its heartbeat `quiet_for` old."""
    CatalogImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, attempt=attempt, updated_at=timezone.now() - quiet_for
    )


def test_a_job_whose_worker_died_is_queued_again_and_finishes(shop, portal_client, settings):
    assert settings.CELERY_BEAT_SCHEDULE["sellers-import-recover"]["task"] == (
        catalog_import_recover_task.name
    )
    client = portal_client(shop.owner)
    assert _upload(client, b"sku,stock:main\nTEE-RED,8\n").status_code == 302
    job = CatalogImportJob.objects.get()
    stale = timedelta(seconds=settings.SELLER_IMPORT_HEARTBEAT_STALE_SECONDS + 1)
    _job_running(job, attempt=1, quiet_for=stale)
    OutboxMessage.objects.all().delete()

    assert catalog_import_recover_task.apply().get() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    # a new task, through the outbox, in case the broker lost the first one
    assert list(OutboxMessage.objects.values_list("task", "kwargs")) == [
        (IMPORT_RUN_TASK, {"job_id": job.pk})
    ]
    job = catalog_import_run(job_id=job.pk)
    assert (job.status, job.attempt) == (ImportStatus.SUCCEEDED, 2)
    assert StockMovement.objects.filter(reference=f"import:{job.pk}").count() == 1


def test_a_job_that_keeps_losing_its_worker_is_failed_with_nothing_changed(
    shop, portal_client, settings
):
    client = portal_client(shop.owner)
    assert _upload(client, b"sku,stock:main\nTEE-RED,8\n").status_code == 302
    job = CatalogImportJob.objects.get()
    stale = timedelta(seconds=settings.SELLER_IMPORT_HEARTBEAT_STALE_SECONDS + 1)
    _job_running(job, attempt=IMPORT_MAX_ATTEMPTS, quiet_for=stale)
    assert catalog_import_jobs_recover() == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert f"stopped {IMPORT_MAX_ATTEMPTS} times" in job.errors[0]["message"]
    assert catalog_import_run(job_id=job.pk) is None  # no fourth run, even redelivered
    page = client.get(reverse("portal:import_job", args=[job.pk])).content.decode()
    assert "nothing was changed" in page


def test_a_redelivered_task_takes_over_only_a_job_whose_heartbeat_stopped(
    shop, portal_client, settings
):
    client = portal_client(shop.owner)
    assert _upload(client, b"sku,stock:main\nTEE-RED,8\n").status_code == 302
    job = CatalogImportJob.objects.get()
    _job_running(job, attempt=1, quiet_for=timedelta(seconds=1))
    assert catalog_import_run(job_id=job.pk) is None  # alive elsewhere: left alone
    stale = timedelta(seconds=settings.SELLER_IMPORT_HEARTBEAT_STALE_SECONDS + 1)
    _job_running(job, attempt=1, quiet_for=stale)
    job = catalog_import_run(job_id=job.pk)
    assert (job.status, job.attempt) == (ImportStatus.SUCCEEDED, 2)


def test_a_queued_job_that_never_started_gets_its_task_again(shop, portal_client, settings):
    client = portal_client(shop.owner)
    assert _upload(client, b"sku,stock:main\nTEE-RED,8\n").status_code == 302
    job = CatalogImportJob.objects.get()
    waited = timezone.now() - timedelta(seconds=settings.SELLER_IMPORT_REQUEUE_SECONDS + 1)
    CatalogImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, updated_at=waited)
    OutboxMessage.objects.all().delete()
    assert catalog_import_jobs_recover() == 1
    assert OutboxMessage.objects.get().task == IMPORT_RUN_TASK


class _StalledImport:
    """Runs a job in a thread of its own (its own connection, as a worker) while this test's
    connection holds TEE-RED's stock rows locked, so the import waits at its stock phase until
    `release()`; meanwhile the test can act as another process would."""

    def __init__(self, job) -> None:
        self.job = job
        self.result: list = []
        self.locked = transaction.atomic()
        self.locked.__enter__()
        list(Stock.objects.select_for_update().filter(variant__sku="TEE-RED"))
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        deadline = time.monotonic() + 30
        while CatalogImportJob.objects.get(pk=job.pk).status != ImportStatus.RUNNING:
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.05)

    def _run(self) -> None:
        try:
            self.result.append(catalog_import_run(job_id=self.job.pk))
        finally:
            connection.close()

    def release(self):
        self.locked.__exit__(None, None, None)
        self.thread.join(timeout=60)
        return self.result[0]


def _queued_stock_import(client, settings) -> CatalogImportJob:
    assert _upload(client, b"sku,price,stock:main\nTEE-RED,77.00,8\n").status_code == 302
    job = CatalogImportJob.objects.get()
    CatalogImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    return job


@pytest.mark.django_db(transaction=True)
def test_a_run_that_was_taken_over_cannot_commit_its_rows(shop, portal_client, settings):
    """A worker only slow (not dead) whose job another run took over must not commit: the new
    run owns the job and imports the file itself."""
    client = portal_client(shop.owner)
    job = _queued_stock_import(client, settings)
    before = _snapshot()
    stalled = _StalledImport(job)
    # what another run's claim does when it takes the job over
    CatalogImportJob.objects.filter(pk=job.pk).update(attempt=F("attempt") + 1)
    result = stalled.release()
    assert (result.status, result.attempt) == (ImportStatus.RUNNING, 2)
    assert _snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_long_step_alive_for_the_recovery_sweeper(
    shop, portal_client, settings
):
    settings.SELLER_IMPORT_HEARTBEAT_SECONDS = 0
    settings.SELLER_IMPORT_HEARTBEAT_STALE_SECONDS = 1
    client = portal_client(shop.owner)
    job = _queued_stock_import(client, settings)
    stalled = _StalledImport(job)
    time.sleep(2.5)  # longer than the stale window: only the heartbeat keeps it alive
    recovered = []
    sweeper = threading.Thread(
        target=lambda: (recovered.append(catalog_import_jobs_recover()), connection.close())
    )
    sweeper.start()
    sweeper.join()
    assert recovered == [0]
    result = stalled.release()
    assert (result.status, result.attempt) == (ImportStatus.SUCCEEDED, 1)
    assert ProductVariant.objects.get(sku="TEE-RED").price == Decimal("77.00")


# --- progress, roles, scoping, CSRF ---------------------------------------------------------


def test_progress_endpoint_reports_the_job_of_this_shop_only(shop, other_owner, portal_client):
    client = portal_client(shop.owner)
    assert _upload(client, b"sku,price\nTEE-RED,10.50\n").status_code == 302
    job = CatalogImportJob.objects.get()
    CatalogImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, total_rows=4, processed_rows=1
    )

    body = client.get(reverse("portal:import_progress", args=[job.pk])).json()
    assert body["status"] == "running" and body["percent"] == 25
    assert (body["processed_rows"], body["total_rows"], body["finished"]) == (1, 4, False)
    page = client.get(reverse("portal:import_job", args=[job.pk])).content.decode()
    assert '<progress id="import-bar" max="4" value="1">' in page
    assert '<meta http-equiv="refresh"' in page

    stranger = portal_client(other_owner)
    for name in ("portal:import_progress", "portal:import_job"):
        assert stranger.get(reverse(name, args=[job.pk])).status_code == 404
    assert stranger.post(reverse("portal:import_start", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING


def test_fulfilment_staff_cannot_import_or_export(shop, portal_client):
    staff = SellerMemberFactory(seller=shop.seller, role=MemberRole.FULFILMENT)
    client = portal_client(staff)
    assert client.get(reverse("portal:catalog_csv")).status_code == 403
    assert client.get(reverse("portal:catalog_export")).status_code == 403
    assert _upload(client, b"sku,price\nTEE-RED,1.00\n").status_code == 403
    assert not CatalogImportJob.objects.exists()


def test_manager_may_import_and_export(shop, portal_client):
    manager = SellerMemberFactory(seller=shop.seller, role=MemberRole.MANAGER)
    client = portal_client(manager)
    assert len(_rows(_export(client))) == 3
    assert _upload(client, b"sku,price\nTEE-RED,10.50\n").status_code == 302
    assert CatalogImportJob.objects.get().created_by == manager.user


def test_upload_and_start_need_the_csrf_token(shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop.owner.user)
    assert _upload(client, b"sku,price\nTEE-RED,10.50\n").status_code == 403
    assert not CatalogImportJob.objects.exists()


def test_import_sets_status_tax_class_weight_and_backorders(shop):
    data = _csv(
        [
            {
                "sku": "TEE-RED",
                "status": "archived",
                "tax_class": "reduced",
                "weight_grams": "250",
                "allow_backorder": "yes",
            }
        ]
    )
    plan = catalog_import_check(seller=shop.seller, data=data)
    assert plan.errors == []
    catalog_import_apply(seller=shop.seller, plan=plan, actor=None, reference="t")
    shop.tee.refresh_from_db()
    shop.tee_red.refresh_from_db()
    assert (shop.tee.status, shop.tee.tax_class) == (ProductStatus.ARCHIVED, "reduced")
    assert (shop.tee_red.weight_grams, shop.tee_red.allow_backorder) == (250, True)
    # The backorder policy reached the variant's stock rows (inventory's backorder sync).
    assert Stock.objects.get(variant=shop.tee_red).backorder_allowed is True


def test_status_draft_and_publishing_without_active_variant_are_refused(shop):
    data = _csv(
        [
            {"sku": "TEE-RED", "status": "draft", "is_active": "true"},
            {"sku": "MUG-1", "status": "active", "is_active": "false"},
        ]
    )
    plan = catalog_import_check(seller=shop.seller, data=data)
    assert [(e.row, e.column) for e in plan.errors] == [(2, "status"), (3, "status")]
