"""Fault suite: the whole stack on 127.0.0.1 under a bounded checkout load, one fault at a time,
then a check of every invariant the business stands on.

It starts its own Redis (broker and cache), gunicorn, a Celery worker and the outbox relay, in
its own database `<DATABASE_URL's database>_faults` (created, migrated, dropped; `--keep`
keeps it). Clients (threads, one shopper each) loop through the API's whole purchase: add a
line (with an Idempotency-Key), start a checkout, set address and shipping, place (with an
Idempotency-Key), retrying each step with the same key on 5xx, 409 "still running" and dropped
connections, as a mobile app does. Each phase runs the load for `--seconds`, injects its fault
a third of the way in and heals it at two thirds:

  none                 baseline
  web-sigkill          SIGKILL one gunicorn worker (the master starts another)
  web-sigterm          SIGTERM the gunicorn master mid-load (a deploy), then start it again
  db-terminate         pg_terminate_backend on every app connection
  db-down              the database refuses new connections (ALLOW_CONNECTIONS false)
  redis-stop           Redis (broker and cache) stopped, then started again empty
  redis-sigstop        Redis frozen (SIGSTOP), then thawed
  worker-sigkill       a seller's CSV import is running; the whole Celery worker is SIGKILLed,
                       then started again

After the phases it waits for the outbox and the queue to drain, then checks: stock counters
equal their rows, nothing oversold, every order has lines and seller orders whose totals add
up, every live line is allocated, every placement a client saw exists (once per checkout),
every live order is paid, no Idempotency-Key is left without an answer, every outbox task ran
(none failed for good), every order's confirmation email was sent, and the import finished
whole. Timings are shortened so that a phase sees what production sees within minutes: key
leases 5 s, visibility timeout 10 s, import heartbeat stale after 5 s, outbox redelivery 10 s.
A process that exits on its own is started again, as systemd's Restart=always would, and the
table's notes say so.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/faults.py [--clients 6] [--seconds 9] [--faults a,b] [--json F]

`--short` is the CI version (tests/faults/): 4 clients, 4 s phases. Exit status 1 when any
invariant is violated or any fault produced a 5xx other than 503.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAULTS = (
    "none",
    "web-sigkill",
    "web-sigterm",
    "db-terminate",
    "db-down",
    "redis-stop",
    "redis-sigstop",
    "worker-sigkill",
)
APP_NAME = "shop-faults"  # application_name of every server connection: what faults target
ADDRESS = {
    "full_name": "Fault Shopper",
    "line1": "1 Chaos Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
VARIANTS = 40
PLENTY = 100_000
IMPORT_ROWS = 400
RETRY_FOR_SECONDS = 45.0  # a client gives one step this long before giving up on the flow
SETTLE_TIMEOUT_SECONDS = 120.0
FAILED_FOR_GOOD = "the task failed for good"  # shop.core.outbox's mark


# --- the stack ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """Redis, gunicorn, a Celery worker and the outbox relay, each in a process group of its
    own, logging under `var/logs`."""

    def __init__(self, database_url: str, var: Path) -> None:
        from shop.embedded import EmbeddedRedis

        self.var = var
        self.redis = EmbeddedRedis(var)
        self.port = _free_port()
        self.mail = var / "mail"
        separator = "&" if "?" in database_url else "?"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "EMAIL_HOST"}},
            "DATABASE_URL": f"{database_url}{separator}application_name={APP_NAME}",
            "REDIS_URL": self.redis.cache_url,
            "CELERY_BROKER_URL": self.redis.url,
            "DJANGO_DEBUG": "0",
            "SHOP_TEST_PAYMENTS": "1",  # the built-in test gateway, outside debug mode
            "DJANGO_SECRET_KEY": "fault-suite-only-not-a-secret",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SHOP_VAR_DIR": str(var),
            "EMAIL_FILE_PATH": str(self.mail),
            "LOG_LEVEL": "WARNING",
            # short enough to see within a phase what production sees within minutes
            "IDEMPOTENCY_LEASE_SECONDS": "5",
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": "10",
            "SELLER_IMPORT_HEARTBEAT_SECONDS": "1",
            "SELLER_IMPORT_HEARTBEAT_STALE_SECONDS": "5",
            "SHOP_OUTAGE_RETRY_AFTER_SECONDS": "1",
            "OUTBOX_RELAY_INTERVAL_SECONDS": "0.2",
            "OUTBOX_REDELIVER_AFTER_SECONDS": "10",
        }
        self.processes: dict[str, subprocess.Popen] = {}
        (var / "logs").mkdir(parents=True, exist_ok=True)
        # as systemd's Restart=always would: a process that exits on its own is started again,
        # and counted (a deliberate stop is not)
        self.restarts: list[str] = []
        self.deliberate: set[str] = set()
        self.stopping = threading.Event()
        self.supervisor = threading.Thread(target=self._supervise, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, name: str, argv: list[str]) -> None:
        with (self.var / "logs" / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> None:
        self.web_start()
        self.worker_start()
        self.relay_start()
        self.web_wait()
        self.supervisor.start()

    def relay_start(self) -> None:
        self._start("relay", [sys.executable, "manage.py", "outbox_relay"])

    def _supervise(self) -> None:
        starters = {"web": self.web_start, "worker": self.worker_start, "relay": self.relay_start}
        while not self.stopping.wait(0.5):
            for name, start in starters.items():
                process = self.processes.get(name)
                if process is None or process.poll() is None or name in self.deliberate:
                    continue
                self.restarts.append(f"{name} exited with {process.returncode}; restarted")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                start()

    def web_start(self) -> None:
        self._start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "shop.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--graceful-timeout",
                "10",
                "--no-control-socket",
            ],
        )

    def web_wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer; see {self.var / 'logs' / 'web.log'}")

    def worker_start(self) -> None:
        self._start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shop",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def web_workers(self) -> list[int]:
        import psutil

        return [p.pid for p in psutil.Process(self.processes["web"].pid).children()]

    def kill_group(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait()

    def stop(self) -> None:
        self.stopping.set()
        if self.supervisor.is_alive():
            self.supervisor.join()
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop in 20 s; killed", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _redis_continue(self.redis)
        self.redis.stop()


def _redis_continue(redis) -> None:
    if redis.process is not None and redis.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(redis.process.pid, signal.SIGCONT)


# --- the load -------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    ok: int = 0
    client_errors: int = 0
    unavailable: int = 0  # 503: the honest answer during an outage
    server_errors: int = 0  # any other 5xx: a defect
    connection_errors: int = 0
    flows_ok: int = 0
    flows_failed: int = 0
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, kind: str, example: str = "") -> None:
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            if example and len(self.examples) < 5:
                self.examples.append(example)


class GaveUp(Exception):
    pass


class Shopper:
    """One API client: the purchase flow, each step retried with the same key until it gets a
    final answer or RETRY_FOR_SECONDS pass."""

    def __init__(self, base_url: str, token: str, variants: list[int], methods: dict) -> None:
        self.host, self.port = base_url.split("//")[1].split(":")
        self.token, self.variants, self.methods = token, variants, methods
        self.rng = random.Random(token)
        self.conn: http.client.HTTPConnection | None = None

    def _call(self, tally: Tally, method: str, path: str, body=None, key: str = ""):
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            tally.count("requests")
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, int(self.port), timeout=30)
                self.conn.request(method, path, body=json.dumps(body or {}), headers=headers)
                response = self.conn.getresponse()
                status, raw = response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                tally.count("connection_errors")
                self.conn = None
                status, raw = 0, str(exc).encode()
            if 200 <= status < 300:
                tally.count("ok")
                return json.loads(raw)
            if status == 503:
                tally.count("unavailable")
            elif status >= 500:
                tally.count("server_errors", f"{method} {path} {status} {raw[:160]!r}")
            elif status == 409 and b'"conflict"' in raw:
                pass  # the same key is still running elsewhere: retry it
            elif status:
                tally.count("client_errors", f"{method} {path} {status} {raw[:160]!r}")
                raise GaveUp(f"{status} {raw[:200]!r}")
            if time.monotonic() > deadline:
                raise GaveUp(f"no answer to {method} {path} in {RETRY_FOR_SECONDS:g} s")
            time.sleep(0.3 + self.rng.random() * 0.4)

    def purchase(self, tally: Tally) -> tuple[str, str]:
        """(checkout token, order number)."""
        flow = uuid.uuid4().hex[:12]
        variant = self.rng.choice(self.variants)
        self._call(
            tally, "POST", "/api/v1/cart/lines/", {"variant_id": variant, "quantity": 1}, f"a{flow}"
        )
        checkout = self._call(tally, "POST", "/api/v1/checkouts/")
        token = checkout["token"]
        self._call(
            tally,
            "PATCH",
            f"/api/v1/checkouts/{token}/",
            {"email": f"{flow}@faults.local", "address": ADDRESS, "shipping": self.methods},
        )
        order = self._call(
            tally,
            "POST",
            f"/api/v1/checkouts/{token}/place/",
            {"payment_token": "tok_visa"},
            f"p{flow}",
        )
        return token, order["number"]


# --- faults ---------------------------------------------------------------------------------


class Faults:
    def __init__(self, stack: Stack, admin_url: str, database: str) -> None:
        self.stack, self.admin_url, self.database = stack, admin_url, database

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def _terminate(self) -> None:
        self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = '{APP_NAME}'"
        )

    def inject(self, name: str) -> Callable[[], None]:
        """Start fault `name`; returns what heals it."""
        stack = self.stack
        if name == "none":
            return lambda: None
        if name == "web-sigkill":
            os.kill(stack.web_workers()[0], signal.SIGKILL)
            return lambda: None
        if name == "web-sigterm":
            stack.deliberate.add("web")
            stack.processes["web"].send_signal(signal.SIGTERM)

            def restart_web() -> None:
                stack.processes["web"].wait(timeout=30)
                stack.web_start()
                stack.deliberate.discard("web")
                stack.web_wait()

            return restart_web
        if name == "db-terminate":
            self._terminate()
            return lambda: None
        if name == "db-down":
            self._admin(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS false')
            self._terminate()
            return lambda: self._admin(
                f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS true'
            )
        if name == "redis-stop":
            stack.redis.stop()
            return stack.redis.start
        if name == "redis-sigstop":
            os.kill(stack.redis.process.pid, signal.SIGSTOP)
            return lambda: os.kill(stack.redis.process.pid, signal.SIGCONT)
        if name == "worker-sigkill":
            job_id = _import_start()
            _wait(lambda: _job_status(job_id) == "running", 60, "the import to start")
            stack.deliberate.add("worker")
            stack.kill_group("worker")

            def restart_worker() -> None:
                stack.worker_start()
                stack.deliberate.discard("worker")

            return restart_worker
        raise SystemExit(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


# --- data (in this process, through the services) -------------------------------------------


def _django_setup(database_url: str, broker_url: str, var: Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["SHOP_VAR_DIR"] = str(var)  # uploads land where the worker reads them
    os.environ["CELERY_BROKER_URL"] = broker_url
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_CONN_MAX_AGE"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()


def _prepare(clients: int) -> tuple[list[int], dict, list[str]]:
    """A seller pair with stock, shipping and tax; `clients` shoppers with API tokens; the
    importing seller's member. Returns (variant ids, shipping choices, tokens)."""
    from accounts.models import User
    from accounts.services import api_token_create
    from catalog.models import Product, ProductStatus, ProductVariant
    from catalog.services import category_create
    from inventory.models import Warehouse
    from inventory.services import stock_receive
    from pricing.models import ShippingMethod, TaxRate
    from sellers.models import MemberRole, Seller, SellerMember, SellerStatus

    category = category_create(name="Faults", slug="faults")
    TaxRate.objects.create(country="DE", tax_class="standard", rate=Decimal("0.19"))
    variants, methods = [], {}
    for s in range(2):
        seller = Seller.objects.create(
            name=f"Fault seller {s}", slug=f"fault-seller-{s}", status=SellerStatus.APPROVED
        )
        methods[str(seller.pk)] = ShippingMethod.objects.create(
            seller=seller, name="Courier", price=Decimal("4.99")
        ).pk
        warehouse = Warehouse.objects.create(seller=seller, code="main", name="Main")
        for i in range(VARIANTS // 2):
            product = Product.objects.create(
                seller=seller,
                category=category,
                name=f"Fault product {s}-{i}",
                slug=f"fault-{s}-{i}",
                status=ProductStatus.ACTIVE,
            )
            variant = ProductVariant.objects.create(
                product=product, sku=f"F{s}-{i:04d}", price=Decimal("9.99") + i % 5
            )
            stock_receive(warehouse=warehouse, variant=variant, quantity=PLENTY, reason="faults")
            variants.append(variant.pk)
        if s == 0:
            owner = User.objects.create(email="owner@faults.local", password="!")
            SellerMember.objects.create(seller=seller, user=owner, role=MemberRole.OWNER)
    users = User.objects.bulk_create(
        [User(email=f"shopper-{i}@faults.local", password="!") for i in range(clients)]
    )
    tokens = [api_token_create(user=u, name="fault suite")[1] for u in users]
    # carts hold one seller's goods: every order is one seller order with its method
    first_seller = next(iter(methods))
    return variants[: VARIANTS // 2], {first_seller: methods[first_seller]}, tokens


def _import_start() -> int:
    """Start a CSV import of every variant of seller 0 (new prices and stock) through the
    import services, as the portal's "start" button does."""
    from sellers.bulk.imports import (
        catalog_import_check,
        catalog_import_job_create,
        catalog_import_job_start,
    )
    from sellers.models import SellerMember

    member = SellerMember.objects.select_related("seller").get(user__email="owner@faults.local")
    lines = ["sku,name,category,price,stock:main"]
    lines += [
        f"IMP-{i:05d},Imported {i},faults,{10 + i % 7}.50,{50 + i % 9}" for i in range(IMPORT_ROWS)
    ]
    data = ("\n".join(lines) + "\n").encode()
    plan = catalog_import_check(seller=member.seller, data=data)
    if plan.errors:
        raise SystemExit(f"the fault suite's import file is invalid: {plan.errors[:3]}")
    job = catalog_import_job_create(membership=member, filename="faults.csv", data=data, plan=plan)
    catalog_import_job_start(job=job)
    return job.pk


def _job_status(job_id: int) -> str:
    from sellers.models import CatalogImportJob

    return CatalogImportJob.objects.values_list("status", flat=True).get(pk=job_id)


# --- the run --------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    fault: str
    tally: Tally
    placed: list[tuple[str, str]]
    restarts: list[str]


def _phase(
    fault: str, stack: Stack, faults: Faults, shoppers: list[Shopper], seconds: float
) -> PhaseResult:
    tally = Tally()
    placed: list[tuple[str, str]] = []
    stop = threading.Event()

    def shop(shopper: Shopper) -> None:
        while not stop.is_set():
            try:
                placed.append(shopper.purchase(tally))
                tally.count("flows_ok")
            except GaveUp as exc:
                tally.count("flows_failed", f"gave up: {exc}")

    threads = [threading.Thread(target=shop, args=(s,), daemon=True) for s in shoppers]
    restarts_before = len(stack.restarts)
    for thread in threads:
        thread.start()
    try:
        time.sleep(seconds / 3)
        heal = faults.inject(fault)
        time.sleep(seconds / 3)
        heal()
        time.sleep(seconds / 3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return PhaseResult(fault, tally, placed, stack.restarts[restarts_before:])


def _settle(job_ids: list[int]) -> None:
    """Wait until the outbox is published, the import is finished and every live order has its
    confirmation email: the worker and relay catching up after the faults."""
    from shop.core.outbox import OutboxMessage

    def settled() -> bool:
        not_run = OutboxMessage.objects.filter(ran_at__isnull=True).exists()
        running = any(_job_status(j) not in ("succeeded", "failed") for j in job_ids)
        return not not_run and not running and not _orders_missing_email()

    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.5)


_mail_cache: dict[str, str] = {}


def _mail_text(directory: Path) -> str:
    if not directory.exists():
        return ""
    for path in directory.iterdir():
        if path.name not in _mail_cache:
            _mail_cache[path.name] = path.read_text(errors="replace")
    return "\n".join(_mail_cache.values())


_MAIL_DIR: list[Path] = []


def _orders_missing_email() -> list[str]:
    from orders.models import Order

    text = _mail_text(_MAIL_DIR[0])
    numbers = Order.objects.values_list("number", flat=True)
    return [n for n in numbers if f"Your order {n} is confirmed" not in text]


def _invariants(results: list[PhaseResult], job_ids: list[int]) -> dict[str, int]:
    from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
    from django.db.models.functions import Coalesce

    from inventory.models import Allocation, Stock
    from inventory.services import stock_reconcile
    from orders.models import Order, OrderLine, OrderStatus, SellerOrder
    from sellers.models import CatalogImportJob
    from shop.core.idempotency import IdempotencyRecord
    from shop.core.outbox import OutboxMessage

    live = Order.objects.exclude(status=OrderStatus.CANCELLED)
    seen = {number for r in results for _, number in r.placed}
    outstanding = Coalesce(
        Subquery(
            Allocation.objects.filter(order_line_id=OuterRef("pk"))
            .values("order_line_id")
            .annotate(t=Sum(F("quantity") - F("shipped_quantity") - F("cancelled_quantity")))
            .values("t")
        ),
        0,
    )
    lines = OrderLine.objects.annotate(outstanding=outstanding)
    line_allocated = lines.filter(order__in=live).exclude(outstanding=F("quantity"))
    cancelled_held = lines.filter(order__status=OrderStatus.CANCELLED).exclude(outstanding=0)
    seller_totals = (
        Order.objects.annotate(sellers_total=Sum("seller_orders__total"))
        .exclude(sellers_total=F("total"))
        .count()
    )
    jobs = CatalogImportJob.objects.filter(pk__in=job_ids)
    return {
        "stock counters != rows (inventory_check)": len(stock_reconcile(repair=False)),
        "stock rows oversold": Stock.objects.filter(
            on_hand__lt=F("allocated") + F("reserved")
        ).count(),
        "orders without lines": Order.objects.annotate(n=Count("lines")).filter(n=0).count(),
        "seller orders without lines": SellerOrder.objects.annotate(n=Count("lines"))
        .filter(n=0)
        .count(),
        "orders whose seller totals differ": seller_totals,
        "live lines not allocated exactly": line_allocated.count(),
        "cancelled lines still holding stock": cancelled_held.count(),
        "placements clients saw that do not exist": len(
            seen - set(Order.objects.values_list("number", flat=True))
        ),
        "live orders unpaid or without payment": live.filter(
            ~Q(status=OrderStatus.PAID) | Q(payment_reference="")
        ).count(),
        "Idempotency-Keys without an answer": IdempotencyRecord.objects.filter(
            response_status__isnull=True
        ).count(),
        "outbox tasks that never ran": OutboxMessage.objects.filter(ran_at__isnull=True).count(),
        "outbox tasks that failed for good": OutboxMessage.objects.filter(
            ran_at__isnull=False, last_error__startswith=FAILED_FOR_GOOD
        ).count(),
        "orders without their confirmation email": len(_orders_missing_email()),
        "imports not finished whole": jobs.exclude(status="succeeded").count(),
    }


def run(*, clients: int, seconds: float, faults: list[str], keep: bool) -> dict:
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server (<name>_faults is used).")
    head, _, name = base_url.rpartition("/")
    name, _, query = name.partition("?")
    database = f"{name}_faults"
    own_url = f"{head}/{database}" + (f"?{query}" if query else "")
    admin_url = f"{head}/postgres" + (f"?{query}" if query else "")

    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')

    var = Path(tempfile.mkdtemp(prefix="faults-"))
    stack = Stack(own_url, var)
    _MAIL_DIR.append(stack.mail)
    _django_setup(own_url, stack.redis.url, var)
    from django.core.management import call_command

    stack.redis.start()
    print(f"database {database}: migrating and preparing...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    variants, methods, tokens = _prepare(clients)
    results: list[PhaseResult] = []
    job_ids: list[int] = []
    try:
        stack.start()
        shoppers = [Shopper(stack.base_url, t, variants, methods) for t in tokens]
        chaos = Faults(stack, admin_url, database)
        from sellers.models import CatalogImportJob

        for fault in faults:
            print(f"phase {fault}: {clients} clients for {seconds:g} s...", flush=True)
            results.append(_phase(fault, stack, chaos, shoppers, seconds))
            job_ids = list(CatalogImportJob.objects.values_list("pk", flat=True))
        print("settling: outbox, queue, import...", flush=True)
        _settle(job_ids)
        violations = _invariants(results, job_ids)
    finally:
        stack.stop()
        from django.db import connections

        connections.close_all()
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return {
        "phases": [
            {
                "fault": r.fault,
                **{f.name: getattr(r.tally, f.name) for f in fields(Tally) if f.name != "lock"},
                "restarts": r.restarts,
            }
            for r in results
        ],
        "invariants": violations,
        "logs": str(var / "logs"),
    }


def _print(report: dict) -> None:
    columns = (
        ("fault", "fault", 15),
        ("requests", "requests", 9),
        ("ok", "2xx", 6),
        ("unavailable", "503", 6),
        ("server_errors", "other 5xx", 10),
        ("connection_errors", "dropped", 8),
        ("client_errors", "4xx", 5),
        ("flows_ok", "orders", 7),
        ("flows_failed", "gave up", 8),
    )
    print()
    print("  ".join(title.rjust(width) for _, title, width in columns))
    for phase in report["phases"]:
        print("  ".join(str(phase[key]).rjust(width) for key, _, width in columns))
    for phase in report["phases"]:
        for example in phase["examples"]:
            print(f"  {phase['fault']}: {example}")
        for restart in phase["restarts"]:
            print(f"  {phase['fault']}: {restart} (as a supervisor would)")
    print("\ninvariant violations (all must be 0):")
    for name, count in report["invariants"].items():
        print(f"  {count:5d}  {name}")
    print(f"\nserver logs: {report['logs']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=9.0, help="length of each phase")
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated phases")
    parser.add_argument("--short", action="store_true", help="CI: 4 clients, 4 s phases")
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.short:
        args.clients, args.seconds = 4, 4.0
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
    report = run(clients=args.clients, seconds=args.seconds, faults=faults, keep=args.keep)
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    bad = any(report["invariants"].values()) or any(p["server_errors"] for p in report["phases"])
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
