"""Allocation strategies: which warehouses serve which lines.

A strategy is a plain function `(lines, candidates, destination) -> plan`. It sees, per variant,
the stock rows it may draw from (already locked, with their availability under the lock) and
returns, per variant, the (stock_id, quantity) parts in the order it prefers. It may leave a line
short; the caller turns that into `InsufficientStock` (or a backorder when the row allows it). New
strategies are added to `STRATEGIES`; the default comes from
`settings.INVENTORY_ALLOCATION_STRATEGY` ("nearest" when unset).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from inventory.services.contracts import Destination

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Candidate:
    stock_id: int
    warehouse_id: int
    available: int
    priority: int
    latitude: Decimal | None
    longitude: Decimal | None
    country: str


Plan = dict[int, list[tuple[int, int]]]
Strategy = Callable[
    [Mapping[int, int], Mapping[int, Sequence[Candidate]], Destination | None], Plan
]


def great_circle_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance between two points on the Earth, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _fill(quantity: int, ranked: Sequence[Candidate]) -> list[tuple[int, int]]:
    """Take units from the ranked candidates in turn until the quantity is met."""
    parts: list[tuple[int, int]] = []
    remaining = quantity
    for candidate in ranked:
        if remaining <= 0:
            break
        take = min(remaining, max(candidate.available, 0))
        if take > 0:
            parts.append((candidate.stock_id, take))
            remaining -= take
    return parts


def _priority_key(c: Candidate) -> tuple[int, int]:
    return (c.priority, c.warehouse_id)


def strategy_priority(
    lines: Mapping[int, int],
    candidates: Mapping[int, Sequence[Candidate]],
    destination: Destination | None,
) -> Plan:
    """The seller's priority order (lowest first), splitting a line when one warehouse is short."""
    return {
        variant_id: _fill(quantity, sorted(candidates.get(variant_id, ()), key=_priority_key))
        for variant_id, quantity in lines.items()
    }


def _distance_key(destination: Destination) -> Callable[[Candidate], tuple]:
    assert destination.latitude is not None and destination.longitude is not None
    lat, lng = float(destination.latitude), float(destination.longitude)

    def key(c: Candidate) -> tuple:
        if c.latitude is None or c.longitude is None:
            # warehouses without coordinates come after every located one
            return (1, 0.0, *_priority_key(c))
        return (
            0,
            great_circle_km(lat, lng, float(c.latitude), float(c.longitude)),
            *_priority_key(c),
        )

    return key


def strategy_nearest(
    lines: Mapping[int, int],
    candidates: Mapping[int, Sequence[Candidate]],
    destination: Destination | None,
) -> Plan:
    """Nearest warehouse to the destination by great-circle distance; without coordinates,
    warehouses in the destination's country first; ties by priority."""
    if destination is not None and destination.has_coordinates:
        key: Callable[[Candidate], tuple] = _distance_key(destination)
    elif destination is not None and destination.country:
        country = destination.country.upper()

        def key(c: Candidate) -> tuple:
            return (c.country.upper() != country, *_priority_key(c))
    else:
        key = _priority_key
    return {
        variant_id: _fill(quantity, sorted(candidates.get(variant_id, ()), key=key))
        for variant_id, quantity in lines.items()
    }


def strategy_fewest_shipments(
    lines: Mapping[int, int],
    candidates: Mapping[int, Sequence[Candidate]],
    destination: Destination | None,
) -> Plan:
    """As few warehouses as possible for the whole order (greedy set cover): repeatedly pick the
    warehouse that can serve the most still-unserved lines in full (ties: priority), then split
    whatever no single warehouse can serve in priority order."""
    by_warehouse: dict[int, dict[int, Candidate]] = {}
    for variant_id, cands in candidates.items():
        for c in cands:
            by_warehouse.setdefault(c.warehouse_id, {})[variant_id] = c
    priority = {c.warehouse_id: _priority_key(c) for cands in candidates.values() for c in cands}
    unserved = dict(lines)
    plan: Plan = {variant_id: [] for variant_id in lines}
    while unserved:
        best_wh: int | None = None
        best_lines: list[int] = []
        for wh_id in sorted(by_warehouse, key=lambda w: priority[w]):
            full = [
                v
                for v, q in unserved.items()
                if v in by_warehouse[wh_id] and by_warehouse[wh_id][v].available >= q
            ]
            if len(full) > len(best_lines):
                best_wh, best_lines = wh_id, full
        if best_wh is None:
            break
        for v in best_lines:
            plan[v].append((by_warehouse[best_wh][v].stock_id, unserved.pop(v)))
    for variant_id, quantity in unserved.items():
        plan[variant_id] = _fill(
            quantity, sorted(candidates.get(variant_id, ()), key=_priority_key)
        )
    return plan


STRATEGIES: dict[str, Strategy] = {
    "priority": strategy_priority,
    "nearest": strategy_nearest,
    "fewest_shipments": strategy_fewest_shipments,
}
