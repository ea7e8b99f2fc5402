"""Forecast any daily history with the shop's method, so it can be judged on outside data:

    manage.py forecast_series --input history.csv --horizon 28 --output forecasts.csv

Input columns `series_id,date,quantity` (ISO dates; a day missing inside a series is 0 sold);
output `series_id,date,forecast,lo,hi,model` (95% interval)."""

from __future__ import annotations

import time

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from purchasing.engine import forecast_panel


class Command(BaseCommand):
    help = "Forecast daily series from a CSV (series_id,date,quantity) into a CSV."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True)
        parser.add_argument("--output", required=True)
        parser.add_argument("--horizon", type=int, default=28)
        parser.add_argument("--level", type=int, default=95)
        parser.add_argument("--jobs", type=int, default=1, help="worker processes")

    def handle(self, *args, **options):
        if not 1 <= options["horizon"] <= 366:
            raise CommandError("--horizon must be 1 to 366 days.")
        if not 50 <= options["level"] < 100:
            raise CommandError("--level must be 50 to 99.")
        try:
            raw = pd.read_csv(options["input"], dtype={"series_id": str})
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['input']}: {exc}") from exc
        missing = {"series_id", "date", "quantity"} - set(raw.columns)
        if missing:
            raise CommandError(f"The input lacks column(s): {', '.join(sorted(missing))}.")
        try:
            raw["ds"] = pd.to_datetime(raw["date"], format="ISO8601")
            raw["y"] = pd.to_numeric(raw["quantity"])
        except (ValueError, TypeError) as exc:
            raise CommandError(f"Bad date or quantity in the input: {exc}") from exc
        daily = (
            raw.groupby(["series_id", "ds"])["y"]
            .sum()
            .reset_index()
            .set_index("ds")
            .groupby("series_id")["y"]
            .resample("D")
            .sum()
            .reset_index()
            .rename(columns={"series_id": "unique_id"})
        )
        started = time.monotonic()
        result = forecast_panel(
            daily, horizon=options["horizon"], level=options["level"], n_jobs=options["jobs"]
        )
        last = daily.groupby("unique_id")["ds"].max()
        rows = []
        for series_id, fc in result.items():
            dates = pd.date_range(
                pd.Timestamp(last[series_id]) + pd.DateOffset(days=1), periods=len(fc.mean)
            )
            for day, mean, lo, hi in zip(dates, fc.mean, fc.lo, fc.hi, strict=True):
                rows.append(
                    (
                        series_id,
                        day.date().isoformat(),
                        round(mean, 4),
                        round(lo, 4),
                        round(hi, 4),
                        fc.model,
                    )
                )
        pd.DataFrame(rows, columns=["series_id", "date", "forecast", "lo", "hi", "model"]).to_csv(
            options["output"], index=False
        )
        self.stdout.write(
            f"{len(result)} series forecast {options['horizon']} days ahead in "
            f"{time.monotonic() - started:.1f}s -> {options['output']}"
        )
