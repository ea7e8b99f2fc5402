from django.core.management.base import BaseCommand, CommandError

from reviews.services import ratings_drift_find


class Command(BaseCommand):
    help = (
        "Recount every product's rating (average, count, per-star distribution) from its "
        "published reviews and report products whose stored figures differ; --repair rewrites "
        "them. Exits 1 when drift was found and not repaired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Rewrite drifted figures.")

    def handle(self, *args, repair: bool = False, **options):
        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\r  checked {done:,}/{total:,} products", ending="")
            self.stderr.flush()

        drifts = ratings_drift_find(repair=repair, progress=progress)
        self.stderr.write("")
        for drift in drifts:
            self.stdout.write(
                f"product {drift.product_id}: stored {drift.stored_average} × "
                f"{drift.stored_count} {list(drift.stored_stars)}, counted "
                f"{drift.counted.average} × {drift.counted.count} {list(drift.counted.stars)}"
            )
        if not drifts:
            self.stdout.write(self.style.SUCCESS("Ratings match their reviews."))
        elif repair:
            self.stdout.write(self.style.SUCCESS(f"Repaired {len(drifts)} product(s)."))
        else:
            raise CommandError(f"{len(drifts)} product(s) drifted; run with --repair.")
