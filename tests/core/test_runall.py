"""`manage.py runall` (what `make run` calls) supervises real processes and leaves none behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.core.test_celery_worker import _database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 40


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while b"The marketplace is running" not in log_path.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"runall did not start:\n{log_path.read_text()}")
        time.sleep(0.3)
    descendants = psutil.Process(process.pid).children(recursive=True)
    try:
        yield process, port, descendants, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for child in descendants:
            if child.is_running():
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
    for expected in ("gunicorn", "celery -A shop worker", "celery -A shop beat", "redis-server"):
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
