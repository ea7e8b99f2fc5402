"""Failover under placement load: the primary dies while shoppers place orders over HTTP, the
replica is promoted by script, and the run counts what the shoppers saw and what was kept.

Starts its own primary and streaming replica (shop/localcluster.py, synchronous replication:
`synchronous_standby_names = '*'`; never touches DATABASE_URL's server), migrates, prepares
checkouts (stock held, address and shipping set) with benchmarks/checkout_throughput.py's
helpers, and serves the app with gunicorn on 127.0.0.1 with a multi-host DATABASE_URL
(`...@127.0.0.1:<primary>,127.0.0.1:<replica>/bench?target_session_attrs=read-write`).
Client processes then place the checkouts through POST /api/v1/checkouts/<token>/place/ with
the built-in test gateway, each with its own Idempotency-Key, retrying like a well-behaved app:
the same key again after a 503, a 409 (still being processed) or a dropped connection.

--kill-after seconds into the run the primary is stopped in immediate mode (every server
process ends at once, as when its machine dies); --promote-after seconds later the replica is
promoted (`pg_ctl promote`: what a failover manager does once it has decided). It prints

  - orders acknowledged to clients (201 with an order number) versus orders on the new primary
    (lost = acknowledged but missing there: must be 0);
  - the answers between the kill and the first placement after it, by status (503, 409, 500...)
    and connection errors;
  - kill to promote, promote to first placement, kill to first placement;
  - the longest wait of one order from its first try to its acknowledgement;
  - orders/s before the kill and after the first placement on the new primary;
  - oversold stock rows and allocation drift (must be 0).

Exit status 1 when an acknowledged order is missing, a 500 was answered, a checkout could not
be placed by --deadline, or stock is oversold.

    .venv/bin/python benchmarks/failover_placement.py [--clients 8] [--orders 40]

Only ever against 127.0.0.1: the servers are throwaway ones in temporary directories.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.checkout_throughput import (
    _django_setup,
    _oversell_check,
    _prepare_catalogue,
    _prepared_checkouts,
    _split,
    served_start,
)
from shop import localcluster

# how long a client waits before retrying after a 503, a 409 or a dropped connection: an app
# honouring Retry-After (5 s) would wait longer, which only hides how soon placement resumes
RETRY_PAUSE_SECONDS = 0.25
CONNECTION_ERROR = "connection error"


def _shopper(base: str, jobs: list[tuple[str, str]], deadline: float, barrier, queue) -> None:
    """Places each checkout until it is acknowledged or `deadline` seconds have passed since
    its first try. Reports every answer (wall-clock start, end, status) and every order."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(base)
    body = json.dumps({"payment_token": "tok_visa"})
    answers: list[tuple[float, float, int | str]] = []
    # (token, order number, first try, last try sent, acknowledged)
    acknowledged: list[tuple[str, str, float, float, float]] = []
    given_up: list[tuple[str, str]] = []
    conn: http.client.HTTPConnection | None = None
    barrier.wait()
    for key, token in jobs:
        first_try = time.time()
        while True:
            if conn is None:
                conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
            sent = time.time()
            try:
                conn.request(
                    "POST",
                    f"/api/v1/checkouts/{token}/place/",
                    body=body,
                    headers={
                        "Authorization": f"Token {key}",
                        "Idempotency-Key": f"failover-{token}",
                        "Content-Type": "application/json",
                    },
                )
                response = conn.getresponse()
                status: int | str = response.status
                text = response.read()
            except (OSError, http.client.HTTPException):
                status, text = CONNECTION_ERROR, b""
                conn.close()
                conn = None
            done = time.time()
            answers.append((sent, done, status))
            if status in (200, 201):
                number = json.loads(text)["number"]
                acknowledged.append((token, number, first_try, sent, done))
                break
            if status in (409, 503, CONNECTION_ERROR) and done - first_try < deadline:
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            given_up.append((token, f"{status} {text[:200]!r}"))
            break
    if conn is not None:
        conn.close()
    queue.put((answers, acknowledged, given_up))


