"""A fixed-window attempt counter in the shared cache (Redis in production), so the limit holds
across web processes. Used where guessing must stay slow (guest order lookup)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

from shop.core.errors import RateLimited


def rate_limit_hit(*, scope: str, keys: Iterable[str], limit: int, window_seconds: int) -> None:
    """Count one attempt under every key (e.g. the client's address and the thing asked for);
    raise RateLimited once any of them has gone past `limit` within the window. `cache.add`
    starts a window, `cache.incr` is atomic in Redis."""
    exceeded = False
    for key in keys:
        name = f"ratelimit:{scope}:{key}"
        if cache.add(name, 1, timeout=window_seconds):
            count = 1
        else:
            try:
                count = cache.incr(name)
            except ValueError:  # the window ended between add and incr
                cache.add(name, 1, timeout=window_seconds)
                count = 1
        exceeded = exceeded or count > limit
    if exceeded:
        minutes = max(1, window_seconds // 60)
        raise RateLimited(
            f"Too many attempts. Please wait {minutes} minutes and try again.",
            retry_after=window_seconds,
        )
