"""Failover: the primary dies under writes, the replica is promoted (`pg_ctl promote`, as a
failover manager would), and the app reconnects by itself through a multi-host DATABASE_URL
(`target_session_attrs=read-write`). Meanwhile pages answer 503, not 500; afterwards every
acknowledged write is on the new primary (synchronous replication: a commit is acknowledged
once the replica has it)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import InterfaceError, OperationalError, connection, connections

from inventory.models import Stock, StockMovement
from inventory.services import stock_receive
from tests.factories import ProductVariantFactory
from tests.factories.inventory import WarehouseFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture
def multi_host(replicated):
    """ "default" names both servers; libpq connects to the first one that accepts writes.
    Left so until `replicated` puts "default" back (the test database is flushed before)."""
    replicated.primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
    replicated.primary.psql("SELECT pg_reload_conf()")
    default = connections["default"].settings_dict
    connections["default"].close()
    default["HOST"] = "127.0.0.1,127.0.0.1"
    default["PORT"] = f"{replicated.primary.port},{replicated.replica.port}"
    default["OPTIONS"] = {**default["OPTIONS"], "target_session_attrs": "read-write"}
    return replicated


def test_the_app_survives_a_primary_switch_without_losing_a_write(multi_host, client):
    variant = ProductVariantFactory()
    warehouse = WarehouseFactory(seller=variant.product.seller)
    acknowledged = 0
    failures = 0
    stop = threading.Event()

    def writer() -> None:
        nonlocal acknowledged, failures
        try:
            while not stop.is_set():
                try:
                    stock_receive(warehouse=warehouse, variant=variant, quantity=1, reason="t")
                    acknowledged += 1
                except (OperationalError, InterfaceError):
                    failures += 1
                    connection.close()
                    time.sleep(0.1)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(1)
        multi_host.primary.stop("immediate")  # the primary dies
        time.sleep(1)
        connection.close()
        outage = client.get("/")
        before_promote = acknowledged  # nothing can commit until the promotion
        multi_host.replica.promote()
        started = time.monotonic()
        while acknowledged == before_promote and time.monotonic() - started < 30:
            time.sleep(0.1)
        recovered_after = time.monotonic() - started
    finally:
        time.sleep(0.5)
        stop.set()
        thread.join(30)
    assert outage.status_code == 503
    assert outage.headers["Retry-After"]
    assert failures > 0
    assert acknowledged > before_promote, "no write succeeded after the promotion"
    assert recovered_after < 10
    stock = Stock.objects.get(variant=variant, warehouse=warehouse)
    # every acknowledged receipt is there (one more at most: committed, but its answer was lost
    # with the primary), and the ledger agrees with the counter
    assert acknowledged <= stock.on_hand <= acknowledged + 1
    assert StockMovement.objects.filter(stock=stock).count() == stock.on_hand
    assert client.get("/").status_code == 200
