"""When the database or Redis is unreachable, every face answers 503 with `Retry-After` (JSON in
the API's error shape under /api/, a small page elsewhere) instead of a 500 and a traceback
per request, and the log says so once per interval instead of thousands of times.

Three pieces, one rule (`is_outage`):
- `OutageMiddleware` (first in MIDDLEWARE) turns an outage raised by a view into the 503,
  whatever DEBUG says;
- `server_error` (handler500) does the same for an outage raised elsewhere in the request (a
  session saved by middleware), and gives API clients JSON for any other 500;
- `OutageLogFilter` (on the django.request logger) lets one record per interval through for
  each kind of outage and drops the rest.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

import redis.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template
from django.views import defaults
from django_redis.exceptions import ConnectionInterrupted
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger("shop.outage")

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionInterrupted,  # django-redis's wrapper of the two above
    BrokerError,
)


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def _service(exc: BaseException) -> str:
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if isinstance(exc, BrokerError):
        return "broker"
    return "cache"


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    retry_after = str(settings.SHOP_OUTAGE_RETRY_AFTER_SECONDS)
    message = "The service is briefly unavailable. Please try again in a few seconds."
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "service_unavailable", "message": message}, status=503)
    else:
        page = get_template("503.html").render({"message": message})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    _log_throttled(exc)
    return response


class _Throttle:
    """Per process: lets a key through once per interval and counts what it held back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}
        self.held: dict[str, int] = {}

    def allow(self, key: str) -> tuple[bool, int]:
        now = time.monotonic()
        with self.lock:
            if now - self.last.get(key, float("-inf")) < settings.SHOP_OUTAGE_LOG_INTERVAL_SECONDS:
                self.held[key] = self.held.get(key, 0) + 1
                return False, 0
            self.last[key] = now
            return True, self.held.pop(key, 0)


_throttle = _Throttle()


def _log_throttled(exc: BaseException) -> None:
    service = _service(exc)
    allowed, held = _throttle.allow(f"outage:{service}")
    if allowed:
        logger.error(
            "%s unavailable, answering 503 (%s: %s)%s",
            service.capitalize(),
            type(exc).__name__,
            exc,
            f"; {held} more since the last report" if held else "",
        )


class OutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_outage(exc):
            return outage_response(request, exc)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: called while the exception is being handled, so sys.exc_info() has it."""
    exc = sys.exc_info()[1]
    if exc is not None and is_outage(exc):
        return outage_response(request, exc)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "message": "Something went wrong on our side."}, status=500
        )
    return defaults.server_error(request)


class OutageLogFilter(logging.Filter):
    """For django.request: an outage's records (its traceback, and the 503 line each answer
    logs) pass once per interval; everything else passes untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if is_outage(exc):
            assert exc is not None
            return _throttle.allow(f"log:{type(exc).__name__}")[0]
        if getattr(record, "status_code", None) == 503:
            return _throttle.allow("log:503")[0]
        return True
