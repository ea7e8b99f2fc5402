"""Celery tasks: thin, id-taking, idempotent callers of ledger services, started through the
outbox (a refund's posting) or by beat (payouts: `orders.tasks.payouts_run_task`, since orders
decides which seller orders are payable)."""

from __future__ import annotations

from celery import shared_task

from ledger.services import ledger_post_refund

_MONEY_RETRY = {"autoretry_for": (Exception,)}


@shared_task(acks_late=True, **_MONEY_RETRY)
def ledger_refund_post_task(*, refund_id: int) -> None:
    """Post a refund that succeeded to the seller's ledger (and take back what was paid out)."""
    ledger_post_refund(refund_id=refund_id)
