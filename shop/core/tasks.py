"""Platform tasks."""

from __future__ import annotations

import os
import socket

from celery import shared_task
from django.core.cache import cache

PING_KEY_PREFIX = "core:ping:"
PING_TTL_SECONDS = 300


@shared_task(name="shop.core.worker_ping")
def worker_ping_task(token: str) -> str:
    """Record in the cache which worker ran it: proves broker -> worker -> cache end to end.

    Operators can send it to check a deployment's task pipeline; the worker test relies on it.
    """
    ran_by = f"{socket.gethostname()}:{os.getpid()}"
    cache.set(f"{PING_KEY_PREFIX}{token}", ran_by, timeout=PING_TTL_SECONDS)
    return ran_by


@shared_task(name="shop.core.outbox_relay", acks_late=True, ignore_result=True)
def outbox_relay_task() -> int:
    """Beat's fallback for the `outbox_relay` process: publishes rows nobody published yet.
    Useful only while the broker is up (beat reaches the worker through it); the relay
    process is what carries the outbox through a broker outage."""
    from shop.core.outbox import outbox_relay

    total = 0
    while True:
        result = outbox_relay()
        total += result.sent
        if result.failed or result.claimed == 0:
            return total


@shared_task(name="shop.core.outbox_prune", acks_late=True, ignore_result=True)
def outbox_prune_task() -> int:
    from shop.core.outbox import outbox_prune

    return outbox_prune()


@shared_task(name="shop.core.idempotency_prune", acks_late=True, ignore_result=True)
def idempotency_prune_task() -> int:
    from shop.core.idempotency import idempotency_records_prune

    return idempotency_records_prune()


@shared_task(name="shop.core.partitions_maintain", acks_late=True, ignore_result=True)
def partitions_maintain_task() -> int:
    """Daily (beat): next months' partitions, old ones archived (shop/core/partitions.py).
    Safe to run twice: every step checks what is there first. Returns partitions archived."""
    from shop.core.partitions import partitions_maintain

    return sum(len(report.archived) for report in partitions_maintain())
