"""Errors raised by services: a stable machine code, a human message, optional field errors.

Each face maps them once: the API through `shop.core.api.exception_handler`, the storefront and
the seller portal through form errors and messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    CONFLICT = "conflict"
    INSUFFICIENT_STOCK = "insufficient_stock"
    RESERVATION_EXPIRED = "reservation_expired"
    ILLEGAL_TRANSITION = "illegal_transition"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    RATE_LIMITED = "rate_limited"
    SERVICE_UNAVAILABLE = "service_unavailable"


class ServiceError(Exception):
    """Base of every domain error. `code` is stable; `message` is for people."""

    code: ErrorCode = ErrorCode.INVALID
    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        fields: dict[str, list[str]] | None = None,
        details: Any = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}
        self.details = details
        # seconds after which a retry may succeed (the Retry-After header of the faces)
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationError(ServiceError):
    code = ErrorCode.INVALID
    http_status = 400


class NotFound(ServiceError):
    code = ErrorCode.NOT_FOUND
    http_status = 404


class PermissionDenied(ServiceError):
    code = ErrorCode.PERMISSION_DENIED
    http_status = 403


class Conflict(ServiceError):
    code = ErrorCode.CONFLICT
    http_status = 409


class RateLimited(ServiceError):
    code = ErrorCode.RATE_LIMITED
    http_status = 429


class ServiceUnavailable(ServiceError):
    """A dependency the operation cannot do without is down (answered 503, retry later)."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    http_status = 503
