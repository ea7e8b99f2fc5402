"""`manage.py runall` (what `make run` calls) supervises real processes and leaves none behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.db import connection, transaction

from inventory.models import Stock
from sellers.bulk.imports import (
    catalog_import_check,
    catalog_import_job_create,
    catalog_import_job_start,
)
from sellers.models import CatalogImportJob, ImportStatus, MemberRole
from shop.celery import app
from tests.conftest import _celery_broker_use
from tests.core.test_celery_worker import _database_url
from tests.factories import ProductVariantFactory, SellerMemberFactory
from tests.factories.inventory import WarehouseFactory, stock_with

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 40


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_tree(process: subprocess.Popen) -> None:
    """Kill runall and everything it started, whatever state the test left them in."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    if process.poll() is None:
        process.kill()
    process.wait()
    for child in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


@pytest.fixture
def runall(tmp_path):
    """Start runall on the test database with an embedded Redis broker; yield once it serves."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DATABASE_URL=_database_url(),
        SHOP_VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        CELERY_WORKER_CONCURRENCY="1",
    )
    log_path = tmp_path / "runall.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runall", "--no-seed"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while b"The marketplace is running" not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runall did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        descendants = psutil.Process(process.pid).children(recursive=True)
        yield process, port, descendants, log_path
    finally:
        _stop_tree(process)
        for child in locals().get("descendants", []):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def _alive(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(proc.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return alive


def _names(descendants: list[psutil.Process]) -> str:
    return " | ".join(" ".join(p.cmdline()) for p in descendants)


def test_serves_then_sigterm_stops_every_process(runall):
    process, port, descendants, log_path = runall
    commands = _names(descendants)
    for expected in (
        "gunicorn",
        "celery -A shop worker",
        "celery -A shop beat",
        "manage.py outbox_relay",
        "redis-server",
    ):
        assert expected in commands
    # gunicorn's control socket is this checkout's, not one shared by every run on the machine
    var_dir = Path(
        next(p for p in descendants if "gunicorn" in " ".join(p.cmdline())).environ()[
            "SHOP_VAR_DIR"
        ]
    )
    assert f"--control-socket {var_dir / 'gunicorn.ctl'}" in commands
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
        assert response.status == 200
    log = log_path.read_text()
    assert f"http://127.0.0.1:{port}/api/v1/docs/" in log
    assert "customer@example.com" in log and "marketplace-demo" in log

    process.send_signal(signal.SIGTERM)
    # A second signal while stopping (make forwards SIGTERM to its child) must not cut it short.
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0
    assert _alive(descendants) == []
    log = log_path.read_text()
    assert "Stopping (SIGTERM)" in log
    assert "Everything stopped." in log


def test_a_dying_child_is_named_and_the_rest_are_stopped(runall):
    process, _port, descendants, log_path = runall
    beat = next(p for p in descendants if "beat" in p.cmdline())
    beat.kill()
    assert process.wait(timeout=STOP_TIMEOUT_SECONDS) == 1
    assert _alive(descendants) == []
    assert "The beat process exited with code -9; stopping the others." in log_path.read_text()


def test_sigterm_lets_the_running_task_finish_before_stopping(runall, tmp_path, settings):
    """Ctrl-C / SIGTERM while a worker runs a task: the worker's warm shutdown finishes it
    (a seller's import here) instead of having its pool killed mid-task."""
    process, _port, descendants, log_path = runall
    settings.MEDIA_ROOT = tmp_path / "var" / "media"  # runall's: its worker reads the upload
    member = SellerMemberFactory(role=MemberRole.OWNER)
    variant = ProductVariantFactory(product__seller=member.seller, sku="WARM-1")
    warehouse = WarehouseFactory(seller=member.seller, code="main")
    stock = stock_with(variant=variant, warehouse=warehouse, on_hand=1)
    data = b"sku,stock:main\nWARM-1,7\n"
    plan = catalog_import_check(seller=member.seller, data=data)
    job = catalog_import_job_create(membership=member, filename="w.csv", data=data, plan=plan)
    # this process publishes to runall's broker, as one more web process of it would
    previous = app.conf.broker_url
    _celery_broker_use(f"redis+socket://{tmp_path / 'var' / 'redis' / 'redis.sock'}")
    locked, release = threading.Event(), threading.Event()

    def hold_the_stock_row() -> None:  # as a checkout would, on a connection of its own
        try:
            with transaction.atomic():
                list(Stock.objects.select_for_update().filter(pk=stock.pk))
                locked.set()
                release.wait(STOP_TIMEOUT_SECONDS)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_stock_row)
    holder.start()
    try:
        locked.wait(30)
        catalog_import_job_start(job=job)  # commits: the task is published to runall's broker
        deadline = time.monotonic() + 60
        while CatalogImportJob.objects.get(pk=job.pk).status != ImportStatus.RUNNING:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        time.sleep(2)  # the stop has begun while the task waits on the lock
        release.set()
        assert process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, log_path.read_text()
    finally:
        release.set()
        holder.join()
        _celery_broker_use(previous)
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED, log_path.read_text()
    assert Stock.objects.get(pk=stock.pk).on_hand == 7
    assert _alive(descendants) == []
