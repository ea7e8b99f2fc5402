"""`manage.py inventory_check [--repair]`: prove the stock counters equal their rows."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inventory.services import stock_reconcile


class Command(BaseCommand):
    help = (
        "Check every stock row: reserved == sum of reservations, allocated == sum of outstanding "
        "allocations, on_hand == sum of the movement ledger. --repair fixes the drift found."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Set reserved/allocated from their rows and book on_hand drift as an adjustment.",
        )

    def handle(self, *args, repair: bool = False, **options) -> None:
        self.stdout.write("Checking stock counters against reservations, allocations, ledger...")
        drifts = stock_reconcile(repair=repair)
        for drift in drifts:
            self.stdout.write(drift.describe())
        if not drifts:
            self.stdout.write(self.style.SUCCESS("All stock counters agree with their rows."))
            return
        unrepaired = [d for d in drifts if not d.repaired]
        if unrepaired:
            hint = "" if repair else " Run with --repair to fix it."
            raise CommandError(f"{len(unrepaired)} counter(s) disagree with their rows.{hint}")
        self.stdout.write(self.style.SUCCESS(f"Repaired {len(drifts)} counter(s)."))
