"""`manage.py ledger_reconcile`: checks the seller ledger against the payments to the cent
(ledger.selectors.ledger_reconcile); exits 1 and lists every difference when they disagree."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ledger.selectors import ledger_reconcile


class Command(BaseCommand):
    help = "Check the seller ledger against payments, refunds, disputes and payouts."

    def handle(self, *args, **options) -> None:
        self.stdout.write("Reconciling the ledger against the payments...")
        found = ledger_reconcile()
        self.stdout.write(
            f"Checked {found.journals} journals, {found.orders} orders, {found.refunds} "
            f"refunds, {found.disputes} disputes, {found.payouts} payouts."
        )
        for difference in found.differences:
            self.stdout.write(self.style.ERROR(difference))
        if not found.ok:
            raise CommandError(f"{len(found.differences)} difference(s) found.")
        self.stdout.write(self.style.SUCCESS("The ledger agrees with the payments to the cent."))
