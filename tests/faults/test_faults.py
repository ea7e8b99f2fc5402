"""The fault suite (benchmarks/faults.py), short: the whole stack on loopback under a checkout
load, each fault injected and healed, then every invariant checked. A real run of real servers:
gunicorn, a Celery worker, the outbox relay and Redis, on a database of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_celery_worker import _database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.faults
@pytest.mark.django_db
def test_no_fault_breaks_an_invariant_or_answers_a_500(tmp_path):
    report_path = tmp_path / "faults.json"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env["DATABASE_URL"] = _database_url()  # the script works in <this database>_faults
    result = subprocess.run(
        [sys.executable, "benchmarks/faults.py", "--short", "--json", str(report_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert report_path.exists(), output
    report = json.loads(report_path.read_text())
    assert [p["fault"] for p in report["phases"]] == [
        "none",
        "web-sigkill",
        "web-sigterm",
        "db-terminate",
        "db-down",
        "redis-stop",
        "redis-sigstop",
        "worker-sigkill",
    ]
    assert {k: v for k, v in report["invariants"].items() if v} == {}, output
    assert [p["fault"] for p in report["phases"] if p["server_errors"]] == [], output
    # the load really ran through every fault
    assert all(p["flows_ok"] > 0 for p in report["phases"]), output
    assert result.returncode == 0, output
