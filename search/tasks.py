"""Celery tasks: thin, idempotent callers of the search services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from search.popularity import product_popularity_refresh
from search.services import (
    search_index_refresh,
    search_index_refresh_dirty,
    search_prices_refresh_due,
)

# Twice the beat interval, so one late or skipped beat still catches every sale boundary.
SALE_WINDOW = timedelta(seconds=120)


@shared_task(acks_late=True)
def search_index_refresh_task(*, product_ids: list[int]) -> int:
    return search_index_refresh(product_ids=product_ids)


@shared_task(acks_late=True)
def search_index_refresh_dirty_task() -> int:
    return search_index_refresh_dirty()


@shared_task(acks_late=True)
def search_prices_refresh_due_task() -> int:
    return search_prices_refresh_due(window=SALE_WINDOW)


@shared_task(acks_late=True)
def product_popularity_refresh_task() -> int:
    return product_popularity_refresh()
