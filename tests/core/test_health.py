"""/healthz and /readyz against the real database, cache and broker, and with each one down."""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.django_db

REDIS_CACHE = {
    "BACKEND": "django_redis.cache.RedisCache",
    "OPTIONS": {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "SOCKET_CONNECT_TIMEOUT": 2,
        "SOCKET_TIMEOUT": 2,
    },
}


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound then released), so connecting fails at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_ok_without_touching_dependencies(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_ok_when_database_cache_and_broker_answer(client, settings, redis_service):
    settings.CACHES = {"default": {**REDIS_CACHE, "LOCATION": redis_service.cache_url}}
    settings.CELERY_BROKER_URL = redis_service.broker_url
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
    assert body["outbox"] == {"pending": 0, "in_flight": 0, "oldest_seconds": None}


def test_readyz_stays_ready_but_degraded_when_the_broker_is_down(
    client, settings, closed_port, caplog
):
    """Tasks wait in the outbox meanwhile: the instance can still take orders."""
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/1"
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")
    # The details (host, port) go to the log, not to the public response.
    assert str(closed_port) not in response.content.decode()
    assert any(
        "broker" in r.getMessage() and str(closed_port) in r.getMessage() for r in caplog.records
    )


def test_readyz_reports_a_rabbitmq_broker_that_is_down(client, settings, closed_port):
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{closed_port}//"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"].startswith("error: ")


@pytest.mark.parametrize("ignore_exceptions", [True, False])
def test_readyz_reports_the_cache_when_redis_is_down(
    client, settings, closed_port, ignore_exceptions
):
    location = f"redis://127.0.0.1:{closed_port}/1"
    options = {**REDIS_CACHE["OPTIONS"], "IGNORE_EXCEPTIONS": ignore_exceptions}
    settings.CACHES = {"default": {**REDIS_CACHE, "LOCATION": location, "OPTIONS": options}}
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"].startswith("error: ")
    assert body["checks"]["database"] == "ok"
