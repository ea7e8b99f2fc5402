"""A real Celery worker process runs a task sent through a real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import caches
from django.db import connection

from shop.celery import app
from shop.core.tasks import PING_KEY_PREFIX, worker_ping_task

WORKER_READY_TIMEOUT_SECONDS = 60
TASK_TIMEOUT_SECONDS = 60
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """The URL of the database this test process uses, for a subprocess's settings."""
    db = connection.settings_dict
    # The embedded PostgreSQL's URL carries its socket directory as the `host` option.
    host = db["HOST"] or db.get("OPTIONS", {}).get("host", "")
    user = quote(db["USER"], safe="")
    if db.get("PASSWORD"):
        user += ":" + quote(db["PASSWORD"], safe="")
    if host.startswith("/"):
        return f"postgres://{user}@{quote(host, safe='')}/{db['NAME']}"
    return f"postgres://{user}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(redis_service, tmp_path):
    """Start `celery worker` on a queue of its own; stop it (and its children) afterwards."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_service.cache_url,
        "CELERY_BROKER_URL": redis_service.broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shop",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_SECONDS
        while b"ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield queue, process, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.django_db(transaction=True)
def test_task_runs_in_a_real_worker_through_the_broker(worker, redis_service, settings):
    queue, process, log_path = worker
    # Read the same Redis the worker writes to, with the project's cache settings.
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_service.cache_url,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "shop"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    token = uuid.uuid4().hex
    key = f"{PING_KEY_PREFIX}{token}"
    assert caches["default"].get(key) is None

    with app.connection_for_write(redis_service.broker_url) as conn:
        worker_ping_task.apply_async(args=[token], queue=queue, connection=conn)

    deadline = time.monotonic() + TASK_TIMEOUT_SECONDS
    ran_by = None
    while ran_by is None and time.monotonic() < deadline and process.poll() is None:
        ran_by = caches["default"].get(key)
        time.sleep(0.1)
    assert ran_by is not None, f"the task never ran; worker log:\n{log_path.read_text()}"
    # Written by the worker process, not by this one (no eager execution).
    assert ran_by.endswith(f":{process.pid}")
    assert "shop.core.worker_ping[" in log_path.read_text()
