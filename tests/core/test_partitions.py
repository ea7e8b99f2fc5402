"""Monthly partitions (shop/core/partitions.py): where rows land, what `partitions_maintain`
creates, archives and refuses, and the migration's conversion of a table holding rows. Against
the real PostgreSQL of the run (DATABASE_URL, or the embedded one): no extension is needed."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from inventory.models import MovementReason, StockMovement
from inventory.services import stock_receive, stock_reconcile
from shop.core.outbox import OutboxMessage, outbox_relay
from shop.core.partitions import (
    default_partition_name,
    month_add,
    month_start,
    partition_name,
    partitions_list,
    partitions_maintain,
    table_partition_convert,
    table_partition_revert,
)
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory

pytestmark = pytest.mark.django_db

OUTBOX = OutboxMessage._meta.db_table
MOVEMENTS = StockMovement._meta.db_table
PARTITIONED = {
    StockMovement._meta.db_table,
    "orders_orderevent",
    "payments_paymentevent",
    OUTBOX,
}


def _home(table: str, pk: int) -> str:
    """The partition a row is stored in."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _message(at: datetime, *, ran: bool = False) -> OutboxMessage:
    return OutboxMessage.objects.create(
        task="shop.core.worker_ping",
        kwargs={"token": "t"},
        created_at=at,
        available_at=at,
        ran_at=at if ran else None,
    )


def _months_ahead(months: int) -> datetime:
    """A moment `months` calendar months from now (mid-month, UTC)."""
    month = month_add(month_start(timezone.now()), months)
    return datetime(month.year, month.month, 15, tzinfo=UTC)


@pytest.fixture
def only(settings):
    """Maintain only the given tables (others' rows from the test's own writes don't matter)."""

    def restrict(table: str, **options) -> None:
        settings.PARTITIONED_TABLES = {table: {**settings.PARTITIONED_TABLES[table], **options}}

    return restrict


def test_the_growing_tables_are_partitioned_and_idempotency_records_are_not():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname = ANY(%s)",
            [[*PARTITIONED, "core_idempotencyrecord"]],
        )
        kinds = dict(cursor.fetchall())
    assert kinds == {**dict.fromkeys(PARTITIONED, "p"), "core_idempotencyrecord": "r"}


def test_rows_land_in_the_partition_of_their_month_and_stray_dates_in_the_default():
    now = timezone.now()
    this_month = _message(now)
    next_month = _message(_months_ahead(1))
    far_future = _message(datetime(2090, 6, 1, tzinfo=UTC))
    far_past = _message(datetime(1990, 6, 1, tzinfo=UTC))

    assert _home(OUTBOX, this_month.pk) == partition_name(OUTBOX, month_start(now))
    assert _home(OUTBOX, next_month.pk) == partition_name(OUTBOX, month_add(month_start(now), 1))
    assert _home(OUTBOX, far_future.pk) == default_partition_name(OUTBOX)
    assert _home(OUTBOX, far_past.pk) == default_partition_name(OUTBOX)
    # ids still come from one sequence, across partitions
    assert this_month.pk < next_month.pk < far_future.pk < far_past.pk


def test_maintain_creates_next_months_once(only, tmp_path):
    only(OUTBOX)
    later = month_add(month_start(timezone.now()), 5)
    first = partitions_maintain(premake_months=5, archive_dir=tmp_path)
    again = partitions_maintain(premake_months=5, archive_dir=tmp_path)

    assert partition_name(OUTBOX, later) in first[0].created
    assert again[0].created == []
    with connection.cursor() as cursor:
        months = [p.month for p in partitions_list(cursor, OUTBOX) if p.month]
    assert later in months
    assert len(months) == len(set(months))


def test_rows_the_default_partition_caught_move_into_their_new_month(only, tmp_path):
    only(OUTBOX)
    stray = _message(_months_ahead(6))
    assert _home(OUTBOX, stray.pk) == default_partition_name(OUTBOX)

    (report,) = partitions_maintain(premake_months=6, archive_dir=tmp_path)

    assert report.moved_from_default == 1
    assert _home(OUTBOX, stray.pk) == partition_name(OUTBOX, month_start(_months_ahead(6)))
    assert OutboxMessage.objects.get(pk=stray.pk).kwargs == {"token": "t"}


