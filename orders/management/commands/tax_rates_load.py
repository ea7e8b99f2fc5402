from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.services.taxes import TAX_RATES_FILE, tax_rates_load
from shop.core.errors import ServiceError


class Command(BaseCommand):
    help = "Load tax rates per country/region (and whether shipping is taxed) from a JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=TAX_RATES_FILE, help="The rates file.")

    def handle(self, *args, **options) -> None:
        try:
            result = tax_rates_load(path=options["file"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Tax rates: {result.rates} rates for {result.destinations} destinations "
            f"({result.removed} removed)."
        )
