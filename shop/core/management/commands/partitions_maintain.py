"""`manage.py partitions_maintain`: keep the monthly partitions in shape (beat runs it daily).

Creates the partitions of this month and the next PARTITION_PREMAKE_MONTHS (moving in rows the
DEFAULT partition caught), detaches the months past their retention, archives each to a gzipped
CSV under PARTITION_ARCHIVE_DIR and drops it; a month the outbox still needs is kept and said
so. Idempotent: run it as often as you like. docs/scaling.md, "Partitioning".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from shop.core.partitions import partitions_maintain


class Command(BaseCommand):
    help = (
        "Create next months' partitions, archive and drop those past their retention "
        "(PARTITIONED_TABLES)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--premake",
            type=int,
            default=settings.PARTITION_PREMAKE_MONTHS,
            help="Months ahead to create (default PARTITION_PREMAKE_MONTHS).",
        )
        parser.add_argument(
            "--archive-dir",
            type=Path,
            default=settings.PARTITION_ARCHIVE_DIR,
            help="Where detached partitions are written (default PARTITION_ARCHIVE_DIR).",
        )

    def handle(self, *args: Any, premake: int, archive_dir: Path, **options: Any) -> None:
        reports = partitions_maintain(
            premake_months=premake, archive_dir=archive_dir, progress=self.stdout.write
        )
        for report in reports:
            self.stdout.write(
                f"{report.table}: {len(report.created)} created, {len(report.archived)} "
                f"archived, {len(report.refused)} kept past retention, "
                f"{report.in_default} row(s) in the default partition"
            )
        self.stdout.write(self.style.SUCCESS("Partitions maintained."))
