"""Celery tasks of the sellers app: thin callers of the services."""

from __future__ import annotations

from celery import shared_task

from sellers.bulk.imports import catalog_import_jobs_recover, catalog_import_run
from sellers.services import invitation_email_send


@shared_task(acks_late=True, ignore_result=True)
def catalog_import_run_task(job_id: int) -> None:
    """Run a queued CSV import. Safe to deliver twice: only a queued job (or a running one
    whose heartbeat stopped) is claimed, and a run either commits whole or changes nothing."""
    catalog_import_run(job_id=job_id)


@shared_task(acks_late=True, ignore_result=True)
def catalog_import_recover_task() -> int:
    """Beat: run again the imports whose worker went away (catalog_import_jobs_recover)."""
    return catalog_import_jobs_recover()


@shared_task(acks_late=True, ignore_result=True)
def invitation_email_send_task(*, invitation_id: int) -> None:
    invitation_email_send(invitation_id=invitation_id)
