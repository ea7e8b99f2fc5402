"""Forecast accuracy and the inventory it buys, on generated daily histories.

    .venv/bin/python benchmarks/forecast_backtest.py [--series 2000] [--days 730] [--jobs 1]
                                                     [--scale 100000]

Generates `--series` multi-year daily demand histories (trend, weekly and yearly seasonality,
promotions, stock-outs, intermittent and new items), then:

1. Rolling-origin backtest (3 origins, 28 days ahead each): WAPE and bias of the shop's method
   (`purchasing.engine.forecast_panel`: per-series model choice) and of seasonal-naive, in the
   same run, on the true demand of the 84 held-out days. Stock-out days in the training data are
   censored (observed 0) and filled as the forecast run fills them (`censored_fill`).
2. Inventory simulation over the held-out days, lead time 7 days, 95% service level: following
   the reorder suggestions (`purchasing.policy.reorder_advise`, re-forecast at each origin)
   against a fixed reorder point (mean demand x lead time x m, order up to + 7 days) whose
   multiplier m is tuned until its average inventory equals the suggestions'. Prints stock-out
   days (a day demand went unmet) and average inventory of both.
3. Throughput: series per second of the method, and the time for `--scale` series extrapolated
   from it (run `--series 100000` to measure it instead).

No database: the engine and the policy are the same functions the forecast run calls.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from purchasing.engine import censored_fill, forecast_panel, seasonal_naive_panel  # noqa: E402
from purchasing.policy import reorder_advise  # noqa: E402

HORIZON = 28
ORIGINS = 3
LEAD_TIME = 7
REVIEW = 7
SERVICE = 0.95


def generate(n: int, days: int, seed: int = 42):
    """True demand, observed sales (0 on stock-out days) and the stock-out mask per series."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    truth = np.zeros((n, days))
    kinds = rng.choice(["smooth", "intermittent", "new"], size=n, p=[0.6, 0.3, 0.1])
    for i, kind in enumerate(kinds):
        level = rng.uniform(2, 40) if kind != "intermittent" else rng.uniform(0.05, 0.6)
        trend = rng.normal(0, 0.3) * level / days
        weekly = 1 + rng.uniform(0, 0.5) * np.sin(2 * np.pi * (t + rng.integers(7)) / 7)
        yearly = 1 + rng.uniform(0, 0.4) * np.sin(2 * np.pi * (t + rng.integers(365)) / 365.25)
        rate = np.clip((level + trend * t) * weekly * yearly, 0, None)
        promos = np.zeros(days)
        for start in rng.integers(0, days - 7, size=max(1, days // 120)):
            promos[start : start + rng.integers(3, 8)] = rng.uniform(0.5, 1.5)
        rate = rate * (1 + promos)
        if kind == "new":
            rate[: days - rng.integers(20, 120)] = 0
        truth[i] = rng.poisson(rate)
    stockout = np.zeros((n, days), dtype=bool)
    for i in range(n):
        for start in rng.integers(0, days - 10, size=rng.integers(0, 4)):
            stockout[i, start : start + rng.integers(2, 10)] = True
    observed = np.where(stockout, 0.0, truth)
    return truth, observed, stockout, kinds


def first_sale(row: np.ndarray) -> int:
    nonzero = np.flatnonzero(row)
    return int(nonzero[0]) if len(nonzero) else len(row) - 1


def frame(observed, stockout, end: int) -> pd.DataFrame:
    """Training data before day `end`, censored days filled, each series from its first sale."""
    dates = pd.date_range("2023-01-01", periods=observed.shape[1])
    parts = []
    for i in range(observed.shape[0]):
        start = min(first_sale(observed[i, :end]), end - 1)
        y = censored_fill(observed[i, start:end], stockout[i, start:end])
        parts.append(pd.DataFrame({"unique_id": i, "ds": dates[start:end], "y": y}))
    return pd.concat(parts, ignore_index=True)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the --jobs workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def backtest(truth, observed, stockout, jobs: int):
    days = truth.shape[1]
    method = np.zeros((truth.shape[0], ORIGINS * HORIZON))
    naive = np.zeros_like(method)
    sigma = np.zeros((truth.shape[0], ORIGINS))
    seconds = cpu = 0.0
    for k in range(ORIGINS):
        end = days - (ORIGINS - k) * HORIZON
        train = frame(observed, stockout, end)
        started, cpu_started = time.perf_counter(), _cpu()
        result = forecast_panel(train, horizon=HORIZON, n_jobs=jobs)
        seconds += time.perf_counter() - started
        cpu += _cpu() - cpu_started
        baseline = seasonal_naive_panel(
            train.groupby("unique_id").filter(lambda g: len(g) >= 7), horizon=HORIZON
        )
        for i in range(truth.shape[0]):
            method[i, k * HORIZON : (k + 1) * HORIZON] = result[i].mean
            sigma[i, k] = result[i].sigma
            naive[i, k * HORIZON : (k + 1) * HORIZON] = baseline.get(
                i, np.full(HORIZON, train.loc[train.unique_id == i, "y"].mean())
            )
    actual = truth[:, days - ORIGINS * HORIZON :]
    return actual, method, naive, sigma, seconds, cpu


def wape_bias(forecast, actual) -> tuple[float, float]:
    return (
        float(np.abs(forecast - actual).sum() / actual.sum()),
        float((forecast - actual).sum() / actual.sum()),
    )


def simulate(actual, decide) -> tuple[int, float]:
    """Daily: receive what arrives, sell (unmet demand = a stock-out day), then `decide` may
    order (arriving after the lead time). Returns stock-out days and average inventory."""
    n, days = actual.shape
    stockout_days, inventory_sum = 0, 0.0
    for i in range(n):
        on_hand = decide(i, 0, 0, 0, initial=True)
        pipeline = np.zeros(days + LEAD_TIME + 1)
        for d in range(days):
            on_hand += pipeline[d]
            demand = actual[i, d]
            if demand > on_hand:
                stockout_days += 1
            on_hand = max(on_hand - demand, 0)
            inventory_sum += on_hand
            on_order = pipeline[d + 1 : d + LEAD_TIME + 1].sum()
            quantity = decide(i, d, on_hand, on_order)
            if quantity:
                pipeline[d + LEAD_TIME] += quantity
    return stockout_days, inventory_sum / (n * days)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--scale", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

    started = time.perf_counter()
    truth, observed, stockout, kinds = generate(args.series, args.days)
    print(
        f"{args.series} series x {args.days} days "
        f"({(kinds == 'smooth').sum()} smooth, {(kinds == 'intermittent').sum()} intermittent, "
        f"{(kinds == 'new').sum()} new); {stockout.mean():.1%} of days stocked out"
    )
    actual, method, naive, sigma, seconds, cpu = backtest(truth, observed, stockout, args.jobs)
    w_m, b_m = wape_bias(method, actual)
    w_n, b_n = wape_bias(naive, actual)
    print(f"\nRolling-origin backtest: {ORIGINS} origins x {HORIZON} days")
    print(f"  {'method':<28}{'WAPE':>8}{'bias':>9}")
    print(f"  {'chosen per series':<28}{w_m:>8.3f}{b_m:>+9.3f}")
    print(f"  {'seasonal-naive':<28}{w_n:>8.3f}{b_n:>+9.3f}")
    print(f"  WAPE improvement over seasonal-naive: {1 - w_m / w_n:.1%} (goal >= 15%)")

    # inventory simulation on the held-out days, re-forecast at each origin
    def suggested(i, d, on_hand, on_order, initial=False):
        k = min(d // HORIZON, ORIGINS - 1)
        mean_daily = float(method[i, k * HORIZON : (k + 1) * HORIZON].mean())
        advice = reorder_advise(
            mean_daily=mean_daily,
            sigma_daily=float(sigma[i, k]),
            lead_time_days=LEAD_TIME,
            lead_time_sd_days=0,
            service_level=SERVICE,
            review_days=REVIEW,
            available=int(on_hand),
            incoming=int(on_order),
            today=pd.Timestamp("2025-01-01").date(),
        )
        return advice.order_up_to if initial else advice.quantity

    history_mean = np.array(
        [observed[i, : args.days - ORIGINS * HORIZON][-56:].mean() for i in range(args.series)]
    )

    def fixed(multiplier):
        def decide(i, d, on_hand, on_order, initial=False):
            rop = math.ceil(history_mean[i] * LEAD_TIME * multiplier)
            up_to = rop + math.ceil(history_mean[i] * REVIEW)
            if initial:
                return up_to
            position = on_hand + on_order
            return up_to - position if position < rop else 0

        return decide

    out_s, inv_s = simulate(actual, suggested)
    low, high = 0.1, 6.0
    for _ in range(18):  # bisection: the fixed rule's average inventory equal to the suggestions'
        mid = (low + high) / 2
        _, inv = simulate(actual, fixed(mid))
        low, high = (mid, high) if inv < inv_s else (low, mid)
    out_f, inv_f = simulate(actual, fixed((low + high) / 2))
    total_days = args.series * actual.shape[1]
    print(f"\nInventory simulation: {actual.shape[1]} days, lead time {LEAD_TIME}, {SERVICE:.0%}")
    print(f"  {'policy':<36}{'stock-out days':>16}{'avg inventory':>15}")
    print(f"  {'reorder suggestions':<36}{out_s:>9} ({out_s / total_days:.1%}){inv_s:>15.1f}")
    print(
        f"  {'fixed reorder point, same inventory':<36}{out_f:>9} ({out_f / total_days:.1%})"
        f"{inv_f:>15.1f}"
    )
    print(f"  stock-out days vs fixed: {out_s / max(out_f, 1):.2f}x (goal <= 0.5x)")

    count = ORIGINS * args.series
    per_series, cpu_per_series = seconds / count, cpu / count
    print(
        f"\nThroughput: {count} series forecast in {seconds:.1f}s wall, {cpu:.1f}s CPU "
        f"(this process and its workers; {1 / per_series:.0f} series/s wall, {args.jobs} job(s)); "
        f"{args.scale} series: ~{args.scale * per_series / 60:.1f} min at this wall rate, "
        f"~{args.scale * cpu_per_series / 60:.1f} CPU-min (divide by free cores with --jobs)"
    )
    print(f"Total run time {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
