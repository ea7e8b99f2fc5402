"""How long the forecast takes for many series, measured (not extrapolated): generated daily
histories, forecast in chunks of `--chunk` series as a forecast run does (FORECAST_CHUNK_SIZE),
by `--workers` processes (as many Celery workers), with a progress line per 5% of the series.

    .venv/bin/python benchmarks/forecast_scale.py [--series 100000] [--days 140] [--chunk 500]
                                                  [--workers 2]

The engine is the one the forecast run calls (`purchasing.engine.forecast_panel`: per-series
model choice by rolling-origin holdout, intermittent models, fallbacks); no database, so the
reads of sales and the writes of forecasts a run also does are not in these figures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from forecast_backtest import frame, generate  # noqa: E402

from purchasing.engine import forecast_panel  # noqa: E402

HORIZON = 28


def _chunk(job: tuple[int, int, int, int]) -> tuple[int, float]:
    """Generate and forecast one chunk (seeded by its start, so the whole run is the same
    series every time); returns (series forecast, CPU seconds of the forecast alone)."""
    start, size, days, seed = job
    _, observed, stockout, _ = generate(size, days, seed=seed + start)
    history = frame(observed, stockout, days)
    before = time.process_time()
    result = forecast_panel(history, horizon=HORIZON, n_jobs=1)
    return len(result), time.process_time() - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=140)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

    jobs = [
        (start, min(args.chunk, args.series - start), args.days, 7)
        for start in range(0, args.series, args.chunk)
    ]
    print(
        f"{args.series} series x {args.days} days, chunks of {args.chunk}, {args.workers} "
        f"worker processes, {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    started = time.perf_counter()
    done = forecast_cpu = 0.0
    step = max(1, len(jobs) // 20)
    with mp.Pool(args.workers) as pool:
        for index, (count, cpu) in enumerate(pool.imap_unordered(_chunk, jobs), start=1):
            done += count
            forecast_cpu += cpu
            if index % step == 0 or index == len(jobs):
                elapsed = time.perf_counter() - started
                print(
                    f"  {int(done):>7} / {args.series} series  {elapsed:7.1f}s  "
                    f"({done / elapsed:.0f} series/s)",
                    flush=True,
                )
    wall = time.perf_counter() - started
    print(
        f"\n{int(done)} series in {wall:.0f}s wall ({wall / 60:.1f} min; generation included), "
        f"{forecast_cpu:.0f}s CPU in the forecasts; load average after: "
        f"{os.getloadavg()[0]:.1f}"
    )
    verdict = "met" if wall <= 15 * 60 else "NOT met"
    print(f"Goal: 100,000 series within 15 minutes on this machine: {verdict} for {int(done)}.")


if __name__ == "__main__":
    main()
