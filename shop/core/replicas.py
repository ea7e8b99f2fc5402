"""Read replicas: which reads may be served by a streaming replica, and which replica.

A read goes to a replica only when all of these hold, else to the primary ("default"):
- it runs inside `replica_reads()` (the middleware below opens it for GET/HEAD/OPTIONS requests
  of a client that has not written within DATABASE_READ_YOUR_WRITES_SECONDS); Celery tasks,
  management commands and unsafe requests never open it;
- its model belongs to an app of DATABASE_REPLICA_APPS (the catalog: listings, product pages,
  search). Stock, reservations, orders, payments, carts and accounts are never read from a
  replica, wherever the read comes from (a related-object read of a replica-loaded product
  included: the router always names the database, never falls back to the instance's);
- no transaction is open on the primary (everything under `transaction.atomic`, so every
  `select_for_update`, reads the primary) and nothing was written in this scope yet;
- a configured replica is reachable, and its lag, measured on the replica at most every
  DATABASE_REPLICA_CHECK_SECONDS, is at most DATABASE_REPLICA_MAX_LAG_SECONDS. A lagging or
  unreachable replica is skipped until a later check finds it well.

Read-your-writes: a client that sent an unsafe request (or whose request wrote) is marked for
DATABASE_READ_YOUR_WRITES_SECONDS (longer than the lag allowed), by a cookie for browsers and by
a cache key derived from its Authorization header for API clients, and reads the primary
meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
WROTE_COOKIE = "shop_wrote"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The lag recorded for a replica that could not be asked: never good enough.
UNREACHABLE = float("inf")


@dataclass
class _Scope:
    wrote: bool = False
    # the database chosen at the scope's first replica read: one request reads one server
    chosen: str | None = None


_scope: ContextVar[_Scope | None] = ContextVar("shop_replica_reads", default=None)


@contextmanager
def replica_reads() -> Iterator[_Scope]:
    """Within this block, reads the rules above allow go to a replica."""
    scope = _Scope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def replica_lag_measure(alias: str) -> float:
    """Seconds the replica `alias` is behind its primary, as the replica sees it: 0 when it has
    replayed all it received from a live stream, the age of the last replayed commit when
    replay is behind, UNREACHABLE when it cannot be asked or streams from nothing. A promoted
    replica (no longer in recovery) is a primary: 0."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(),"
                " EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'),"
                " pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),"
                " COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)"
            )
            in_recovery, streaming, replayed_all, age = cursor.fetchone()
    except DatabaseError:
        logger.warning("Replica %s is unreachable; reads go to the primary.", alias)
        connections[alias].close()
        return UNREACHABLE
    if not in_recovery:
        return 0.0
    if not streaming:
        return UNREACHABLE
    return 0.0 if replayed_all else float(age)


def replica_lag(alias: str) -> float:
    """`replica_lag_measure`, remembered for DATABASE_REPLICA_CHECK_SECONDS in the cache (so
    one process asks at most once per interval, and all share what one found)."""
    key = f"db:replica-lag:{alias}"
    lag = cache.get(key)
    if lag is None:
        lag = replica_lag_measure(alias)
        cache.set(key, lag, settings.DATABASE_REPLICA_CHECK_SECONDS)
    return float(lag)


def replica_choose() -> str | None:
    """A replica fresh enough to read from (at random among them), or None."""
    fresh = [
        alias
        for alias in settings.DATABASE_REPLICAS
        if replica_lag(alias) <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    ]
    return random.choice(fresh) if fresh else None


class PrimaryReplicaRouter:
    """Django's database router for the rules in the module docstring."""

    def db_for_read(self, model: type[Model], **hints: object) -> str:
        scope = _scope.get()
        if (
            scope is None
            or scope.wrote
            or not settings.DATABASE_REPLICAS
            or model._meta.app_label not in settings.DATABASE_REPLICA_APPS
            or connections[PRIMARY].in_atomic_block
        ):
            return PRIMARY
        if scope.chosen is None:
            scope.chosen = replica_choose() or PRIMARY
        return scope.chosen

    def db_for_write(self, model: type[Model], **hints: object) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: object) -> bool:
        # replicas hold the primary's rows: an object read from one relates to the primary's
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        return db == PRIMARY


class ReadConnection:
    """`django.db.connection` for hand-written SQL that reads `model`'s tables: each use is
    the connection the router reads `model` from (a replica within `replica_reads()`, else
    the primary), as for the ORM's reads in the same request. `django.db.connection` is the
    primary's, whatever the router says. A transaction on it names it:
    `transaction.atomic(using=connection.alias)`."""

    def __init__(self, model: type[Model]) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(connections[router.db_for_read(self._model)], name)


def _client_key(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        return None
    return "db:wrote:" + hashlib.sha256(authorization.encode()).hexdigest()


def _wrote_recently(request: HttpRequest) -> bool:
    now = time.time()
    try:
        if float(request.COOKIES.get(WROTE_COOKIE, "0")) > now:
            return True
    except ValueError:
        pass
    key = _client_key(request)
    return key is not None and bool(cache.get(key))


def _wrote_mark(request: HttpRequest, response: HttpResponse) -> None:
    window = settings.DATABASE_READ_YOUR_WRITES_SECONDS
    response.set_cookie(
        WROTE_COOKIE,
        f"{time.time() + window:.3f}",
        max_age=window,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    key = _client_key(request)
    if key is not None:
        cache.set(key, 1, window)


class ReplicaReadsMiddleware:
    """Opens `replica_reads()` for safe requests of clients that have not written lately, and
    marks clients that write (read-your-writes). Does nothing without DATABASE_REPLICAS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        if request.method not in SAFE_METHODS:
            response = self.get_response(request)
            _wrote_mark(request, response)
            return response
        if _wrote_recently(request):
            return self.get_response(request)
        with replica_reads() as scope:
            response = self.get_response(request)
        if scope.wrote:
            _wrote_mark(request, response)
        return response
