"""Where one API placement spends its CPU, measured in-process.

Prepares checkouts the way `checkout_throughput.py` does (3 lines across 2 sellers, stock held,
address and shipping set, a token-authenticated user each), then places them with
`POST /api/v1/checkouts/<token>/place/` (Idempotency-Key, token auth) through Django's WSGI
application - the handler gunicorn calls, so the request_started/finished signals (connection
health check, CONN_MAX_AGE) run as they do when served; the test client skips them. Prints

  - process CPU (`time.process_time`) and wall time per placement over `--placements`, in
    `--rounds` rounds: the best round and the median (on a shared or virtual machine other
    load inflates even process CPU: cache misses, stolen time);
  - SQL statements per placement (one extra placement counted through an execute wrapper, so
    the prepared statements of `shop.core.db.hot_cursor` count too; the connection health
    check's `SELECT 1` runs on the raw connection and is not counted);
  - the top cProfile entries over `--profiled` further placements, timed in process CPU (not
    wall clock, which would charge the waits on PostgreSQL to whoever waited).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/placement_profile.py [--placements 100] [--top 30]

It works in its own database, `<your database>_placement_profile` (created, migrated, dropped;
`--keep` keeps it), with the benchmark's served settings (DJANGO_DEBUG=0, DATABASE_CONN_MAX_AGE=60).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

WARMUP = 10


def _environ(token: str, key: str) -> dict:
    body = json.dumps({"payment_token": "tok_visa"}).encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/checkouts/{token}/place/",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Token {key}",
        "HTTP_IDEMPOTENCY_KEY": f"profile-{token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _place(application, key: str, token: str) -> None:
    status: list[str] = []
    chunks = application(_environ(token, key), lambda s, h, e=None: status.append(s))
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    if not status or not status[0].startswith("201"):
        raise SystemExit(f"placement failed: {status} {body[:300]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--placements", type=int, default=100, help="timed placements")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="timed rounds; the best round is the figure least disturbed by other load",
    )
    parser.add_argument("--profiled", type=int, default=50, help="placements under cProfile")
    parser.add_argument("--top", type=int, default=30, help="cProfile rows per listing")
    parser.add_argument("--keep", action="store_true", help="keep the profile database")
    args = parser.parse_args()
    from checkout_throughput import SERVED_ENV, _database_drop, _database_urls

    db_url, admin_url, db_name = _database_urls("placement_profile")
    os.environ.update(
        {**SERVED_ENV, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "shop.settings"}
    )
    _database_drop(admin_url, db_name, create=True)

    import django

    django.setup()
    from checkout_throughput import _prepare_catalogue, _prepared_checkouts, _split
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    try:
        print(f"Migrating {db_name} and preparing checkouts...", flush=True)
        call_command("migrate", verbosity=0)
        pools = _prepare_catalogue()
        total = WARMUP + args.placements + 1 + args.profiled
        jobs = _prepared_checkouts(pools, "uniform", total, "profile")
        application = get_wsgi_application()
        warmup, jobs = jobs[:WARMUP], jobs[WARMUP:]
        timed, jobs = jobs[: args.placements], jobs[args.placements :]
        counted, profiled = jobs[0], jobs[1:]

        for key, token in warmup:
            _place(application, key, token)
        cpu_rounds, wall_rounds = [], []
        for chunk in _split(timed, args.rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            for key, token in chunk:
                _place(application, key, token)
            cpu_rounds.append((time.process_time() - cpu) / len(chunk) * 1000)
            wall_rounds.append((time.perf_counter() - wall) / len(chunk) * 1000)

        queries: list[str] = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            _place(application, *counted)

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for key, token in profiled:
            _place(application, key, token)
        profiler.disable()

        print(
            f"\n{len(timed)} placements (3 lines, 2 sellers, API with Idempotency-Key), "
            f"in-process WSGI, {args.rounds} rounds (per placement: best / median round):\n"
            f"  process CPU: {min(cpu_rounds):.1f} / {statistics.median(cpu_rounds):.1f} ms\n"
            f"  wall:        {min(wall_rounds):.1f} / {statistics.median(wall_rounds):.1f} ms\n"
            f"  SQL statements per placement: {len(queries)}"
        )
        if os.environ.get("PROFILE_SQL"):
            for sql in queries:
                print("   ", " ".join(sql.split())[:160])
        for sort in ("cumulative", "tottime"):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.strip_dirs().sort_stats(sort).print_stats(args.top)
            print(f"\ncProfile over {len(profiled)} placements, by {sort}:")
            print(out.getvalue().split("\n", 4)[-1].rstrip())
    finally:
        connection.close()
        if not args.keep:
            _database_drop(admin_url, db_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