def _synchronous_replication(primary: localcluster.Cluster) -> None:
    """Every commit waits until the replica has flushed it: what the replica holds when the
    primary dies is everything a client was told."""
    primary.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
    primary.psql("SELECT pg_reload_conf()")
    for _ in range(200):
        if primary.psql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == (
            "1"
        ):
            return
        time.sleep(0.05)
    raise TimeoutError("the replica did not become synchronous")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent shoppers")
    parser.add_argument("--orders", type=int, default=40, help="checkouts per shopper")
    parser.add_argument("--kill-after", type=float, default=4.0, help="seconds into the run")
    parser.add_argument(
        "--promote-after",
        type=float,
        default=2.0,
        help="seconds between the kill and the promotion (a failover manager's detection)",
    )
    parser.add_argument(
        "--deadline", type=float, default=120.0, help="seconds one checkout is retried at most"
    )
    parser.add_argument(
        "--lease",
        type=int,
        default=None,
        help="IDEMPOTENCY_LEASE_SECONDS for the served app (default: the app's, 60 s): how "
        "long the retries of a placement the kill cut off are told 409",
    )
    parser.add_argument("--gunicorn-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--pg-major", type=int, default=int(os.environ.get("PG_MAJOR", "15")))
    args = parser.parse_args()

    primary = localcluster.primary_create(major=args.pg_major)
    replica = None
    server = None
    try:
        primary.psql("CREATE DATABASE bench")
        replica = localcluster.replica_create(primary)
        _synchronous_replication(primary)
        os.environ["DATABASE_URL"] = (
            f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{replica.port}/bench"
            "?target_session_attrs=read-write"
        )
        os.environ.pop("DATABASE_REPLICA_URLS", None)
        _django_setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        pools = _prepare_catalogue()
        jobs = _prepared_checkouts(pools, "uniform", args.clients * args.orders, "failover")
        connection.close()
        print(
            f"# {len(jobs)} checkouts ready in {time.perf_counter() - started:.0f}s; primary "
            f":{primary.port}, replica :{replica.port} (synchronous); gunicorn "
            f"{args.gunicorn_workers} x {args.gunicorn_threads} threads; {args.clients} "
            f"shoppers; Idempotency-Key lease {args.lease or settings.IDEMPOTENCY_LEASE_SECONDS}"
            f" s; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        lease = {} if args.lease is None else {"IDEMPOTENCY_LEASE_SECONDS": str(args.lease)}
        server, base = served_start(
            workers=args.gunicorn_workers, threads=args.gunicorn_threads, env=lease
        )

        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(args.clients + 1)
        queue = ctx.Queue()
        shoppers = [
            ctx.Process(target=_shopper, args=(base, chunk, args.deadline, barrier, queue))
            for chunk in _split(jobs, args.clients)
        ]
        for process in shoppers:
            process.start()
        barrier.wait()
        run_start = time.time()
        time.sleep(args.kill_after)
        killed_at = time.time()
        primary.stop("immediate")
        dead_at = time.time()  # pg_ctl returned: no server process is left
        time.sleep(args.promote_after)
        promote_at = time.time()
        replica.promote()
        promoted_at = time.time()
        results = [queue.get() for _ in shoppers]
        run_end = time.time()
        for process in shoppers:
            process.join()

        from orders.models import Order

        # through the app's own multi-host settings: they reach the promoted server now
        on_new_primary = set(Order.objects.values_list("number", flat=True))
        oversold, drift = _oversell_check()
        connection.close()
        load = os.getloadavg()[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if replica is not None:
            replica.remove()
        primary.remove()

    answers = [a for r in results for a in r[0]]
    acknowledged = [a for r in results for a in r[1]]
    given_up = [g for r in results for g in r[2]]
    numbers = {number for _, number, _, _, _ in acknowledged}
    lost = numbers - on_new_primary
    unacknowledged = on_new_primary - numbers
    # placement resumed with the first acknowledged request sent after the kill (one sent
    # before may have committed on the old primary and been answered a moment after the kill)
    resumed_at = min(
        (done for _, _, _, sent, done in acknowledged if sent > dead_at), default=float("nan")
    )
    outage = Counter(status for sent, done, status in answers if killed_at <= done < resumed_at)
    all_statuses = Counter(status for _, _, status in answers)
    before = sum(1 for *_, done in acknowledged if done <= killed_at)
    window_end = min(run_end, resumed_at + 10)
    after = sum(1 for *_, done in acknowledged if resumed_at <= done <= window_end)
    # orders in flight at the kill: their Idempotency-Key stays leased to the request the
    # kill cut off, so their retries are told 409 until IDEMPOTENCY_LEASE_SECONDS pass
    in_flight = [done - first for _, _, first, _, done in acknowledged if first <= dead_at < done]
    later = [done - first for _, _, first, _, done in acknowledged if first > dead_at]

    outage_rows = sorted(outage.items(), key=str)
    rate_after = after / (window_end - resumed_at) if window_end > resumed_at else float("nan")
    rows: list[tuple[str, float | int]] = [
        ("orders acknowledged to clients (201 + number)", len(numbers)),
        ("orders on the new primary", len(on_new_primary)),
        ("  acknowledged but missing (lost)", len(lost)),
        ("  on the new primary, never acknowledged", len(unacknowledged)),
        ("checkouts not placed within the deadline", len(given_up)),
        *((f"answers kill -> first placement: {status}", n) for status, n in outage_rows),
        ("answers over the whole run: 500", all_statuses.get(500, 0)),
        ("answers over the whole run: 409 (key still leased)", all_statuses.get(409, 0)),
        ("kill -> promote (scripted detection delay), s", promote_at - killed_at),
        ("pg_ctl promote took, s", promoted_at - promote_at),
        ("promote done -> first placement, s", resumed_at - promoted_at),
        ("kill -> first placement, s", resumed_at - killed_at),
        ("orders in flight at the kill", len(in_flight)),
        ("  their longest wait (first try -> 201), s", max(in_flight, default=0.0)),
        ("longest wait of an order first tried after the kill", max(later, default=0.0)),
        ("orders/s before the kill", before / (killed_at - run_start)),
        ("orders/s in the 10 s after placement resumed", rate_after),
        ("oversold stock rows + allocation drift", oversold + drift),
    ]
    for label, value in rows:
        shown = f"{value:8.2f}" if isinstance(value, float) else f"{value:8d}"
        print(f"{label:<56}{shown}")
    print(f"# load average at the end {load:.2f}")
    for token, answer in given_up[:3]:
        print(f"  not placed: {token}: {answer}")
    problems = len(lost) + all_statuses.get(500, 0) + len(given_up) + oversold + drift
    print("OK: no acknowledged order lost." if not problems else f"PROBLEMS: {problems}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
