"""Celery tasks of purchasing: thin, idempotent callers of the services."""

from __future__ import annotations

import logging

from celery import shared_task

from purchasing import notifications
from purchasing.services import (
    forecast_run_execute,
    forecast_run_start,
    forecast_runs_resume,
    pricing_apply_all,
)

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def forecast_run_execute_task(*, run_id: int) -> None:
    """Forecast the run's remaining stock rows; a redelivered task resumes after the cursor."""
    forecast_run_execute(run_id=run_id)


@shared_task(acks_late=True, ignore_result=True)
def forecast_nightly_task() -> None:
    """Beat, nightly: one run over every seller's stock rows."""
    forecast_run_start(seller=None)


@shared_task(acks_late=True, ignore_result=True)
def forecast_runs_resume_task() -> int:
    """Beat: restart runs whose worker died."""
    return forecast_runs_resume()


@shared_task(acks_late=True, ignore_result=True)
def pricing_apply_all_task() -> int:
    """Beat, daily: every seller's pricing rules (each change recorded with its reason)."""
    changed = pricing_apply_all()
    logger.info("Dynamic pricing changed %s prices.", changed)
    return changed


@shared_task(acks_late=True, ignore_result=True)
def purchase_order_email_task(*, order_id: int) -> None:
    notifications.purchase_order_email_send(order_id=order_id)


@shared_task(acks_late=True, ignore_result=True)
def reorder_alert_task(*, seller_id: int, order_ids: list[int]) -> None:
    notifications.reorder_alert_send(seller_id=seller_id, order_ids=order_ids)
