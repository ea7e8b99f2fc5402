"""Checkout throughput over HTTP: the API served by gunicorn on 127.0.0.1, clients in separate
processes, 3-line carts across 2 sellers, at 8 and 32 concurrent clients, on uniform and on hot
SKUs. For each cell it prints

  (a) placement alone on prepared checkouts (stock held, address and shipping set):
      orders/s and p50/p95/p99 latency of POST /api/v1/checkouts/<token>/place/;
  (b) the full flow per order (3 x add line, start checkout, set address and shipping, place):
      orders/s;
  raw: the raw-SQL ceiling for placement through psycopg (lock the 3 stock rows in id order,
      insert the order and its lines, move the counters, commit), and the ratio (a)/raw.

Then, per cell, the CPU per order of (a) and of raw, split into gunicorn, the bench database's
PostgreSQL backends and the client processes (Linux /proc): where the machine's time goes.

Before the first cell, untimed warm-up placements let every server thread open its connection
and prepare its statements. After every cell it checks that nothing is oversold (`allocated +
reserved <= on_hand` on every stock row, and allocated units == units on live order lines).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/checkout_throughput.py [--clients 8,32] [--orders 30]

It works in its own database, `<your database>_checkout_bench` (created, migrated, dropped;
`--keep` keeps it), and starts and stops its own gunicorn on a free 127.0.0.1 port.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNIFORM_VARIANTS = 100  # per seller
PLENTY = 100_000  # units per stock row (the most one receipt may bring), never sold out
ADDRESS = {
    "full_name": "Bench Shopper",
    "line1": "1 Load Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}

RAW_LOCK = (
    "SELECT id, on_hand, allocated FROM bench_stock WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
)
RAW_ORDER = (
    "INSERT INTO bench_order (number, total, created_at) VALUES (%s, %s, now()) RETURNING id"
)
RAW_LINE = (
    "INSERT INTO bench_order_line (order_id, stock_id, quantity, price) VALUES (%s, %s, %s, %s)"
)
RAW_MOVE = (
    "UPDATE bench_stock SET allocated = allocated + %s WHERE id = %s AND on_hand - allocated >= %s"
)


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    os.environ["DATABASE_CONN_MAX_AGE"] = "0"
    import django

    django.setup()


# How the benchmark serves (and placement_profile.py runs in-process): like production.
SERVED_ENV = {
    "DJANGO_DEBUG": "0",
    "SHOP_TEST_PAYMENTS": "1",  # the built-in test gateway, outside debug mode
    "DJANGO_SECRET_KEY": "benchmark-only-not-a-secret",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DATABASE_CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
}


def _database_urls(suffix: str) -> tuple[str, str, str]:
    """(url of `<DATABASE_URL's database>_<suffix>`, url of the server's `postgres` database,
    the name), the benchmark's own database."""
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        raise SystemExit(f"Set DATABASE_URL to a PostgreSQL server (<name>_{suffix} is used).")
    head, _, name = base_url.rpartition("/")
    own = f"{name.split('?')[0]}_{suffix}"
    return f"{head}/{own}", f"{head}/postgres", own


