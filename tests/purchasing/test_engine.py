"""The forecasting engine (statsforecast) recovers known synthetic series within stated
tolerances, and the `forecast_series` command works on any CSV history."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
from django.core.management import call_command

from purchasing.engine import forecast_panel

DAYS = 210
WEEK = np.array([10, 12, 14, 16, 18, 30, 40], dtype=float)


def _frame(series: dict[str, np.ndarray]) -> pd.DataFrame:
    dates = pd.date_range("2025-01-01", periods=DAYS)
    return pd.concat(
        pd.DataFrame({"unique_id": sid, "ds": dates[: len(y)], "y": y}) for sid, y in series.items()
    )


def test_weekly_trend_and_intermittent_series_are_recovered():
    rng = np.random.default_rng(7)
    weekly = np.tile(WEEK, DAYS // 7)
    trend = 5 + 0.5 * np.arange(DAYS)
    intermittent = (rng.random(DAYS) < 0.2) * 3.0  # 3 units on 20% of days: 0.6/day
    result = forecast_panel(
        _frame({"weekly": weekly, "trend": trend, "intermittent": intermittent}), horizon=14
    )
    # pure weekly seasonality: each weekday within 5% of its true value
    expected_weekly = np.tile(WEEK, 3)[:14]  # DAYS is a multiple of 7: the next day is WEEK[0]
    assert np.allclose(result["weekly"].mean, expected_weekly, rtol=0.05)
    # linear trend: within 5% of the continued line
    expected_trend = 5 + 0.5 * np.arange(DAYS, DAYS + 14)
    assert np.allclose(result["trend"].mean, expected_trend, rtol=0.05)
    # intermittent: the daily rate within 35% of the last eight weeks' rate, never negative
    recent_rate = intermittent[-56:].mean()
    assert abs(result["intermittent"].mean_daily - recent_rate) <= 0.35 * recent_rate
    assert (result["intermittent"].lo >= 0).all()
    assert result["weekly"].wape is not None and result["weekly"].wape < 0.05


def test_short_histories_fall_back_to_seasonal_naive_or_the_average():
    result = forecast_panel(
        _frame({"new": np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "tiny": np.array([4.0, 2])}),
        horizon=7,
    )
    assert result["new"].model == "SeasonalNaive"
    assert list(result["new"].mean) == [4.0, 5, 6, 7, 8, 9, 10]
    assert result["tiny"].model == "HistoricAverage" and result["tiny"].mean_daily == 3.0


def test_forecast_series_command_reads_and_writes_csv(tmp_path):
    source = tmp_path / "history.csv"
    with source.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["series_id", "date", "quantity"])
        for i, day in enumerate(pd.date_range("2025-01-01", periods=70)):
            writer.writerow(["A", day.date().isoformat(), WEEK[i % 7]])
            if i >= 60:
                writer.writerow(["B", day.date().isoformat(), 2])
    target = tmp_path / "out.csv"
    call_command("forecast_series", input=str(source), horizon=28, output=str(target), verbosity=0)
    rows = list(csv.DictReader(target.open()))
    assert set(rows[0]) == {"series_id", "date", "forecast", "lo", "hi", "model"}
    assert len([r for r in rows if r["series_id"] == "A"]) == 28
    assert len([r for r in rows if r["series_id"] == "B"]) == 28
    a = [float(r["forecast"]) for r in rows if r["series_id"] == "A"][:7]
    assert np.allclose(a, np.roll(WEEK, -70 % 7), rtol=0.05)
    assert all(float(r["lo"]) <= float(r["forecast"]) <= float(r["hi"]) for r in rows)
