"""Demo stock for `seed_demo`: a warehouse per seller (two for the first) and a stock row for
every variant that has none, booked through the ledger as one receipt each, so the storefront
can sell the demo catalog and `inventory_check` agrees with it.

Set-based SQL in variant-id ranges: a million products (about 2.5 million variants) take a
minute, not the hours a per-row service call would. Quantities are a pure function of the
variant id, so the same catalog always gets the same stock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from catalog.models import ProductVariant
from inventory.models import MovementReason, Stock, StockMovement, Warehouse
from sellers.models import Seller

CHUNK = 200_000  # variant ids per statement
REFERENCE = "seed_demo"

# A city per seller country (demo coordinates for the nearest-warehouse strategy).
CITIES: dict[str, tuple[str, str, float, float]] = {
    "GB": ("London", "E1 6AN", 51.5072, -0.1276),
    "DE": ("Berlin", "10115", 52.5200, 13.4050),
    "NL": ("Amsterdam", "1012 JS", 52.3676, 4.9041),
    "US": ("Chicago", "60601", 41.8781, -87.6298),
    "IE": ("Dublin", "D01 F5P2", 53.3498, -6.2603),
    "FR": ("Lyon", "69001", 45.7640, 4.8357),
    "PT": ("Porto", "4000-001", 41.1579, -8.6291),
}
SECOND_WAREHOUSE = ("Manchester", "M1 1AE", 53.4808, -2.2426)

# Deterministic spread (per mille of a hash of the variant id): 6% sold out, 10% with 1-5
# units ("only N left"), the rest 10-199; the first seller's second warehouse holds 0-6 more
# of half its variants.
STOCK_SQL = """
WITH v AS (
    SELECT v.id AS variant_id, p.seller_id, ((v.id * 2654435761) %% 1000) AS h
    FROM catalog_productvariant v
    JOIN catalog_product p ON p.id = v.product_id
    WHERE v.id BETWEEN %(low)s AND %(high)s
)
INSERT INTO inventory_stock
    (created_at, updated_at, variant_id, warehouse_id, on_hand, allocated, reserved,
     backorder_allowed)
SELECT %(now)s, %(now)s, v.variant_id, w.id,
       CASE WHEN w.code = 'main' THEN
                CASE WHEN v.h < 60 THEN 0 WHEN v.h < 160 THEN 1 + v.h %% 5 ELSE 10 + v.h %% 190 END
            ELSE v.h %% 7 END,
       0, 0, false
FROM v
JOIN inventory_warehouse w ON w.seller_id = v.seller_id
    AND (w.code = 'main' OR (w.code = 'north' AND v.h %% 2 = 0))
WHERE NOT EXISTS (SELECT 1 FROM inventory_stock s WHERE s.variant_id = v.variant_id)
RETURNING id
"""

MOVEMENT_SQL = """
INSERT INTO inventory_stockmovement
    (created_at, stock_id, reason, delta, on_hand_after, reference, note)
SELECT %(now)s, s.id, %(reason)s, s.on_hand, s.on_hand, %(reference)s, 'Opening stock'
FROM inventory_stock s
WHERE s.id = ANY(%(ids)s) AND s.on_hand > 0
"""


@dataclass
class StockSeedResult:
    warehouses: int = 0
    stocks: int = 0
    movements: int = 0


def demo_warehouses_ensure(*, sellers: list[Seller]) -> int:
    """A `main` warehouse for every seller, plus a `north` one for the first (the demo seller's
    shop, so the portal and the allocation strategy have two to choose from)."""
    created = 0
    for index, seller in enumerate(sellers):
        city, postal, lat, lng = CITIES.get(seller.country, CITIES["GB"])
        specs = [("main", f"{seller.name} {city}", city, postal, lat, lng, 10)]
        if index == 0:
            specs.append(("north", f"{seller.name} {SECOND_WAREHOUSE[0]}", *SECOND_WAREHOUSE, 20))
        for code, name, city_name, postal_code, latitude, longitude, priority in specs:
            _, was_created = Warehouse.objects.get_or_create(
                seller=seller,
                code=code,
                defaults={
                    "name": name,
                    "line1": "1 Depot Road",
                    "city": city_name,
                    "postal_code": postal_code,
                    "country": seller.country or "GB",
                    "latitude": latitude,
                    "longitude": longitude,
                    "priority": priority,
                },
            )
            created += was_created
    return created


def demo_stock_seed(
    *, sellers: list[Seller], progress: Callable[[int, int], None] | None = None
) -> StockSeedResult:
    """Warehouses, then stock rows and opening-stock ledger rows for every variant without
    stock. Safe to re-run: variants that have stock are left alone."""
    result = StockSeedResult(warehouses=demo_warehouses_ensure(sellers=sellers))
    bounds = ProductVariant.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return result
    low, high = bounds["low"], bounds["high"]
    now = timezone.now()
    total = high - low + 1
    for start in range(low, high + 1, CHUNK):
        end = min(start + CHUNK - 1, high)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(STOCK_SQL, {"low": start, "high": end, "now": now})
            ids = [row[0] for row in cursor.fetchall()]
            result.stocks += len(ids)
            if ids:
                cursor.execute(
                    MOVEMENT_SQL,
                    {
                        "ids": ids,
                        "now": now,
                        "reason": MovementReason.RECEIVE.value,
                        "reference": REFERENCE,
                    },
                )
                result.movements += cursor.rowcount
        if progress:
            progress(end - low + 1, total)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_stock, inventory_stockmovement")
    return result


def demo_stock_delete(*, product_ids: list[int]) -> int:
    """Stock rows and their ledger for these products, for `seed_demo --force`. Rows that
    hold reservations or allocations stay protected (the caller reports the ProtectedError)."""
    stocks = Stock.objects.filter(variant__product_id__in=product_ids)
    StockMovement.objects.filter(stock__in=stocks).delete()
    deleted, _ = stocks.delete()
    return deleted