def _database_drop(admin_url: str, name: str, *, create: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_start(
    *, workers: int, threads: int, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the app on a free 127.0.0.1 port as SERVED_ENV says, once /healthz
    answers: (the process, its base URL). `env` is added to this process's environment."""
    import requests

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "shop.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **SERVED_ENV, **(env or {})},
    )
    for _ in range(150):
        try:
            if requests.get(f"{base}/healthz", timeout=5).ok:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.terminate()
    server.wait(timeout=30)
    raise RuntimeError("gunicorn did not start")


# --- data ---------------------------------------------------------------------------------------


def _prepare_catalogue() -> dict[str, list[tuple[int, int]]]:
    """Two sellers with a warehouse, a shipping method each and plenty of stock. Returns, per
    scenario, the (variant_id, seller_id) pool carts draw from."""
    from catalog.models import Product, ProductStatus, ProductVariant
    from catalog.services import category_create
    from inventory.models import Warehouse
    from inventory.services import stock_receive
    from pricing.models import ShippingMethod, TaxRate
    from sellers.models import Seller, SellerStatus

    category = category_create(name="Bench", slug="bench")
    TaxRate.objects.create(country="DE", tax_class="standard", rate=Decimal("0.19"))
    pools: dict[str, list[tuple[int, int]]] = {"uniform": [], "hot": []}
    for s in range(2):
        seller = Seller.objects.create(
            name=f"Bench seller {s}", slug=f"bench-seller-{s}", status=SellerStatus.APPROVED
        )
        ShippingMethod.objects.create(seller=seller, name="Courier", price=Decimal("4.99"))
        warehouse = Warehouse.objects.create(seller=seller, code="main", name="Main")
        count = UNIFORM_VARIANTS + 2
        for i in range(count):
            product = Product.objects.create(
                seller=seller,
                category=category,
                name=f"Bench product {s}-{i}",
                slug=f"bench-{s}-{i}",
                status=ProductStatus.ACTIVE,
            )
            variant = ProductVariant.objects.create(
                product=product, sku=f"B{s}-{i:05d}", price=Decimal("9.99") + i % 7
            )
            stock_receive(warehouse=warehouse, variant=variant, quantity=PLENTY, reason="bench")
            pool = "hot" if i >= UNIFORM_VARIANTS else "uniform"
            pools[pool].append((variant.pk, seller.pk))
    return pools


def _cart_lines(pools, scenario: str, rng: random.Random) -> list[int]:
    """3 variants: 2 from seller 0 and 1 from seller 1."""
    by_seller: dict[int, list[int]] = {}
    for variant_id, seller_id in pools[scenario]:
        by_seller.setdefault(seller_id, []).append(variant_id)
    first, second = sorted(by_seller)
    return [*rng.sample(by_seller[first], 2), rng.choice(by_seller[second])]


def _users(n: int, tag: str) -> list[tuple[int, str]]:
    """n shoppers with API tokens: (user_id, token)."""
    from accounts.models import User
    from accounts.services import api_token_create

    users = User.objects.bulk_create(
        [User(email=f"{tag}-{i}@bench.local", password="!") for i in range(n)]
    )
    return [(u.pk, api_token_create(user=u, name="benchmark")[1]) for u in users]


def _prepared_checkouts(pools, scenario: str, n: int, tag: str) -> list[tuple[str, str]]:
    """n checkouts ready to place, through the same services the API calls."""
    from accounts.models import User
    from cart.services import cart_get_or_create, cart_line_add
    from orders.services import checkout_set_address, checkout_set_shipping, checkout_start
    from pricing.models import ShippingMethod

    methods = {m.seller_id: m.pk for m in ShippingMethod.objects.all()}
    rng = random.Random(tag)
    prepared = []
    for user_id, key in _users(n, tag):
        user = User.objects.get(pk=user_id)
        cart = cart_get_or_create(user=user)
        for variant_id in _cart_lines(pools, scenario, rng):
            cart_line_add(cart=cart, variant_id=variant_id, quantity=1)
        checkout = checkout_start(cart=cart, user=user)
        checkout_set_address(checkout=checkout, email=user.email, **ADDRESS)
        checkout_set_shipping(checkout=checkout, choices=methods)
        prepared.append((key, str(checkout.token)))
    return prepared


def _oversell_check() -> tuple[int, int]:
    """(rows with allocated + reserved > on_hand, variants whose allocated units differ from
    the units on live order lines)."""
    from django.db.models import F, Sum

    from inventory.models import Stock
    from orders.models import OrderLine

    oversold = Stock.objects.filter(on_hand__lt=F("allocated") + F("reserved")).count()
    allocated = dict(
        Stock.objects.values("variant_id")
        .annotate(t=Sum("allocated"))
        .values_list("variant_id", "t")
    )
    sold = dict(
        OrderLine.objects.exclude(order__status="cancelled")
        .values("variant_id")
        .annotate(t=Sum("quantity"))
        .values_list("variant_id", "t")
    )
    drift = sum(1 for v, units in allocated.items() if units != sold.get(v, 0))
    return oversold, drift


# --- client processes ---------------------------------------------------------------------------


def _place_client(base: str, jobs: list[tuple[str, str]], barrier, queue) -> None:
    """The standard library's HTTP client on one keep-alive connection: `requests` spent 3-5 ms
    of CPU per call in these processes, on the same two cores as the server it measures."""
    import http.client
    import json
    from urllib.parse import urlsplit

    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    body = json.dumps({"payment_token": "tok_visa"})
    latencies, failures = [], []
    barrier.wait()
    for key, token in jobs:
        started = time.perf_counter()
        conn.request(
            "POST",
            f"/api/v1/checkouts/{token}/place/",
            body=body,
            headers={
                "Authorization": f"Token {key}",
                "Idempotency-Key": f"bench-{token}",
                "Content-Type": "application/json",
            },
        )
        response = conn.getresponse()
        text = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 201:
            failures.append(f"{response.status} {text[:200]!r}")
    conn.close()
    queue.put((latencies, failures))


def _flow_client(base: str, jobs: list[tuple[str, list[int]]], methods, barrier, queue) -> None:
    import requests

    session = requests.Session()
    latencies, failures = [], []
    barrier.wait()
    for key, variant_ids in jobs:
        headers = {"Authorization": f"Token {key}"}
        started = time.perf_counter()
        try:
            for variant_id in variant_ids:
                r = session.post(
                    f"{base}/api/v1/cart/lines/",
                    json={"variant_id": variant_id, "quantity": 1},
                    headers=headers,
                )
                r.raise_for_status()
            r = session.post(f"{base}/api/v1/checkouts/", headers=headers)
            r.raise_for_status()
            token = r.json()["token"]
            r = session.patch(
                f"{base}/api/v1/checkouts/{token}/",
                json={"email": "flow@bench.local", "address": ADDRESS, "shipping": methods},
                headers=headers,
            )
            r.raise_for_status()
            r = session.post(
                f"{base}/api/v1/checkouts/{token}/place/",
                json={"payment_token": "tok_visa"},
                headers={**headers, "Idempotency-Key": f"flow-{token}"},
            )
            r.raise_for_status()
        except requests.HTTPError as exc:
            failures.append(f"{exc.response.status_code} {exc.response.text[:200]}")
        latencies.append(time.perf_counter() - started)
    queue.put((latencies, failures))


def _raw_client(db_url: str, jobs: list[list[int]], barrier, queue) -> None:
    import psycopg

    latencies, failures = [], []
    with psycopg.connect(db_url) as conn:
        barrier.wait()
        for stock_ids in jobs:
            started = time.perf_counter()
            with conn.transaction():
                rows = conn.execute(RAW_LOCK, [sorted(stock_ids)]).fetchall()
                if any(on_hand - allocated < 1 for _, on_hand, allocated in rows):
                    failures.append("short")
                    continue
                order_id = conn.execute(
                    RAW_ORDER, [f"R{time.time_ns()}", Decimal("30")]
                ).fetchone()[0]
                for stock_id in sorted(stock_ids):
                    conn.execute(RAW_LINE, [order_id, stock_id, 1, Decimal("9.99")])
                    conn.execute(RAW_MOVE, [1, stock_id, 1])
            latencies.append(time.perf_counter() - started)
    queue.put((latencies, failures))


def _run(
    target, per_client_args: list[tuple], meter: CpuMeter | None = None
) -> tuple[float, list[float], list[str]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(per_client_args) + 1)
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, queue)) for a in per_client_args]
    for p in procs:
        p.start()
    barrier.wait()
    if meter:
        meter.start()
    started = time.perf_counter()
    results = [queue.get() for _ in procs]
    wall = time.perf_counter() - started
    if meter:
        meter.stop()
    for p in procs:
        p.join()
    latencies = [x for lat, _ in results for x in lat]
    failures = [x for _, f in results for x in f]
    return wall, latencies, failures


