"""What API token authentication costs per request, measured in-process.

Signs a user in with `POST /api/v1/auth/token/` (email and password, as the apps do), then:

  - calls the configured authentication class's `authenticate()` `--calls` times on a request
    carrying the token, in `--rounds` rounds: process CPU and wall time per call (best round
    and median) and SQL statements per call;
  - sends `GET /api/v1/me/` `--requests` times through Django's WSGI application (the handler
    gunicorn calls): process CPU and wall time per request, best round and median.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_NAME \\
        .venv/bin/python benchmarks/api_auth.py [--calls 5000] [--requests 1000]

It works in its own database, `<your database>_api_auth` (created, migrated, dropped; `--keep`
keeps it), with the benchmark's served settings (DJANGO_DEBUG=0, DATABASE_CONN_MAX_AGE=60).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PASSWORD = "benchmark-password-123"


def _environ(method: str, path: str, body: bytes = b"", **headers: str) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return environ


def _call(application, environ: dict) -> tuple[str, bytes]:
    status: list[str] = []
    chunks = application(environ, lambda s, h, e=None: status.append(s))
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return status[0], body


def _rounds(n: int, rounds: int, work) -> tuple[list[float], list[float]]:
    """Per-call process CPU and wall time (microseconds) of each round."""
    per_round = max(1, n // rounds)
    cpu_rounds, wall_rounds = [], []
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(per_round):
            work()
        cpu_rounds.append((time.process_time() - cpu) / per_round * 1e6)
        wall_rounds.append((time.perf_counter() - wall) / per_round * 1e6)
    return cpu_rounds, wall_rounds


def _line(label: str, cpu: list[float], wall: list[float]) -> str:
    return (
        f"{label}: CPU {min(cpu):.0f} us best / {statistics.median(cpu):.0f} us median, "
        f"wall {min(wall):.0f} us best / {statistics.median(wall):.0f} us median"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000, help="timed authenticate() calls")
    parser.add_argument("--requests", type=int, default=1000, help="timed GET /api/v1/me/")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best is least disturbed")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    from checkout_throughput import SERVED_ENV, _database_drop, _database_urls

    db_url, admin_url, db_name = _database_urls("api_auth")
    os.environ.update(
        {**SERVED_ENV, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "shop.settings"}
    )
    _database_drop(admin_url, db_name, create=True)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test import RequestFactory
    from django.utils.module_loading import import_string
    from rest_framework.request import Request

    from accounts.models import User

    try:
        call_command("migrate", verbosity=0)
        User.objects.create_user(email="bench@bench.local", password=PASSWORD)
        application = get_wsgi_application()
        body = json.dumps({"username": "bench@bench.local", "password": PASSWORD}).encode()
        status, answer = _call(application, _environ("POST", "/api/v1/auth/token/", body))
        if not status.startswith("200"):
            raise SystemExit(f"sign-in failed: {status} {answer[:300]!r}")
        token = json.loads(answer)["token"]

        auth_class = import_string(settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"][0])
        authentication = auth_class()
        request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {token}"))

        def authenticate() -> None:
            user, _ = authentication.authenticate(request)
            assert user.email == "bench@bench.local"

        def me() -> None:
            status, answer = _call(
                application, _environ("GET", "/api/v1/me/", AUTHORIZATION=f"Token {token}")
            )
            assert status.startswith("200"), (status, answer[:200])

        for _ in range(50):
            authenticate()
            me()
        statements: list[str] = []

        def count(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            authenticate()
        per_call = len(statements)
        statements.clear()
        with connection.execute_wrapper(count):
            me()

        print(f"authentication class: {auth_class.__module__}.{auth_class.__name__}")
        print(_line("authenticate()", *_rounds(args.calls, args.rounds, authenticate)))
        print(f"  SQL statements per authenticate(): {per_call}")
        print(_line("GET /api/v1/me/", *_rounds(args.requests, args.rounds, me)))
        print(f"  SQL statements per GET /api/v1/me/: {len(statements)}")
    finally:
        connection.close()
        if not args.keep:
            _database_drop(admin_url, db_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
