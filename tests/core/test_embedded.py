"""The embedded services used when no environment is set: real servers, started and stopped."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

from shop.embedded import (
    EmbeddedRedis,
    embedded_database_running,
    embedded_database_stop,
    embedded_database_url,
)


@pytest.fixture
def project_dir():
    """A directory outside pytest's basetemp: pytest keeps /tmp/pytest-of-<user> at 0700 (and
    concurrent sessions re-tighten it), which the `pgserver` system user cannot traverse when
    the tests run as root."""
    path = Path(tempfile.mkdtemp(prefix="shop-embedded-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_embedded_postgresql_starts_under_var_answers_and_stops(project_dir):
    var_dir = project_dir / "var"
    url = embedded_database_url(var_dir)
    try:
        assert (var_dir / "pgdata" / "PG_VERSION").exists()
        assert embedded_database_running(var_dir)
        # A unix socket only: nothing listens on a TCP port.
        assert "?host=/" in url
        with psycopg.connect(url, connect_timeout=10) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        # The same server is reused, not a second one started.
        assert embedded_database_url(var_dir) == url
    finally:
        assert embedded_database_stop(var_dir) is True
    assert not embedded_database_running(var_dir)
    assert embedded_database_stop(var_dir) is False


def test_embedded_redis_serves_on_its_socket_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path)
    server.start()
    try:
        client = redis.Redis(unix_socket_path=str(server.socket_path))
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert server.url == f"redis+socket://{server.socket_path}"
    finally:
        server.stop()
    assert server.process is not None and server.process.poll() is not None
    assert not server.socket_path.exists()
