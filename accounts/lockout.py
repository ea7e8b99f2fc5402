"""Brute-force lockout for every password a face takes (storefront sign-in, the API token
endpoint, the admin's sign-in): django-axes, configured in settings (`AXES_*`).

- Failures are counted per account (the email as typed, lower-cased) and per client address
  (`shop.core.clientip.client_ip`, so the proxy rules of `SHOP_TRUSTED_PROXY_COUNT` hold), in
  the shared cache. After LOGIN_FAILURE_LIMIT failures either one is locked out, whether the
  account exists or not, and the answer says so the same way.
- Backoff: a counter lives LOGIN_LOCKOUT_SECONDS after its last failure; every further
  LOGIN_FAILURE_LIMIT failures (attempts while locked count) double that, up to
  LOGIN_LOCKOUT_MAX_SECONDS.
- Counters are not reset by a success: signing in to one's own account must not clear the
  address's count for guesses at others.
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_client_cache_keys
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from shop.core.clientip import client_ip

LOCKED_MESSAGE = "Too many failed sign-in attempts. Please wait {wait} and try again."
API_PREFIX = "/api/"


def lockout_seconds(*, failures: int) -> int:
    """How long a counter with `failures` lives (and locks, once past the limit)."""
    limit = settings.AXES_FAILURE_LIMIT
    doublings = max(0, failures - limit) // limit
    return min(
        settings.LOGIN_LOCKOUT_SECONDS * 2 ** min(doublings, 30), settings.LOGIN_LOCKOUT_MAX_SECONDS
    )


def axes_client_ip(request: HttpRequest) -> str:
    return client_ip(request=request)


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in names, as the user manager stores emails (lower case)."""
    raw = (credentials or {}).get("username")
    if raw is None:
        data = getattr(request, "data", None) or request.POST
        raw = data.get("username", "")
    return str(raw).strip().lower()[:254]


class LoginLockoutHandler(AxesCacheHandler):
    """Axes' cache handler with the backoff above: after each failure every counter of the
    attempt lives `lockout_seconds` of its own count."""

    def __init__(self) -> None:  # the cache is looked up per use (see `cache`)
        pass

    @property
    def cache(self):  # type: ignore[override]
        # Looked up per use (axes keeps the cache it was built with; a test reconfigures it).
        # AXES_CACHE is the rate limiter's cache, which raises when Redis is unreachable: the
        # sign-in then answers 503 "try again" (shop.core.outage) rather than letting guesses
        # through uncounted, unless SHOP_RATELIMIT_FAIL_OPEN says to let them through.
        if settings.SHOP_RATELIMIT_FAIL_OPEN:
            return caches["default"]  # an unreachable Redis reads as no failures
        return get_cache()

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None:
            return
        for key in get_client_cache_keys(request, credentials):
            failures = self.cache.get(key, default=0)
            if failures:
                self.cache.touch(key, timeout=lockout_seconds(failures=failures))
        request.axes_lockout_seconds = lockout_seconds(
            failures=getattr(request, "axes_failures_since_start", 0) or 0
        )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with Retry-After: the API's error shape under /api/, the sign-in page elsewhere."""
    seconds = getattr(request, "axes_lockout_seconds", None) or settings.LOGIN_LOCKOUT_SECONDS
    minutes = math.ceil(seconds / 60)
    message = LOCKED_MESSAGE.format(wait=f"{minutes} minute{'s' if minutes != 1 else ''}")
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            {"code": "rate_limited", "message": message}, status=429
        )
    else:
        response = render(
            request, "storefront/accounts/locked_out.html", {"message": message}, status=429
        )
    response["Retry-After"] = str(seconds)
    return response
