import os
import uuid
from dataclasses import dataclass

import pytest

from shop.embedded import EmbeddedRedis


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """A cache of the test's own: sign-in failure counters (django-axes), rate limits and
    sessions never leak between tests or between the parallel workers sharing one Redis."""
    settings.CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{alias}-{uuid.uuid4()}",
        }
        for alias in ("default", "ratelimit")
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs seconds per test that creates users; the hasher's
    # strength is not what these tests check. PBKDF2 stays listed so its hashes still verify.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _sessions_in_the_cache(request, settings):
    """The same session store whatever the environment. With REDIS_URL (CI) settings keep
    sessions in the cache; without it (`make test` on a fresh clone) in the database, which adds
    a SELECT to every signed-in request and so to the query counts pinned on portal pages. The
    pinned counts are the pages' own statements: tests keep sessions in the cache (Redis, or
    local memory without it), so the suite counts the same under both commands. Browser tests
    keep the configured store: their live server must see the session the test signed in with,
    which a local-memory cache does not share with it."""
    if "live_server" not in request.fixturenames:
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"


@pytest.fixture
def celery_eager():
    """Run Celery tasks inline in the test (started on commit, see
    django_capture_on_commit_callbacks)."""
    from shop.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@dataclass(frozen=True)
class RedisService:
    broker_url: str  # for Celery (kombu)
    cache_url: str  # for django-redis / redis-py


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory):
    """A real Redis: REDIS_URL when set (CI, the shared dev machine), else an embedded one."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield RedisService(broker_url=url, cache_url=url)
        return
    # A short directory: unix socket paths are limited to ~107 characters.
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield RedisService(broker_url=server.url, cache_url=server.cache_url)
    finally:
        server.stop()


class Broker:
    """A Redis of the test's own that the project's Celery app publishes to: the test can
    stop it, freeze it (SIGSTOP) and start it again empty, as a real outage would."""

    def __init__(self, directory) -> None:
        self.server = EmbeddedRedis(directory)

    def start(self) -> None:
        self.server.start()
        _celery_broker_use(self.server.url)

    def stop(self) -> None:
        self.thaw()
        self.server.stop()

    def freeze(self) -> None:
        import signal

        os.kill(self.server.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        import signal

        if self.server.process is not None and self.server.process.poll() is None:
            os.kill(self.server.process.pid, signal.SIGCONT)

    def queued(self, queue: str = "default") -> list[dict]:
        """The task messages waiting in `queue` (Celery's JSON envelope)."""
        import json

        import redis

        client = redis.Redis(unix_socket_path=str(self.server.socket_path))
        return [json.loads(raw) for raw in client.lrange(queue, 0, -1)]


def _celery_broker_use(url: str) -> None:
    from shop.celery import app

    app.conf.broker_url = url
    # drop pooled connections to the previous broker (what Celery itself does after a fork)
    app._after_fork()


@pytest.fixture
def broker(tmp_path_factory):
    from shop.celery import app

    previous = app.conf.broker_url
    server = Broker(tmp_path_factory.mktemp("broker"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _celery_broker_use(previous)


@pytest.fixture(scope="session", autouse=True)
def _no_process_outlives_the_tests():
    """Every test that starts a process (gunicorn, a Celery worker, Redis, runall) must stop it
    whatever happened. Set up first, so torn down last in each test process (an xdist worker or
    the only one): any child still alive then is killed, and named in an error."""
    import psutil

    yield
    leftovers = []
    for child in psutil.Process().children(recursive=True):
        try:
            leftovers.append(f"{child.pid} {' '.join(child.cmdline())}")
            child.kill()
        except psutil.NoSuchProcess:
            continue
    if leftovers:
        pytest.fail(
            "Processes started by tests were still running (now killed):\n  "
            + "\n  ".join(leftovers)
        )