class CpuMeter:
    """CPU seconds used by the gunicorn processes, the bench database's PostgreSQL backends and
    the client processes during one phase (Linux /proc, sampled every 50 ms so backends that
    exit with their client still count). Says where the machine's time per order goes."""

    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self, *, server_pid: int, database: str) -> None:
        self.server_pid, self.database = server_pid, database
        self.used: dict[int, tuple[str, float]] = {}
        self.base: dict[int, float] = {}
        self._stop = threading.Event()

    def _read(self, pids: list[str] | None = None) -> dict[int, tuple[str, float]]:
        found = {}
        for entry in os.listdir("/proc") if pids is None else pids:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            parent, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / self.HZ
            if int(entry) == self.server_pid or parent == self.server_pid:
                found[int(entry)] = ("gunicorn", cpu)
            elif command.startswith("postgres:") and f" {self.database} " in command:
                found[int(entry)] = ("PostgreSQL", cpu)
            elif parent == os.getpid():
                found[int(entry)] = ("clients", cpu)
        return found

    def _sample(self) -> None:
        """The known processes every 50 ms, a scan for new ones every 0.5 s (a scan of /proc
        costs a few ms of this process's CPU, which competes with the servers)."""
        for tick in itertools.count(1):
            if self._stop.wait(0.05):
                return
            known = None if tick % 10 == 0 else [str(pid) for pid in self.used]
            self.used.update(self._read(known))

    def start(self) -> None:
        """Called when the clients pass the barrier: their start-up (interpreter, imports,
        connecting) is already in the base and does not count."""
        self.used = self._read()
        self.base = {pid: cpu for pid, (_, cpu) in self.used.items()}
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.used.update(self._read())
        self._stop.set()
        self._thread.join()

    def per_order_ms(self, orders: int) -> dict[str, float]:
        totals = {"gunicorn": 0.0, "PostgreSQL": 0.0, "clients": 0.0}
        for pid, (kind, cpu) in self.used.items():
            totals[kind] += cpu - self.base.get(pid, 0.0)
        return {kind: 1000 * seconds / max(orders, 1) for kind, seconds in totals.items()}


