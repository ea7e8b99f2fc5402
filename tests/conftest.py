import os
from dataclasses import dataclass

import pytest

from shop.embedded import EmbeddedRedis


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
