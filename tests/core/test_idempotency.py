"""Idempotency-Key records: one run per (user, key), replay, conflict, retry after a crash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shop.core.errors import Conflict, ValidationError
from shop.core.idempotency import (
    IdempotencyConflict,
    IdempotencyRecord,
    idempotency_owner,
    idempotency_records_prune,
    idempotent_call,
    request_fingerprint,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def own(user) -> str:
    return idempotency_owner(user=user)


def test_same_key_same_request_runs_once_and_replays():
    user = UserFactory()
    runs = []

    def operation():
        runs.append(1)
        return 201, {"n": len(runs)}

    first = idempotent_call(
        owner=own(user), key="k", scope="s", payload={"a": 1}, operation=operation
    )
    second = idempotent_call(
        owner=own(user), key="k", scope="s", payload={"a": 1}, operation=operation
    )
    assert (first.status, first.body, first.replayed) == (201, {"n": 1}, False)
    assert (second.status, second.body, second.replayed) == (201, {"n": 1}, True)
    assert runs == [1]


def test_same_key_different_request_is_a_conflict():
    user = UserFactory()
    idempotent_call(
        owner=own(user), key="k", scope="s", payload={"a": 1}, operation=lambda: (200, {})
    )
    with pytest.raises(IdempotencyConflict) as excinfo:
        idempotent_call(
            owner=own(user), key="k", scope="s", payload={"a": 2}, operation=lambda: (200, {})
        )
    assert excinfo.value.code == "idempotency_conflict"
    assert excinfo.value.http_status == 409


def test_keys_are_per_user():
    a, b = UserFactory(), UserFactory()
    idempotent_call(
        owner=own(a), key="k", scope="s", payload={}, operation=lambda: (200, {"who": "a"})
    )
    result = idempotent_call(
        owner=own(b), key="k", scope="s", payload={}, operation=lambda: (200, {"who": "b"})
    )
    assert result.body == {"who": "b"}


def test_a_request_still_running_asks_the_client_to_retry():
    user = UserFactory()
    fingerprint = request_fingerprint(scope="s", payload={})
    IdempotencyRecord.objects.create(
        owner=own(user),
        user=user,
        key="k",
        scope="s",
        request_hash=fingerprint,
        locked_until=timezone.now() + timedelta(seconds=30),
    )
    with pytest.raises(Conflict, match="still being processed") as excinfo:
        idempotent_call(
            owner=own(user), key="k", scope="s", payload={}, operation=lambda: (200, {})
        )
    assert 29 <= excinfo.value.retry_after <= 31


@pytest.mark.parametrize("locked_until", [timedelta(seconds=-1), None])
def test_a_run_that_died_is_taken_over_once_its_lease_is_over(locked_until):
    """A worker killed mid-request (or a database that failed under it) leaves a record with no
    response that it could not delete; after the lease a retry runs the operation again."""
    user = UserFactory()
    fingerprint = request_fingerprint(scope="s", payload={})
    IdempotencyRecord.objects.create(
        owner=own(user),
        user=user,
        key="k",
        scope="s",
        request_hash=fingerprint,
        locked_until=timezone.now() + locked_until if locked_until is not None else None,
    )
    result = idempotent_call(
        owner=own(user), key="k", scope="s", payload={}, operation=lambda: (201, {"ran": True})
    )
    assert (result.status, result.body, result.replayed) == (201, {"ran": True}, False)
    again = idempotent_call(
        owner=own(user), key="k", scope="s", payload={}, operation=lambda: (500, {"ran": "twice"})
    )
    assert (again.body, again.replayed) == ({"ran": True}, True)


def test_old_records_are_pruned_and_recent_ones_kept():
    user = UserFactory()
    for key in ("old", "new"):
        idempotent_call(
            owner=own(user), key=key, scope="s", payload={}, operation=lambda: (200, {})
        )
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert idempotency_records_prune(keep=timedelta(hours=24)) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_a_crash_frees_the_key_for_a_retry():
    user = UserFactory()

    def crash():
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        idempotent_call(owner=own(user), key="k", scope="s", payload={}, operation=crash)
    result = idempotent_call(
        owner=own(user), key="k", scope="s", payload={}, operation=lambda: (201, {})
    )
    assert result.status == 201 and not result.replayed


def test_service_errors_are_stored_as_responses():
    user = UserFactory()

    def refuse():
        raise ValidationError("nope")

    first = idempotent_call(owner=own(user), key="k", scope="s", payload={}, operation=refuse)
    assert (first.status, first.body["code"]) == (400, "invalid")
    assert idempotent_call(
        owner=own(user), key="k", scope="s", payload={}, operation=refuse
    ).replayed


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_bad_keys_are_refused(key):
    with pytest.raises(ValidationError):
        idempotent_call(
            owner=own(UserFactory()), key=key, scope="s", payload={}, operation=lambda: (200, {})
        )


def test_a_guest_is_told_apart_by_its_cart_token_and_never_by_nothing():
    one, two = (idempotency_owner(guest_key=t) for t in ("cart-token-1", "cart-token-2"))
    assert one != two and one.startswith("guest:") and "cart-token" not in one
    assert idempotency_owner() == ""
    first = idempotent_call(
        owner=one, key="k", scope="s", payload={}, operation=lambda: (201, {"n": 1})
    )
    other = idempotent_call(
        owner=two, key="k", scope="s", payload={}, operation=lambda: (201, {"n": 2})
    )
    assert (first.body, other.body) == ({"n": 1}, {"n": 2})
    assert idempotent_call(
        owner=one, key="k", scope="s", payload={}, operation=lambda: (500, {})
    ).replayed
