"""The app through PgBouncer in transaction mode (tests/scaleout/conftest.py): more clients than
server connections, each statement's transaction on whichever server connection is free."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from catalog.models import Product
from inventory.models import Stock
from inventory.services import stock_reserve
from inventory.services.contracts import ReserveLine
from tests.factories import ProductVariantFactory
from tests.factories.inventory import stock_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

CLIENTS = 6


def test_checkout_reservations_run_through_pgbouncer(pgbouncer, settings):
    settings.INVENTORY_PREPARED_STATEMENTS = False
    stock = stock_with(on_hand=CLIENTS * 2)
    for _ in range(5):
        ProductVariantFactory()
    errors: list[BaseException] = []
    ports: set[str] = set()
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        try:
            ports.add(str(connection.settings_dict["PORT"]))
            start.wait()
            for turn in range(2):
                stock_reserve(
                    holder=f"checkout:bouncer-{number}-{turn}",
                    lines=[ReserveLine(variant_id=stock.variant_id, quantity=1)],
                )
                # a chunked read (QuerySet.iterator) between transactions
                assert sum(1 for _ in Product.objects.iterator(chunk_size=2)) == 6
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert ports == {str(pgbouncer.port)}
    stock = Stock.objects.get(pk=stock.pk)
    assert stock.reserved == CLIENTS * 2
    dbname = str(connection.settings_dict["NAME"])
    pool = next(row for row in pgbouncer.admin("SHOW POOLS") if row[0] == dbname)
    assert pool[-1] == "transaction"
    servers = [row for row in pgbouncer.admin("SHOW SERVERS") if row[2] == dbname]
    # six clients were served by at most two server connections
    assert 1 <= len(servers) <= pgbouncer.pool_size


def test_server_side_cursors_would_break_behind_pgbouncer(pgbouncer):
    """Why DATABASE_PGBOUNCER turns server-side cursors off: a cursor declared by one client
    lives on one server connection, which PgBouncer hands to another client between the
    statements; the first client's next FETCH runs on a connection that has no such cursor."""
    import psycopg

    dbname = str(connection.settings_dict["NAME"])
    params = {"host": "127.0.0.1", "port": pgbouncer.port, "user": "postgres", "dbname": dbname}
    with psycopg.connect(**params, autocommit=True) as first, psycopg.connect(**params) as other:
        first.execute("DECLARE held NO SCROLL CURSOR WITH HOLD FOR SELECT 1")
        other.execute("SELECT 1")  # a transaction left open: holds the connection just used
        with pytest.raises(psycopg.errors.InvalidCursorName):
            first.execute("FETCH 1 FROM held")
