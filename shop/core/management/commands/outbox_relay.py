"""`manage.py outbox_relay`: publish the outbox's unsent rows to the Celery broker, in a loop.

Run one or more next to the web processes (`make run` starts one). It needs the database and
the broker, nothing else; several relays share the work safely (rows are claimed with SKIP
LOCKED). SIGTERM or Ctrl-C stops it between batches.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import OperationalError, connections

from shop.core.outbox import outbox_backlog, outbox_relay

logger = logging.getLogger("shop.core.outbox")

ALERT_EVERY_SECONDS = 60.0


class Command(BaseCommand):
    help = "Publish unsent outbox rows to the Celery broker until stopped (or once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Publish what is due and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.OUTBOX_RELAY_INTERVAL_SECONDS,
            help="Seconds to wait when nothing is due (default OUTBOX_RELAY_INTERVAL_SECONDS).",
        )

    def handle(self, *args: Any, once: bool = False, interval: float = 0.5, **options) -> None:
        if once:
            sent = self._drain()
            self.stdout.write(f"Published {sent} outbox row(s).")
            return
        self.stopping = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.stdout.write(f"Outbox relay running (every {interval:g} s when idle).")
        last_alert = 0.0
        while not self.stopping:
            try:
                self._drain()
                if time.monotonic() - last_alert > ALERT_EVERY_SECONDS:
                    last_alert = time.monotonic()
                    self._alert_if_behind()
            except OperationalError as exc:
                # the database is away: wait and try again; nothing is lost, rows stay unsent
                logger.warning("Outbox relay cannot reach the database: %s", exc)
                connections.close_all()
            self._sleep(interval)
        self.stdout.write("Outbox relay stopped.")

    def _drain(self) -> int:
        sent = 0
        while True:
            result = outbox_relay()
            sent += result.sent
            if result.failed or result.claimed == 0 or getattr(self, "stopping", False):
                return sent

    def _alert_if_behind(self) -> None:
        backlog = outbox_backlog()
        if (backlog.oldest_seconds or 0) > settings.OUTBOX_ALERT_AFTER_SECONDS:
            logger.error(
                "Outbox behind: %s row(s) unpublished, the oldest for %.0f s, %s failing. "
                "Is the broker (CELERY_BROKER_URL) reachable?",
                backlog.pending,
                backlog.oldest_seconds,
                backlog.failing,
            )

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
