"""Idempotency-Key support for API writes.

A record is keyed by (user, key) and stores a hash of the request and the response that was
sent. Replaying the same key with the same request returns the stored response; the same key
with a different request is refused with `idempotency_conflict` (HTTP 409). The record is
inserted first (unique constraint), so of two concurrent requests with one key only one runs
the operation; the other is told to retry (409 `conflict`) and then gets the stored result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction

from shop.core.db import hot_execute, hot_insert
from shop.core.errors import Conflict, ErrorCode, ServiceError, ValidationError


class IdempotencyRecord(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "core"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class IdempotencyConflict(ServiceError):
    code = ErrorCode.IDEMPOTENCY_CONFLICT
    http_status = 409


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool


def request_fingerprint(*, scope: str, payload: Any) -> str:
    canonical = json.dumps({"scope": scope, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_call(
    *,
    user: Any,
    key: str,
    scope: str,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
) -> StoredResponse:
    """Run `operation` (returning (status, json body)) at most once per (user, key).

    The record is committed before the operation runs and no transaction is held around it,
    so the operation may call a payment gateway without holding any lock. Service errors are
    stored as responses too (a retry gets the same answer); any other exception deletes the
    record so the client may retry with the same key."""
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationError("Idempotency-Key must be 1 to 255 characters.")
    fingerprint = request_fingerprint(scope=scope, payload=payload)
    record = IdempotencyRecord(user=user, key=key, scope=scope, request_hash=fingerprint)
    try:
        with transaction.atomic():
            hot_insert([record])
    except IntegrityError:
        record = IdempotencyRecord.objects.get(user=user, key=key)
        if record.request_hash != fingerprint:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request. "
                "Use a new key for a new request."
            ) from None
        if record.response_status is None:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed. "
                "Retry in a moment with the same key to get its result."
            ) from None
        return StoredResponse(record.response_status, record.response_body, True)
    try:
        status, body = operation()
    except ServiceError as exc:
        status, body = exc.http_status, exc.as_dict()
    except BaseException:
        record.delete()
        raise
    body_field = IdempotencyRecord._meta.get_field("response_body")
    hot_execute(
        _RESPONSE_STORE_SQL,
        [status, body_field.get_db_prep_save(body, connection), record.pk],
    )
    return StoredResponse(status, body, False)


# prepared (shop.core.db): every API placement stores its response
_RESPONSE_STORE_SQL = (
    f"UPDATE {IdempotencyRecord._meta.db_table} "  # noqa: S608 - model names
    "SET response_status = %s, response_body = %s WHERE id = %s"
)
