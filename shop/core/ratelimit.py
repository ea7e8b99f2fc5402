"""A fixed-window attempt counter in the shared cache (Redis in production), so the limit holds
across web processes. Used where guessing must stay slow (guest order lookup).

It has a cache alias of its own ("ratelimit") that raises on Redis errors, unlike the default
cache (which treats an unreachable Redis as a miss): a limit that cannot be counted is a
decision, SHOP_RATELIMIT_FAIL_OPEN. Closed (the default) refuses the attempt with a 503 that
says to retry shortly; open lets it through, unlimited, and logs it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis.exceptions
from django.conf import settings
from django.core.cache import caches

from shop.core.errors import RateLimited, ServiceUnavailable

logger = logging.getLogger(__name__)


def rate_limit_hit(*, scope: str, keys: Iterable[str], limit: int, window_seconds: int) -> None:
    """Count one attempt under every key (e.g. the client's address and the thing asked for);
    raise RateLimited once any of them has gone past `limit` within the window. `cache.add`
    starts a window, `cache.incr` is atomic in Redis."""
    try:
        counts = [_count(f"ratelimit:{scope}:{key}", window_seconds) for key in keys]
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        if settings.SHOP_RATELIMIT_FAIL_OPEN:
            logger.warning("Rate limit %s not counted (%s); letting it through.", scope, exc)
            return
        raise ServiceUnavailable(
            "This is briefly unavailable. Please try again in a minute.",
            retry_after=settings.SHOP_OUTAGE_RETRY_AFTER_SECONDS,
        ) from exc
    if any(count > limit for count in counts):
        minutes = max(1, window_seconds // 60)
        raise RateLimited(
            f"Too many attempts. Please wait {minutes} minutes and try again.",
            retry_after=window_seconds,
        )


def _count(name: str, window_seconds: int) -> int:
    cache = caches["ratelimit"]
    if cache.add(name, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(name)
    except ValueError:  # the window ended between add and incr
        cache.add(name, 1, timeout=window_seconds)
        return 1
