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
