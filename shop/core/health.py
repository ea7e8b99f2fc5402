"""Liveness and readiness probes for load balancers and orchestrators.

/healthz answers 200 while the process can serve requests and touches nothing else, so a slow
database never gets web processes restarted. /readyz checks the database, the cache and the
Celery broker with short timeouts. Only the database gates readiness (503): without Redis the
shop still serves (sessions live in the database, tasks wait in the outbox), and taking every
instance out of the balancer during a Redis outage would turn a degradation into an outage, so
a failed cache or broker answers 200 with status "degraded". The outbox's backlog is reported
beside them. Error details go to the log, not to the (public) response body.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

from shop.core.outbox import outbox_backlog

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    # A value unique to this probe: concurrent probes from several balancers never collide.
    key = f"readyz:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=5)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return what was written")
    finally:
        cache.delete(key)


def _check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return  # in-process transport (tests, one-off commands): nothing to reach
    # A fresh connection, not the app's pool: the probe must see the broker as it is now.
    with Connection(
        url,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options={
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "max_retries": 0,
        },
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        # Redis connects lazily; opening a channel makes it actually talk to the server.
        conn.default_channel  # noqa: B018


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
}
GATING = frozenset({"database"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = f"error: {type(exc).__name__}"
        else:
            results[name] = "ok"
    ready = all(results[name] == "ok" for name in GATING)
    healthy = all(value == "ok" for value in results.values())
    if settings.OPENSEARCH_URL:
        # reported, not gating: when OpenSearch is down, search answers from PostgreSQL
        from search.opensearch import opensearch_health

        results["search"] = opensearch_health()
    from payments.gateways import gateway_describe

    body: dict[str, object] = {
        "status": "ok" if healthy else "degraded" if ready else "unavailable",
        "checks": results,
        "payments": gateway_describe(),
    }
    if ready:
        backlog = outbox_backlog()
        body["outbox"] = {
            "pending": backlog.pending,
            "in_flight": backlog.in_flight,
            "oldest_seconds": backlog.oldest_seconds,
        }
    return JsonResponse(body, status=200 if ready else 503)
