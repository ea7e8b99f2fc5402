"""Key lexemes: the non-word lexemes every stored search vector carries, produced here and
nowhere else.

Besides its words a vector carries:
- `~c<j>` for every popularity level j from the product's `popularity_tier` to
  POPULARITY_LEVELS - 1: level j is the top 2 ** j / 2 ** POPULARITY_LEVELS of the catalogue by
  popularity (`search.popularity`), so `'word' & '~c5'` is "the matches among the most popular
  1/32", answered inside the text index's scan. The keys are cumulative (a product of level 3
  also carries ~c4 ... ~c9) so any level is one lexeme; the bottom half carries none.
- `~p<n>`, its price band: PRICE_BANDS_PER_DOUBLING bands per doubling of `search_price_min`,
  the last from 2 ** PRICE_BAND_LAST up (price-sorted text pages, `postgres._price_sorted_ids`).

A shopper's words never make them: `search_terms` keeps letters and digits. A vector without
its keys is missing from price-sorted pages and popularity pools, so every writer of
`Product.search_vector` builds it with `KeyLexemes` (a new vector) or `VectorRekeyed` (an
existing one), and tests/search/test_keys.py fails when a writer does neither. Changing these
constants needs a migration that rekeys every vector (`search_reindex --keys`).
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.contrib.postgres.search import SearchVectorCombinable, SearchVectorField
from django.db.models import Func

POPULARITY_LEVELS = 10
PRICE_BANDS_PER_DOUBLING = 1
PRICE_BAND_LAST = 20
# the id shards (id mod 16) vectors carried before popularity levels replaced them: stripped
# by the rekeying like every other key lexeme
_LEGACY_SHARDS = 16

ALL_KEY_LEXEMES: tuple[str, ...] = (
    *(f"~c{j}" for j in range(POPULARITY_LEVELS)),
    *(f"~p{n}" for n in range(PRICE_BAND_LAST + 1)),
    *(f"~s{n}" for n in range(_LEGACY_SHARDS)),
)


def key_lexemes_sql(*, price: str, tier: str) -> str:
    """The key lexemes of a row as a tsvector expression, from SQL expressions of its shopper
    price (what the writer stores in `search_price_min`) and its popularity tier (what it
    stores in `popularity_tier`). An unpriced product has no band."""
    # (the expressions come from the ORM compiler, the rest is constant)
    return (
        "(SELECT array_to_tsvector(array_remove(ARRAY["  # noqa: S608
        "CASE WHEN k.price IS NOT NULL THEN '~p' || "
        f"least(floor({PRICE_BANDS_PER_DOUBLING} * log(2, greatest(k.price, 1)))::int, "
        f"{PRICE_BAND_LAST})::text END] || ARRAY("
        f"SELECT '~c' || j FROM generate_series(k.tier, {POPULARITY_LEVELS - 1}) j), NULL)) "
        f"FROM (SELECT {price} AS price, ({tier})::int AS tier) k)"
    )


def vector_rekeyed_sql(vector: str, *, price: str, tier: str) -> str:
    """`vector` with its key lexemes (any, old shards included) replaced by the row's."""
    stripped = "ARRAY[" + ", ".join(f"'{lexeme}'" for lexeme in ALL_KEY_LEXEMES) + "]"
    return f"(ts_delete({vector}, {stripped}::text[]) || {key_lexemes_sql(price=price, tier=tier)})"


class KeyLexemes(SearchVectorCombinable, Func):
    """`key_lexemes_sql` as an ORM expression, from a price and a tier expression, to add to
    a new vector (`search.services`)."""

    output_field = SearchVectorField()
    config = None

    def __init__(self, price, tier) -> None:
        super().__init__(price, tier)

    def as_sql(self, compiler, connection, *args, **extra_context):  # type: ignore[override]
        (price, price_params), (tier, tier_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        return key_lexemes_sql(price=price, tier=tier), [*price_params, *tier_params]


class VectorRekeyed(Func):
    """`vector_rekeyed_sql` as an ORM expression (vector, price, tier)."""

    output_field = SearchVectorField()

    def __init__(self, vector, price, tier) -> None:
        super().__init__(vector, price, tier)

    def as_sql(self, compiler, connection, *args, **extra_context):  # type: ignore[override]
        compiled = [compiler.compile(e) for e in self.get_source_expressions()]
        (vector, _), (price, _), (tier, _) = compiled
        params = [p for _, ps in compiled for p in ps]
        return vector_rekeyed_sql(vector, price=price, tier=tier), params


def price_band(price: Decimal) -> int:
    """The band `key_lexemes_sql` gives this price (the same for every cent: tested)."""
    scaled = PRICE_BANDS_PER_DOUBLING * math.log2(max(float(price), 1.0))
    return min(PRICE_BAND_LAST, math.floor(scaled))


def keys_any(prefix: str, numbers: range) -> str:
    """Key lexemes OR-ed, in tsquery syntax."""
    return "(" + " | ".join(f"'~{prefix}{n}'" for n in numbers) + ")"


def popularity_key(level: int) -> str | None:
    """The tsquery of 'among the top 2 ** level / 2 ** POPULARITY_LEVELS by popularity'; None
    for the last level (everything: no key)."""
    return f"'~c{level}'" if level < POPULARITY_LEVELS else None


def popularity_level_for(*, share: float, nearest: bool = False) -> int:
    """The smallest level expected to hold `share` of the catalogue (1.0: the last), or with
    `nearest` the level whose expected share is nearest `share` (on the levels' doubling
    scale: from 0.71 to 1.41 times it)."""
    if share >= 1.0:
        return POPULARITY_LEVELS
    exponent = math.log2(share * 2**POPULARITY_LEVELS)
    level = round(exponent) if nearest else math.ceil(exponent)
    return max(0, min(POPULARITY_LEVELS, level))
