import os

import redis.exceptions
from celery import Celery
from celery import Task as BaseTask
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

# Failures that pass: the database, Redis, the broker, SMTP or a network peer away for a while.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    BrokerError,
    OSError,  # sockets, and SMTP (smtplib's errors are OSErrors)
)
# A task stopped by its queue's time limit (shop/queues.py): the soft one is retried like an
# outage (the next try may find the peer quick again); after the hard one, or when the tries
# run out, the outbox row stays not run and is published again later.
TIME_LIMIT_ERRORS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded, TimeLimitExceeded)
# The longest wait between two tries: shorter than the Redis broker's visibility timeout
# (CELERY_VISIBILITY_TIMEOUT_SECONDS), or a retry waiting in the broker would be delivered early.
RETRY_BACKOFF_MAX_SECONDS = 240


class Task(BaseTask):
    """Every task of the project retries a transient failure with exponential backoff and
    jitter, about an hour in all (a database outage must not lose an email). Tasks are
    idempotent, so a retry is safe. A task may widen `autoretry_for`, never narrow it."""

    autoretry_for = (*TRANSIENT_ERRORS, SoftTimeLimitExceeded)
    retry_backoff = True
    retry_backoff_max = RETRY_BACKOFF_MAX_SECONDS
    retry_jitter = True
    max_retries = 20


app = Celery("shop", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