def test_rows_far_outside_the_kept_months_stay_in_the_default_and_are_reported(only, tmp_path):
    only(OUTBOX)
    _message(datetime(2090, 1, 1, tzinfo=UTC), ran=True)
    out = io.StringIO()

    call_command("partitions_maintain", archive_dir=tmp_path, stdout=out)

    assert "1 row(s) in core_outboxmessage_default, dated 2090-01-01 to 2090-01-01" in (
        out.getvalue()
    )
    assert "Partitions maintained." in out.getvalue()


def test_months_past_retention_are_archived_then_dropped_and_stock_still_reconciles(only, tmp_path):
    only(MOVEMENTS, keep_months=2)
    variant = ProductVariantFactory()
    warehouse = WarehouseFactory(seller=variant.product.seller)
    first = stock_receive(warehouse=warehouse, variant=variant, quantity=5)
    second = stock_receive(warehouse=warehouse, variant=variant, quantity=3)
    month = partition_name(MOVEMENTS, month_start(timezone.now()))

    # three months on, this month is past a retention of two
    (report,) = partitions_maintain(now=_months_ahead(3), archive_dir=tmp_path)

    assert list(report.archived) == [month]
    with gzip.open(report.archived[month], "rt", newline="") as archive:
        rows = list(csv.DictReader(archive))
    assert [int(r["id"]) for r in rows] == [first.pk, second.pk]
    assert [int(r["delta"]) for r in rows] == [5, 3]
    assert not StockMovement.objects.filter(pk__in=[first.pk, second.pk]).exists()
    with connection.cursor() as cursor:
        assert month not in {p.name for p in partitions_list(cursor, MOVEMENTS)}
        cursor.execute("SELECT to_regclass(%s)", [month])
        assert cursor.fetchone()[0] is None
    # the archived month's sum is carried forward: the ledger still explains on_hand
    (carried,) = StockMovement.objects.filter(stock_id=first.stock_id)
    assert (carried.reason, carried.delta, carried.on_hand_after) == (
        MovementReason.CARRIED_FORWARD,
        8,
        8,
    )
    assert stock_reconcile() == []


def test_a_month_holding_a_task_not_run_is_never_detached(only, tmp_path):
    only(OUTBOX, keep_months=1)
    waiting = _message(timezone.now() - timedelta(seconds=5))
    month = partition_name(OUTBOX, month_start(timezone.now()))

    (report,) = partitions_maintain(now=_months_ahead(3), archive_dir=tmp_path)

    assert report.refused == {month: 1}
    assert month not in report.archived
    assert not (tmp_path / f"{month}.csv.gz").exists()
    assert _home(OUTBOX, waiting.pk) == month
    # the relay still finds it
    assert outbox_relay().claimed == 1

    OutboxMessage.objects.filter(pk=waiting.pk).update(ran_at=timezone.now())
    (report,) = partitions_maintain(now=_months_ahead(3), archive_dir=tmp_path)
    assert month in report.archived
    assert not OutboxMessage.objects.filter(pk=waiting.pk).exists()


def test_converting_a_table_with_rows_keeps_every_row_its_id_and_the_sequence():
    """What the migration does, on the outbox table: back to a plain table, rows of many
    months written, then converted again."""
    with connection.cursor() as cursor:
        table_partition_revert(cursor, OUTBOX)
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [OUTBOX])
        assert cursor.fetchone()[0] == "r"
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [OUTBOX])
        indexes = [name for (name,) in cursor.fetchall()]
    now = timezone.now()
    dates = [now - timedelta(days=40 * n) for n in range(6)] + [datetime(1990, 1, 1, tzinfo=UTC)]
    written = {_message(at).pk: at for at in dates}
    OutboxMessage.objects.filter(pk=max(written)).delete()  # the sequence is past the last row
    del written[max(written)]

    with connection.cursor() as cursor:
        table_partition_convert(cursor, OUTBOX)
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [OUTBOX])
        assert cursor.fetchone()[0] == "p"
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [OUTBOX])
        assert [name for (name,) in cursor.fetchall()] == indexes

    kept = dict(OutboxMessage.objects.values_list("pk", "created_at"))
    assert kept == written
    for pk, at in written.items():
        expected = (
            default_partition_name(OUTBOX)
            if at.year == 1990
            else partition_name(OUTBOX, month_start(at))
        )
        assert _home(OUTBOX, pk) == expected
    after = _message(now)
    assert after.pk == max(written) + 2


def test_maintain_runs_daily_from_beat(settings):
    from shop.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["partitions-maintain"]
    assert entry["task"] in app.tasks
