"""Celery tasks of the sellers app: thin callers of the services."""

from __future__ import annotations

from celery import shared_task

from sellers.bulk.imports import catalog_import_jobs_fail_stale, catalog_import_run


@shared_task(acks_late=True, ignore_result=True)
def catalog_import_run_task(job_id: int) -> None:
    """Run a queued CSV import. Safe to deliver twice: only a queued job is claimed, and a run
    either commits whole or leaves the catalog untouched."""
    catalog_import_run(job_id=job_id)


@shared_task(ignore_result=True)
def catalog_import_fail_stale_task() -> int:
    """Beat: fail imports whose worker went away (see catalog_import_jobs_fail_stale)."""
    return catalog_import_jobs_fail_stale()
