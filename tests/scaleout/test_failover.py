"""Failover: the primary dies under writes (stock receipts; order placement over the API), the
replica is promoted (`pg_ctl promote`, as a failover manager would), and the app reconnects by
itself through a multi-host DATABASE_URL (`target_session_attrs=read-write`). Meanwhile pages
answer 503, not 500; afterwards every acknowledged write is on the new primary (synchronous
replication: a commit is acknowledged once the replica has it). Each test has servers of its
own (`replicated_once`): a failover leaves no primary with a replica behind."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)
from django.db.models import F, Sum
from rest_framework.test import APIClient

from inventory.models import Stock, StockMovement
from inventory.services import stock_receive
from orders.models import Order, OrderLine
from tests.factories import ProductVariantFactory, UserFactory
from tests.factories.inventory import WarehouseFactory
from tests.orders.conftest import Market

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture
def multi_host(replicated_once):
    """ "default" names both servers; libpq connects to the first one that accepts writes.
    Left so until `replicated_once` puts "default" back."""
    replicated = replicated_once
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


def test_no_acknowledged_order_is_lost_when_the_primary_dies_under_placement(multi_host, settings):
    """Shoppers place orders over the API (test gateway, an Idempotency-Key each, retried
    after a 503 or a 409 like an app does) while the primary dies and the replica is promoted:
    answers are 503s and 409s meanwhile, never 500s; every order a shopper was told about is
    on the new primary, every checkout ends up placed once, and nothing is oversold."""
    # a placement the kill cuts off keeps its key leased; a short lease frees it within the test
    settings.IDEMPOTENCY_LEASE_SECONDS = 3
    market = Market(stock=200)
    shoppers = [[market.ready_checkout(user=UserFactory()) for _ in range(6)] for _ in range(4)]
    connection.close()
    statuses: Counter[int] = Counter()
    acknowledged: dict[str, str] = {}
    answers: dict[str, list[tuple[float, int]]] = {}  # per checkout: (sent at, status)
    lock = threading.Lock()

    def shopper(checkouts) -> None:
        try:
            for checkout in checkouts:
                api = APIClient(raise_request_exception=False)
                api.force_authenticate(checkout.user)
                started = time.monotonic()
                while time.monotonic() - started < 30:
                    # what a served app does at every request's start and end; the test
                    # client turns it off: a connection the kill broke is dropped
                    close_old_connections()
                    sent = time.monotonic()
                    response = api.post(
                        f"/api/v1/checkouts/{checkout.token}/place/",
                        {"payment_token": "tok_visa"},
                        format="json",
                        HTTP_IDEMPOTENCY_KEY=f"failover-{checkout.token}",
                    )
                    with lock:
                        statuses[response.status_code] += 1
                        answers.setdefault(str(checkout.token), []).append(
                            (sent, response.status_code)
                        )
                    if response.status_code == 201:
                        with lock:
                            acknowledged[str(checkout.token)] = response.json()["number"]
                        break
                    if response.status_code not in (409, 503):
                        break
                    time.sleep(0.1)
        finally:
            connection.close()

    threads = [threading.Thread(target=shopper, args=(mine,)) for mine in shoppers]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(acknowledged) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        placed_before_the_kill = len(acknowledged)
        killed = time.monotonic()
        multi_host.primary.stop("immediate")
        time.sleep(1)
        multi_host.replica.promote()
    finally:
        for thread in threads:
            thread.join(120)
    assert placed_before_the_kill >= 4
    assert statuses[503] > 0, "the outage was not seen"
    assert set(statuses) <= {201, 409, 503}, statuses
    checkouts = [str(checkout.token) for mine in shoppers for checkout in mine]
    unplaced = {  # what each shopper left waiting saw, in seconds after the kill
        t: [(round(sent - killed, 1), status) for sent, status in answers.get(t, [])]
        for t in checkouts
        if t not in acknowledged
    }
    assert not unplaced, unplaced
    on_new_primary = dict(Order.objects.values_list("checkout__token", "number").order_by("number"))
    assert {str(token): number for token, number in on_new_primary.items()} == acknowledged
    assert not Stock.objects.filter(on_hand__lt=F("allocated") + F("reserved")).exists()
    allocated = Stock.objects.aggregate(units=Sum("allocated"))["units"]
    assert allocated == OrderLine.objects.aggregate(units=Sum("quantity"))["units"]