def _split(items: list, n: int) -> list[list]:
    return [items[i::n] for i in range(n)]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="8,32", help="comma-separated client counts")
    parser.add_argument("--orders", type=int, default=30, help="placements per client in (a)")
    parser.add_argument(
        "--raw-orders",
        type=int,
        default=100,
        help="orders per client on the raw side (it runs ~10x faster; a phase of a few "
        "hundred ms would measure process start-up more than SQL)",
    )
    parser.add_argument(
        "--warmup", type=int, default=40, help="untimed placements before the first cell"
    )
    parser.add_argument("--flow-orders", type=int, default=4, help="full flows per client in (b)")
    parser.add_argument(
        "--gunicorn-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="gunicorn worker processes (default: one per CPU)",
    )
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=4,
        help="threads per worker (gthread; 1 = sync workers). The default is how `make run` "
        "serves (docs/operations.md): a placement waits on PostgreSQL for much of its time, "
        "so threads overlap those waits without more processes than cores",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    bench_url, admin_url, bench_name = _database_urls("checkout_bench")
    os.environ["DATABASE_URL"] = bench_url

    _database_drop(admin_url, bench_name, create=True)
    _django_setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"Migrating {bench_name} and preparing the catalogue...", flush=True)
    call_command("migrate", verbosity=0)
    pools = _prepare_catalogue()
    from pricing.models import ShippingMethod

    methods = {str(m.seller_id): m.pk for m in ShippingMethod.objects.all()}
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_stock AS SELECT id, variant_id, on_hand, 0 AS allocated "
            "FROM inventory_stock; ALTER TABLE bench_stock ADD PRIMARY KEY (id);"
            "CREATE TABLE bench_order (id bigserial PRIMARY KEY, number text, total numeric, "
            "created_at timestamptz);"
            "CREATE TABLE bench_order_line (id bigserial PRIMARY KEY, order_id bigint "
            "REFERENCES bench_order, stock_id bigint, quantity int, price numeric)"
        )
        cur.execute("SELECT variant_id, id FROM bench_stock")
        stock_of = dict(cur.fetchall())
    connection.close()

    server, base = served_start(workers=args.gunicorn_workers, threads=args.gunicorn_threads)
    problems = 0
    cpu_rows: list[tuple[str, int, dict[str, float], dict[str, float]]] = []
    try:
        if args.warmup:
            # every server thread opens its connection and prepares its statements (after 5
            # runs on a connection) before anything is timed
            warm = _prepared_checkouts(pools, "uniform", args.warmup, "warmup")
            connection.close()
            _, _, fail_w = _run(_place_client, [(base, chunk) for chunk in _split(warm, 8)])
            problems += len(fail_w)
            for failure in fail_w[:3]:
                print(f"  warm-up failure: {failure}")
        print(
            f"\n{os.cpu_count()} CPUs, gunicorn {args.gunicorn_workers} workers x "
            f"{args.gunicorn_threads} threads, persistent DB connections (CONN_MAX_AGE=60), "
            f"{args.warmup} warm-up placements, (a) {args.orders} placements/client, "
            f"(b) {args.flow_orders} flows/client, raw {args.raw_orders} orders/client\n"
        )
        header = (
            f"{'SKUs':<8}{'clients':>8}{'(a) ord/s':>10}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
            f"{'(b) ord/s':>10}{'raw ord/s':>10}{'(a)/raw':>8}{'failed':>7}{'oversold':>9}"
        )
        print(header)
        print("-" * len(header))
        for scenario in ("uniform", "hot"):
            for clients in [int(c) for c in args.clients.split(",")]:
                tag = f"{scenario}-{clients}"
                jobs = _prepared_checkouts(pools, scenario, clients * args.orders, f"a-{tag}")
                connection.close()
                cpu_a = CpuMeter(server_pid=server.pid, database=bench_name)
                wall_a, lat_a, fail_a = _run(
                    _place_client, [(base, chunk) for chunk in _split(jobs, clients)], cpu_a
                )
                rng = random.Random(tag)
                flow_users = _users(clients * args.flow_orders, f"b-{tag}")
                flow_jobs = [(key, _cart_lines(pools, scenario, rng)) for _, key in flow_users]
                connection.close()
                wall_b, _, fail_b = _run(
                    _flow_client,
                    [(base, chunk, methods) for chunk in _split(flow_jobs, clients)],
                )
                raw_jobs = [
                    [stock_of[v] for v in _cart_lines(pools, scenario, rng)]
                    for _ in range(clients * args.raw_orders)
                ]
                cpu_r = CpuMeter(server_pid=server.pid, database=bench_name)
                wall_r, _, fail_r = _run(
                    _raw_client,
                    [(bench_url, chunk) for chunk in _split(raw_jobs, clients)],
                    cpu_r,
                )
                oversold, drift = _oversell_check()
                connection.close()
                rate_a = (len(lat_a) - len(fail_a)) / wall_a
                rate_b = (len(flow_jobs) - len(fail_b)) / wall_b
                rate_r = (len(raw_jobs) - len(fail_r)) / wall_r
                failed = len(fail_a) + len(fail_b) + len(fail_r)
                problems += failed + oversold + drift
                print(
                    f"{scenario:<8}{clients:>8}{rate_a:>10.1f}{_pct(lat_a, 0.50):>8.0f}"
                    f"{_pct(lat_a, 0.95):>8.0f}{_pct(lat_a, 0.99):>8.0f}{rate_b:>10.1f}"
                    f"{rate_r:>10.0f}{rate_a / rate_r:>8.1%}{failed:>7}{oversold + drift:>9}",
                    flush=True,
                )
                cpu_rows.append(
                    (
                        scenario,
                        clients,
                        cpu_a.per_order_ms(len(lat_a)),
                        cpu_r.per_order_ms(len(raw_jobs)),
                    )
                )
                for failure in (fail_a + fail_b + fail_r)[:3]:
                    print(f"  failure: {failure}")
        print(
            "\nCPU per order, ms (all processes of each kind, summed over both cores):\n"
            f"{'SKUs':<8}{'clients':>8}{'(a) gunicorn':>14}{'PostgreSQL':>12}{'clients':>9}"
            f"{'total':>8}{'raw PostgreSQL':>16}{'clients':>9}{'total':>8}"
        )
        for scenario, clients, a, r in cpu_rows:
            print(
                f"{scenario:<8}{clients:>8}{a['gunicorn']:>14.1f}{a['PostgreSQL']:>12.1f}"
                f"{a['clients']:>9.1f}{sum(a.values()):>8.1f}{r['PostgreSQL']:>16.1f}"
                f"{r['clients']:>9.1f}{sum(r.values()):>8.1f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        connection.close()
        if not args.keep:
            _database_drop(admin_url, bench_name)
    print(
        "\nOK: every order placed, nothing oversold." if not problems else f"\nPROBLEMS: {problems}"
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
