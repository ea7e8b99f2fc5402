"""Demand forecasts from the `statsforecast` library, one model chosen per series.

Knows nothing of Django: it takes a long table (`unique_id, ds, y`: one row per series and
day, no gaps) and returns, per series, the chosen model's daily forecast with an interval. The
management command `forecast_series` and benchmarks/forecast_backtest.py use it on outside
data; the forecast run (purchasing.services.forecasting) on the shop's sales.

How a model is chosen: series with at least `MIN_BACKTEST_DAYS` of history get a rolling-origin
holdout (`BACKTEST_WINDOWS` origins, `BACKTEST_HORIZON` days each) over the candidates of their
kind (intermittent: mostly zero days; smooth: the rest) and their mean ("Combination"); the
lowest squared error wins and its
holdout residuals give the daily error (sigma) behind the interval and the safety stock.
Shorter histories fall back to seasonal-naive (7+ days) or the historic average.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    TSB,
    AutoETS,
    CrostonOptimized,
    HistoricAverage,
    SeasonalExponentialSmoothingOptimized,
    SeasonalNaive,
    SeasonalWindowAverage,
)

SEASON = 7
BACKTEST_HORIZON = 14
BACKTEST_WINDOWS = 2
MIN_BACKTEST_DAYS = 56
# the models see at most this many recent days (speed; the weekly pattern and trend are local)
TRAIN_DAYS = 112
INTERMITTENT_ZERO_SHARE = 0.5
# the mean of the candidates' forecasts but seasonal-naive's, itself a candidate (combinations
# are often more accurate than any one model; it costs no extra fit)
COMBINATION = "Combination"
COMBINATION_MARGIN = 1.2


def _smooth_models() -> list:
    return [
        SeasonalNaive(season_length=SEASON),
        SeasonalWindowAverage(season_length=SEASON, window_size=4),
        SeasonalExponentialSmoothingOptimized(season_length=SEASON),
        AutoETS(season_length=SEASON, model="AAA", damped=False, alias="AutoETS"),
    ]


def _intermittent_models() -> list:
    return [
        SeasonalNaive(season_length=SEASON),
        SeasonalWindowAverage(season_length=SEASON, window_size=4),
        CrostonOptimized(),
        TSB(alpha_d=0.1, alpha_p=0.1),
        ADIDA(),
    ]


@dataclass(frozen=True)
class SeriesForecast:
    series_id: object
    model: str
    mean: np.ndarray  # daily forecast, `horizon` values, never negative
    lo: np.ndarray
    hi: np.ndarray
    sigma: float  # standard deviation of one day's forecast error
    wape: float | None  # chosen model's holdout WAPE (None: too short to backtest)
    bias: float | None  # sum(forecast - actual) / sum(actual) on the holdout

    @property
    def mean_daily(self) -> float:
        return float(self.mean.mean()) if len(self.mean) else 0.0


def censored_fill(units: np.ndarray, censored: np.ndarray, *, window: int = 28) -> np.ndarray:
    """Stock-out days are unknown demand, not zero: each censored day takes the mean of the
    uncensored days in the `window` days before it (0 when there are none)."""
    filled = units.astype(float).copy()
    for i in np.flatnonzero(censored):
        recent = units[max(0, i - window) : i][~censored[max(0, i - window) : i]]
        filled[i] = float(recent.mean()) if len(recent) else 0.0
    return filled


def _z(level: int) -> float:
    return NormalDist().inv_cdf(0.5 + level / 200)


def _intervals(mean: np.ndarray, sigma: float, z: float) -> tuple[np.ndarray, np.ndarray]:
    return np.maximum(mean - z * sigma, 0.0), mean + z * sigma


def _choose(cv: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per series: the model with the lowest holdout squared error (absolute error would favour
    forecasting zero for intermittent items, which never reorders), its WAPE, bias, sigma."""
    rows = []
    for series_id, group in cv.groupby("unique_id", sort=False):
        actual = group["y"].to_numpy()
        errors = {name: group[name].to_numpy() - actual for name in models}
        squared = {name: float((errors[name] ** 2).sum()) for name in models}
        best = min(models, key=squared.__getitem__)
        # a single model must beat the combination clearly: two short holdouts are noisy
        if COMBINATION in squared and squared[COMBINATION] <= COMBINATION_MARGIN * squared[best]:
            best = COMBINATION
        err = errors[best]
        total = float(actual.sum())
        rows.append(
            {
                "unique_id": series_id,
                "model": best,
                "wape": float(np.abs(err).sum()) / total if total > 0 else None,
                "bias": float(err.sum()) / total if total > 0 else None,
                "sigma": float(np.sqrt(np.mean(err**2))),
            }
        )
    return pd.DataFrame(rows)


