"""Product popularity: one score per product, what broad searches take their candidates by,
what relevance is blended with, and what the "Best selling" sort orders by (docs/search.md).

    popularity = SALES_WEIGHT * ln(1 + units sold in the last SALES_DAYS days)
               + RATING_WEIGHT * bayesian_rating / 5
               + RECENCY_WEIGHT * 2 ** (-days since published / RECENCY_HALF_LIFE_DAYS)

    bayesian_rating = (RATING_PRIOR_WEIGHT * C + rating_count * rating_avg)
                      / (RATING_PRIOR_WEIGHT + rating_count)

C is the catalogue's mean rating over all reviews (sum of avg * count / sum of count). Units
sold count the order lines of orders that count as a sale (`orders.selectors.SOLD_STATUSES`:
paid, not cancelled or wholly refunded), by the order's `placed_at`. A never-published product
has no recency. The shop records no product views, so there is no conversion signal to use.
The score is rounded to SCORE_DECIMALS so a refresh rewrites only the rows whose score moved
by that much (recency decays a little every hour).

Each product also gets its popularity tier (`search.keys`): the smallest level j whose top
2 ** j / 2 ** POPULARITY_LEVELS of all products, by (popularity DESC, id DESC), holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.selectors import SOLD_STATUSES
from search.keys import POPULARITY_LEVELS, vector_rekeyed_sql
from search.opensearch import opensearch_configured

SALES_DAYS = 30
SALES_WEIGHT = 1.0
RATING_WEIGHT = 1.0
RATING_PRIOR_WEIGHT = 10
RECENCY_WEIGHT = 0.5
RECENCY_HALF_LIFE_DAYS = 30
SCORE_DECIMALS = 2
REFRESH_BATCH = 20_000

# Every product's new score and tier, into a temporary table: the tier is a rank over the
# whole catalogue, so it is computed once and the rows are then written in committed batches.
_SCORES_SQL = f"""
CREATE TEMPORARY TABLE search_popularity_new ON COMMIT DROP AS
WITH sales AS (
    SELECT v.product_id, sum(l.quantity) AS units
    FROM orders_orderline l
    JOIN orders_order o ON o.id = l.order_id
    JOIN catalog_productvariant v ON v.id = l.variant_id
    WHERE o.placed_at > %(since)s AND o.status = ANY(%(sold)s)
    GROUP BY v.product_id
), prior AS (
    SELECT coalesce(sum(rating_avg * rating_count) / nullif(sum(rating_count), 0), 0) AS mean
    FROM catalog_product WHERE rating_count > 0
), scored AS (
    SELECT p.id, round((
        %(sales_weight)s * ln(1 + coalesce(s.units, 0))
        + %(rating_weight)s
          * (%(prior_weight)s * prior.mean + p.rating_count * p.rating_avg)
          / (%(prior_weight)s + p.rating_count) / 5
        + %(recency_weight)s * CASE WHEN p.published_at IS NULL THEN 0
              ELSE power(2::numeric, -least(greatest(
                  extract(epoch FROM %(now)s - p.published_at) / 86400, 0), 100000)
                  / %(half_life)s) END
    )::numeric, {SCORE_DECIMALS})::float8 AS score
    FROM catalog_product p CROSS JOIN prior LEFT JOIN sales s ON s.product_id = p.id
)
SELECT id, score, least({POPULARITY_LEVELS}, greatest(0, ceil(log(2,
    (row_number() OVER (ORDER BY score DESC, id DESC))::numeric * {2**POPULARITY_LEVELS}
    / count(*) OVER ()))))::smallint AS tier
FROM scored
"""  # noqa: S608 - constant SQL, values are parameters

# The vector is rekeyed only when the tier moved. With OpenSearch the row is flagged dirty,
# so the dirty sweep reindexes its document (which carries the score).
_WRITE_SQL = f"""
UPDATE catalog_product p
SET popularity = n.score, popularity_tier = n.tier, search_dirty = p.search_dirty OR %s,
    search_vector = CASE WHEN p.popularity_tier <> n.tier AND p.search_vector IS NOT NULL
        THEN {vector_rekeyed_sql("p.search_vector", price="p.search_price_min", tier="n.tier")}
        ELSE p.search_vector END
FROM search_popularity_new n
WHERE p.id = n.id AND n.id > %s AND n.id <= %s
  AND (p.popularity <> n.score OR p.popularity_tier <> n.tier)
"""  # noqa: S608 - constant SQL, values are parameters


def product_popularity_refresh(
    *,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = REFRESH_BATCH,
) -> int:
    """Recompute every product's popularity and tier (the module's formula), writing only the
    rows that changed, in committed primary-key batches. Returns how many rows were written.
    Idempotent: a second run at the same moment writes none."""
    now = now or timezone.now()
    params: dict[str, Any] = {
        "since": now - timedelta(days=SALES_DAYS),
        "sold": [str(s) for s in SOLD_STATUSES],
        "sales_weight": SALES_WEIGHT,
        "rating_weight": RATING_WEIGHT,
        "prior_weight": RATING_PRIOR_WEIGHT,
        "recency_weight": RECENCY_WEIGHT,
        "half_life": RECENCY_HALF_LIFE_DAYS,
        "now": now,
    }
    reindex = opensearch_configured()
    written = 0
    # One transaction (the temporary table lives until its commit). Once the scores settle a
    # run writes the few rows whose rounded score or tier moved; the batches report progress
    # on the first run, which writes every row.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SCORES_SQL, params)
        cursor.execute("SELECT coalesce(max(id), 0) FROM search_popularity_new")
        (last_id,) = cursor.fetchone()
        cursor.execute("CREATE INDEX ON search_popularity_new (id)")
        start = 0
        while start < last_id:
            cursor.execute(_WRITE_SQL, [reindex, start, start + batch_size])
            written += cursor.rowcount
            start += batch_size
            if progress is not None:
                progress(min(start, last_id), last_id)
        cursor.execute("DROP TABLE search_popularity_new")
    return written
