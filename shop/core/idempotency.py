"""Idempotency-Key support for API writes.

A record is keyed by (owner, key), the owner being a signed-in user (`user:<id>`) or a guest
known by its cart token (`guest:<digest>`, `idempotency_owner`), and stores a hash of the
request and the response that was sent. Replaying the same key with the same request returns
the stored response; the same key with a different request is refused with
`idempotency_conflict` (HTTP 409). The record is inserted first (unique constraint), so of two
concurrent requests with one key only one runs the operation; the other is told to retry (409
`conflict`) and then gets the stored result.

The request that inserted the record holds it under a lease (IDEMPOTENCY_LEASE_SECONDS). A
request killed mid-way (a web worker killed, the database gone) cannot delete its record, so
once the lease has passed a retry takes the record over and runs the operation again: every
operation behind a key must be safe to run twice (placement returns the checkout's order if
it was placed). Records are deleted after IDEMPOTENCY_KEEP_HOURS; the key is then free again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from shop.core.db import hot_execute, hot_insert
from shop.core.errors import Conflict, ErrorCode, ServiceError, ValidationError


class IdempotencyRecord(models.Model):
    owner = models.CharField(max_length=80)
    # the signed-in owner (a guest has none); its records go with the account
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # while the response is missing: the request running the operation owns the record until
    # then; after it, a retry takes over
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "core"
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="core_idempotency_owner_key")
        ]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


logger = logging.getLogger(__name__)


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


def idempotency_owner(*, user: Any = None, guest_key: str = "") -> str:
    """Whose keys these are: a signed-in user, else a guest by a secret it holds (its cart
    token, stored only as a digest); "" when neither (no key can be scoped)."""
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    if guest_key:
        return "guest:" + hashlib.sha256(guest_key.encode()).hexdigest()[:64]
    return ""


def idempotent_call(
    *,
    owner: str,
    user: Any = None,
    key: str,
    scope: str,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
) -> StoredResponse:
    """Run `operation` (returning (status, json body)) once per (owner, key), or again only
    after the previous run's lease lapsed without a response (it died).

    The record is committed before the operation runs and no transaction is held around it,
    so the operation may call a payment gateway without holding any lock. Service errors are
    stored as responses too (a retry gets the same answer); any other exception deletes the
    record so the client may retry with the same key at once."""
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationError("Idempotency-Key must be 1 to 255 characters.")
    fingerprint = request_fingerprint(scope=scope, payload=payload)
    lease = timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
    record = IdempotencyRecord(
        owner=owner,
        user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        key=key,
        scope=scope,
        request_hash=fingerprint,
        locked_until=timezone.now() + lease,
    )
    try:
        with transaction.atomic():
            hot_insert([record])
    except IntegrityError:
        record = IdempotencyRecord.objects.get(owner=owner, key=key)
        if record.request_hash != fingerprint:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request. "
                "Use a new key for a new request."
            ) from None
        if record.response_status is not None:
            return StoredResponse(record.response_status, record.response_body, True)
        if not _take_over(record, lease):
            raise Conflict(
                "A request with this Idempotency-Key is still being processed. "
                "Retry in a moment with the same key to get its result.",
                retry_after=_seconds_left(record),
            ) from None
    try:
        status, body = operation()
    except ServiceError as exc:
        status, body = exc.http_status, exc.as_dict()
    except BaseException:
        _release(record)
        raise
    body_field = IdempotencyRecord._meta.get_field("response_body")
    hot_execute(
        _RESPONSE_STORE_SQL,
        [status, body_field.get_db_prep_save(body, connection), record.pk],
    )
    return StoredResponse(status, body, False)


def _take_over(record: IdempotencyRecord, lease: timedelta) -> bool:
    """Claim a record whose run died (no response, lease over): one guarded UPDATE, so of
    several retries arriving together exactly one takes it."""
    now = timezone.now()
    taken = (
        IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True)
        .filter(models.Q(locked_until__lt=now) | models.Q(locked_until__isnull=True))
        .update(locked_until=now + lease)
    )
    if taken:
        logger.warning(
            "Idempotency-Key %r (%s) of %s: the previous run left no response; running it again.",
            record.key,
            record.scope,
            record.owner,
        )
    return bool(taken)


def _seconds_left(record: IdempotencyRecord) -> int:
    if record.locked_until is None:
        return 1
    return max(1, int((record.locked_until - timezone.now()).total_seconds()) + 1)


def _release(record: IdempotencyRecord) -> None:
    """The operation crashed: free the key for an immediate retry. If the database is what
    failed, this fails too and the lease frees the key instead."""
    try:
        record.delete()
    except Exception:
        logger.exception("Could not free Idempotency-Key %r; its lease will.", record.key)


def idempotency_records_prune(*, keep: timedelta | None = None, batch: int = 10_000) -> int:
    """Delete records older than IDEMPOTENCY_KEEP_HOURS (beat)."""
    keep = keep or timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
    cutoff = timezone.now() - keep
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[
                :batch
            ]
        )
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]


# prepared (shop.core.db): every API placement stores its response
_RESPONSE_STORE_SQL = (
    f"UPDATE {IdempotencyRecord._meta.db_table} "  # noqa: S608 - model names
    "SET response_status = %s, response_body = %s WHERE id = %s"
)