def _backtested(df: pd.DataFrame, models: list, horizon: int, n_jobs: int) -> dict:
    sf = StatsForecast(models=models, freq="D", n_jobs=n_jobs)
    cv = sf.cross_validation(
        df=df, h=BACKTEST_HORIZON, n_windows=BACKTEST_WINDOWS, step_size=BACKTEST_HORIZON
    )
    names = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y")]
    cv[names] = cv[names].clip(lower=0)
    combined = [name for name in names if name != "SeasonalNaive"]  # the noisiest candidate
    cv[COMBINATION] = cv[combined].mean(axis=1)
    chosen = _choose(cv, [*names, COMBINATION]).set_index("unique_id")
    forecast = sf.forecast(df=df, h=horizon)
    forecast[names] = forecast[names].clip(lower=0)
    forecast[COMBINATION] = forecast[combined].mean(axis=1)
    out = {}
    for series_id, group in forecast.groupby("unique_id", sort=False):
        pick = chosen.loc[series_id]
        out[series_id] = (
            str(pick["model"]),
            np.maximum(group[pick["model"]].to_numpy(dtype=float), 0.0),
            float(pick["sigma"]),
            None if pd.isna(pick["wape"]) else float(pick["wape"]),
            None if pd.isna(pick["bias"]) else float(pick["bias"]),
        )
    return out


def _fallback(df: pd.DataFrame, horizon: int) -> dict:
    """Short histories: seasonal-naive from a full week, else the average so far."""
    out = {}
    weekly = df.groupby("unique_id").filter(lambda g: len(g) >= SEASON)
    rest = df[~df["unique_id"].isin(weekly["unique_id"].unique())]
    for frame, model in ((weekly, SeasonalNaive(season_length=SEASON)), (rest, HistoricAverage())):
        if frame.empty:
            continue
        forecast = StatsForecast(models=[model], freq="D", n_jobs=1).forecast(df=frame, h=horizon)
        name = next(c for c in forecast.columns if c not in ("unique_id", "ds"))
        for series_id, group in forecast.groupby("unique_id", sort=False):
            history = frame.loc[frame["unique_id"] == series_id, "y"].to_numpy(dtype=float)
            if len(history) > SEASON:
                sigma = float(np.std(history[SEASON:] - history[:-SEASON]))
            else:
                sigma = float(np.std(history)) if len(history) > 1 else float(history.mean())
            out[series_id] = (
                name,
                np.maximum(group[name].to_numpy(dtype=float), 0.0),
                sigma,
                None,
                None,
            )
    return out


def forecast_panel(
    history: pd.DataFrame, *, horizon: int, level: int = 95, n_jobs: int = 1
) -> dict[object, SeriesForecast]:
    """Forecast every series of `history` (`unique_id, ds, y`, daily, gap-free) `horizon` days
    ahead. Returns {series_id: SeriesForecast}."""
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    df = history[["unique_id", "ds", "y"]].copy()
    df["y"] = df["y"].astype(float).clip(lower=0)
    df = df.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=False).tail(TRAIN_DAYS)
    stats = df.groupby("unique_id")["y"].agg(length="size", zeros=lambda y: float((y == 0).mean()))
    long_ids = stats.index[stats["length"] >= MIN_BACKTEST_DAYS]
    intermittent = stats.index[
        (stats["length"] >= MIN_BACKTEST_DAYS) & (stats["zeros"] >= INTERMITTENT_ZERO_SHARE)
    ]
    smooth = long_ids.difference(intermittent)
    raw: dict = {}
    for ids, models in ((smooth, _smooth_models()), (intermittent, _intermittent_models())):
        if len(ids):
            raw.update(_backtested(df[df["unique_id"].isin(ids)], models, horizon, n_jobs))
    short = df[~df["unique_id"].isin(long_ids)]
    if not short.empty:
        raw.update(_fallback(short, horizon))
    z = _z(level)
    result = {}
    for series_id, (model, mean, sigma, wape, bias) in raw.items():
        sigma = 0.0 if not math.isfinite(sigma) else sigma
        lo, hi = _intervals(mean, sigma, z)
        result[series_id] = SeriesForecast(series_id, model, mean, lo, hi, sigma, wape, bias)
    return result


def seasonal_naive_panel(history: pd.DataFrame, *, horizon: int) -> dict[object, np.ndarray]:
    """The baseline: last week's same weekday, from `statsforecast`'s SeasonalNaive."""
    df = history[["unique_id", "ds", "y"]]
    forecast = StatsForecast(models=[SeasonalNaive(season_length=SEASON)], freq="D").forecast(
        df=df, h=horizon
    )
    return {
        series_id: group["SeasonalNaive"].to_numpy(dtype=float)
        for series_id, group in forecast.groupby("unique_id", sort=False)
    }
