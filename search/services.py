"""Search indexing and the one entry point every product list calls (`listing_run`).

Freshness model (see docs/search.md): the services that change what search shows (catalog's
product, variant, attribute, sale price and category writes; a seller's status; stock, for
OpenSearch; a product's rating) call `search_index_mark_dirty` themselves, which flags the
products `search_dirty` inside their transaction, and after commit a Celery task (through the
outbox) refreshes them in batches (vector, denormalised price, and the OpenSearch document
when configured). No signal does it: a write around the services is not seen. A beat task
sweeps dirty rows that a lost task left behind and refreshes products whose sale window just
opened or closed. Visibility never waits for any of this: queries check the product's status
and its seller's live, a product just published is refreshed in the publishing transaction
(`search_index_refresh_now`), and the stored `search_visible` (an active variant) follows its
variants in the writer's own transaction (`search_visible_recheck`)."""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    TextField,
    Value,
)
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Cast, Coalesce, Lower, NullIf
from django.utils import timezone

from catalog.models import (
    Product,
    ProductStatus,
    SearchSuggestion,
    VariantSalePrice,
)
from catalog.selectors import (
    category_names_with_ancestors,
    product_active_variant_values,
    product_active_variants,
    product_has_active_variant,
    product_id_batches,
    product_price_min_subquery,
    product_queryset_listed_compiled,
    product_visible_condition,
    values_joined,
)
from search import opensearch
from search.base import (
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    Suggestion,
    facet_value_key_expression,
)
from search.keys import KeyLexemes, VectorRekeyed
from search.postgres import PostgresSearchBackend
from shop.core.outbox import outbox_enqueue

logger = logging.getLogger("search")

REFRESH_BATCH = 2000
SEARCH_SOURCE_TABLES = (
    "catalog_product",
    "catalog_productvariant",
    "catalog_variantattributevalue",
    "catalog_variantsaleprice",
    "catalog_category",
)
Progress = Callable[[int, int], None]


# Weights follow the order: name (A); brand and SKUs (B); category names and attribute
# values (C); description (D). Related text is gathered by correlated subqueries over the
# catalog's active variants (`product_active_variants`, `product_active_variant_values`) so one
# UPDATE refreshes a whole batch. The texts keep the order the rows are read in (no ORDER BY,
# not even the models' default one): that order fixes the lexemes' positions in the vector.
def _active_skus() -> Func:
    return values_joined(product_active_variants().order_by().values("sku"))


def _attribute_value_text() -> Coalesce:
    """An attribute value as the vector indexes it: the choice's value, else the text, else
    the number without trailing zeros ("2.5000" as "2.5", "3.0000" as "3")."""
    number = Func(
        Func(Cast("value_number", TextField()), Value("0"), function="rtrim"),
        Value("."),
        function="rtrim",
    )
    return Coalesce(
        "choice__value", NullIf("value_text", Value("")), number, output_field=TextField()
    )


def _active_attribute_values() -> Func:
    values = product_active_variant_values().order_by()
    return values_joined(values.values_list(_attribute_value_text()))


# What search filters and facets read from the product row (see Product.search_visible and
# Product.search_facet_values): the row's part of being public (`product_visible_condition`;
# the seller's status is checked live by queries, so a seller edit needs no refresh of a
# million rows) and the keys of its active variants' choice and yes/no values
# (`facet_value_key_expression`, the same rule as `facet_value_key`), ascending.
def _facet_values() -> ArraySubquery:
    key = facet_value_key_expression(
        choice="choice_id", attribute="attribute_id", flag="value_boolean"
    )
    keyed = product_active_variant_values().filter(
        Q(choice__isnull=False) | Q(value_boolean__isnull=False)
    )
    return ArraySubquery(keyed.values_list(key).distinct().order_by(key))


def _denormalised_fields() -> dict[str, BaseExpression]:
    return {
        "search_visible": ExpressionWrapper(
            product_visible_condition(), output_field=BooleanField()
        ),
        "search_facet_values": _facet_values(),
    }


def _search_vector_expression(price):
    """The vector of a product row; `price` is the shopper price expression the same UPDATE
    stores in `search_price_min`, for the price band among the key lexemes (`search.keys`)."""
    return (
        SearchVector("name", weight="A", config="english")
        + SearchVector("brand", weight="B", config="english")
        + SearchVector(_active_skus(), weight="B", config="simple")
        + SearchVector(
            category_names_with_ancestors(category_ref="category_id"), weight="C", config="english"
        )
        + SearchVector(_active_attribute_values(), weight="C", config="english")
        + SearchVector("description", weight="D", config="english")
        + KeyLexemes(price, F("popularity_tier"))
    )


def search_index_refresh(*, product_ids: Iterable[int], at: datetime | None = None) -> int:
    """Recompute the search vector and the price a shopper pays (sale prices included, through
    the catalog's one price expression) for these products, clear their dirty flag, and push
    them to OpenSearch when it is configured. Idempotent; safe to retry. `at` is the moment
    prices are taken at (now unless a caller replays a sale boundary)."""
    ids = sorted(set(product_ids))
    # one moment for both uses of the price: band and column must agree at a sale boundary
    at = at or timezone.now()
    done = 0
    for start in range(0, len(ids), REFRESH_BATCH):
        batch = ids[start : start + REFRESH_BATCH]
        done += _rows_refresh(batch, at=at)
        search_suggestions_refresh(product_ids=batch)
        if opensearch.opensearch_configured():
            # after the UPDATE committed (autocommit): no row lock is held during the call
            try:
                opensearch.opensearch_documents_index(product_ids=batch)
            except SearchUnavailable as exc:
                Product.objects.filter(pk__in=batch).update(search_dirty=True)
                logger.warning("OpenSearch indexing failed, left %d dirty: %s", len(batch), exc)
    return done


def _rows_refresh(product_ids: list[int], *, at: datetime) -> int:
    """The PostgreSQL side of a refresh: the product rows' search columns and their lexemes."""
    with transaction.atomic():  # a vector is never visible before its lexemes
        done = Product.objects.filter(pk__in=product_ids).update(
            search_vector=_search_vector_expression(product_price_min_subquery(at=at)),
            search_price_min=product_price_min_subquery(at=at),
            search_dirty=False,
            **_denormalised_fields(),
        )
        _lexemes_add(product_ids)
    return done


def search_index_refresh_now(*, product_ids: Iterable[int]) -> None:
    """Make these products findable in the caller's transaction (a product just published, or
    a public one whose first variant became active): their PostgreSQL search columns, lexemes
    and autocomplete rows are written now, so the commit that shows them on category pages
    shows them in search too. They are also marked dirty, so the task after commit pushes them
    to OpenSearch (no network call here, under the writer's row locks) and a lost task is
    still swept. Inside `search_index_mark_dirty_batched` they are refreshed once, at its end,
    in batches."""
    ids = sorted(set(product_ids))
    batch = _dirty_batch.get()
    if batch is not None:
        batch.refresh_now.update(ids)
        batch.product_ids.update(ids)
        return
    _refresh_now(ids)
    search_index_mark_dirty(product_ids=ids)


def _refresh_now(ids: list[int]) -> None:
    at = timezone.now()
    for start in range(0, len(ids), REFRESH_BATCH):
        batch = ids[start : start + REFRESH_BATCH]
        _rows_refresh(batch, at=at)
        search_suggestions_refresh(product_ids=batch)


def search_index_mark_dirty(
    *, product_ids: Iterable[int] | None = None, condition: Q | None = None
) -> None:
    """Flag products as stale in the caller's transaction and schedule their refresh after
    commit. Either `product_ids` or a `condition` (Q over Product) selects them. Inside
    `search_index_mark_dirty_batched` they are collected and flagged once, at its end."""
    batch = _dirty_batch.get()
    if batch is not None:
        if condition is None:
            batch.product_ids.update(product_ids or [])
        else:
            batch.conditions.add(condition)
        return
    if condition is None:
        ids = list(product_ids or [])
        if not ids:
            return
        Product.objects.filter(pk__in=ids).update(search_dirty=True)
        _refresh_enqueue(ids)
        return
    ids = list(
        Product.objects.filter(condition)
        .values_list("pk", flat=True)
        .distinct()[: REFRESH_BATCH + 1]
    )
    if not ids:
        return
    Product.objects.filter(pk__in=Product.objects.filter(condition).values("pk")).update(
        search_dirty=True
    )
    if len(ids) > REFRESH_BATCH:
        # a big change (a renamed root category): the beat sweep refreshes it in batches
        outbox_enqueue(task="search.tasks.search_index_refresh_dirty_task")
    else:
        _refresh_enqueue(ids)


def search_visible_recheck(*, product_id: int) -> None:
    """A variant of the product was added, changed, deactivated or deleted: keep the stored
    `search_visible` in step in the writer's own transaction, so the lists that trust the flag
    (search, category pages, the product API) follow at commit rather than after the refresh
    task. Without an active variant left the flag is cleared; a public product whose flag is
    still down although it has an active variant now is refreshed at once
    (`search_index_refresh_now`: setting the flag takes the whole row). Inside
    `search_index_mark_dirty_batched` the products are rechecked together at its end."""
    batch = _dirty_batch.get()
    if batch is not None:
        batch.recheck.add(product_id)
        return
    gained = _visible_recheck([product_id])
    if gained:
        search_index_refresh_now(product_ids=gained)


def _visible_recheck(product_ids: list[int]) -> set[int]:
    """Clear the flag of these products without an active variant; return the public ones
    whose flag is down although they have one."""
    has_active = product_has_active_variant()
    Product.objects.filter(pk__in=product_ids, search_visible=True).exclude(has_active).update(
        search_visible=False
    )
    return set(
        Product.objects.filter(
            pk__in=product_ids, search_visible=False, status=ProductStatus.ACTIVE
        )
        .filter(has_active)
        .values_list("pk", flat=True)
    )


def search_documents_mark_dirty(*, condition: Q, after_commit: bool = False) -> None:
    """For a change that only OpenSearch documents store (a seller's status or slug, stock):
    the PostgreSQL engine reads those live, so without OpenSearch nothing is flagged.
    `after_commit` flags them once the writer has committed, for writers holding stock row
    locks, which must never also wait on product rows (inside a batched block the batch
    flags them with the rest, at its end)."""
    if not opensearch.opensearch_configured():
        return
    if after_commit and _dirty_batch.get() is None:
        transaction.on_commit(lambda: search_index_mark_dirty(condition=condition))
        return
    search_index_mark_dirty(condition=condition)


@dataclass
class _DirtyBatch:
    product_ids: set[int] = field(default_factory=set)
    conditions: set[Q] = field(default_factory=set)
    refresh_now: set[int] = field(default_factory=set)
    recheck: set[int] = field(default_factory=set)


_dirty_batch: ContextVar[_DirtyBatch | None] = ContextVar("search_dirty_batch", default=None)


@contextmanager
def search_index_mark_dirty_batched(*, refresh: bool = True) -> Iterator[None]:
    """For bulk writers (the CSV import): products the services mark dirty inside the block
    are flagged at its end with one UPDATE and one refresh task after commit per
    REFRESH_BATCH products instead of one of each per save; their visibility rechecks
    (`search_visible_recheck`) run together there, and the products to be findable at once
    (published, or a first variant activated) are refreshed there in batches, still in the
    writer's transaction. Marks made by condition (a category's subtree) are OR-ed into one:
    more than REFRESH_BATCH then leaves them to the dirty sweep task, as
    `search_index_mark_dirty` does. Call it inside the writer's transaction; if the block
    raises, nothing is flagged (the transaction rolls back). A nested block joins the outer
    one. `refresh=False` only flags them: for a writer that rebuilds the whole index next
    (seed_demo), where a queued refresh would redo work just done (the dirty sweep still
    catches them if the rebuild never comes)."""
    if _dirty_batch.get() is not None:
        yield
        return
    batch = _DirtyBatch()
    token = _dirty_batch.set(batch)
    try:
        yield
    finally:
        _dirty_batch.reset(token)
    ids = sorted(batch.product_ids)
    if not refresh:
        condition = reduce(operator.or_, batch.conditions, Q(pk__in=ids))
        Product.objects.filter(pk__in=Product.objects.filter(condition).values("pk")).update(
            search_dirty=True
        )
        return
    gained = _visible_recheck(sorted(batch.recheck)) if batch.recheck else set()
    _refresh_now(sorted(batch.refresh_now | gained))
    ids = sorted(batch.product_ids | gained)
    if batch.conditions:
        search_index_mark_dirty(condition=reduce(operator.or_, batch.conditions, Q(pk__in=ids)))
        return
    for start in range(0, len(ids), REFRESH_BATCH):
        search_index_mark_dirty(product_ids=ids[start : start + REFRESH_BATCH])


def _refresh_enqueue(ids: list[int]) -> None:
    outbox_enqueue(task="search.tasks.search_index_refresh_task", kwargs={"product_ids": ids})


def search_index_refresh_dirty(*, limit: int = 50_000) -> int:
    """Refresh products still flagged dirty (lost tasks, large changes), oldest ids first."""
    done = 0
    while done < limit:
        ids = list(
            Product.objects.filter(search_dirty=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:REFRESH_BATCH]
        )
        if not ids:
            break
        refreshed = search_index_refresh(product_ids=ids)
        done += refreshed
        if (
            opensearch.opensearch_configured()
            and Product.objects.filter(pk__in=ids, search_dirty=True).exists()
        ):
            break  # OpenSearch is down: stop instead of spinning on the same rows
    return done


def search_prices_refresh_due(*, now: datetime | None = None, window: timedelta) -> int:
    """Products whose sale window started or ended within `window` before `now`: their
    denormalised price changed without any write. Beat runs this more often than `window`."""
    now = now or timezone.now()
    since = now - window
    ids = (
        VariantSalePrice.objects.filter(
            Q(starts_at__gt=since, starts_at__lte=now) | Q(ends_at__gt=since, ends_at__lte=now)
        )
        .values_list("variant__product_id", flat=True)
        .distinct()
    )
    return search_index_refresh(product_ids=list(ids), at=now)


def _in_id_batches(
    fields: Callable[[], dict],
    *,
    progress: Progress | None,
    batch_size: int,
    after: Callable[[list[int]], None] | None = None,
) -> int:
    """One set-based UPDATE of `fields()` per range of `batch_size` primary keys, each
    committed with what `after(ids)` writes for the batch."""
    with connection.cursor() as cursor:
        # a rebuild usually follows a bulk load: without fresh statistics the planner picks
        # sequential scans for the per-product subqueries and a batch takes minutes
        cursor.execute(f"ANALYZE {', '.join(SEARCH_SOURCE_TABLES)}")
    total = Product.objects.count()
    done = 0
    for ids in product_id_batches(batch_size=batch_size):
        with transaction.atomic():
            done += Product.objects.filter(pk__in=ids).update(**fields())
            if after is not None:
                after(ids)
        if progress is not None:
            progress(done, total)
    return done


def search_denormalised_rebuild(
    *, progress: Progress | None = None, batch_size: int = 20_000
) -> int:
    """Recompute only visibility and facet values of every product (after a migration adds
    them, or to repair them) and the autocomplete table; cheaper than a full rebuild."""
    done = _in_id_batches(_denormalised_fields, progress=progress, batch_size=batch_size)
    search_suggestions_rebuild()
    return done


def search_index_rebuild(*, progress: Progress | None = None, batch_size: int = 5000) -> int:
    """Refresh every product, in primary-key batches, reporting `progress(done, total)`. With
    OpenSearch configured this builds a new index and swaps the alias (see
    `opensearch.opensearch_reindex`)."""

    def fields() -> dict:
        at = timezone.now()  # one moment for the band and the column (see the refresh)
        return {
            "search_vector": _search_vector_expression(product_price_min_subquery(at=at)),
            "search_price_min": product_price_min_subquery(at=at),
            "search_dirty": False,
            **_denormalised_fields(),
        }

    done = _in_id_batches(
        fields,
        progress=progress,
        batch_size=batch_size,
        after=_lexemes_add,
    )
    # The autocomplete rebuild joins the visible products with their names. Statistics taken
    # before this rebuild (a bulk load's ANALYZE) say no product is visible and one seller
    # is approved: the join then plans a nested loop of a trigram index probe per product,
    # which did not finish in 10 minutes at 20,000 products.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product, sellers_seller")
    search_suggestions_rebuild()
    if opensearch.opensearch_configured():
        opensearch.opensearch_reindex(progress=progress)
    return done


# --- lexemes (prefix expansion) ---------------------------------------------------------------

# Sorted, so that writers adding the same new lexemes at once take their keys in one order.
_LEXEMES_ADD_SQL = """
    INSERT INTO catalog_searchlexeme (lexeme)
    SELECT DISTINCT unnest(tsvector_to_array(search_vector)) FROM catalog_product
    WHERE id = ANY(%s) ORDER BY 1
    ON CONFLICT DO NOTHING
"""


def _lexemes_add(product_ids: list[int]) -> None:
    """Record the lexemes of these products' vectors (`SearchLexeme`), in the transaction
    that wrote the vectors: the engine's prefix expansion must never miss one."""
    with connection.cursor() as cursor:
        cursor.execute(_LEXEMES_ADD_SQL, [product_ids])


def search_key_lexemes_backfill(
    *, progress: Progress | None = None, batch_size: int = 20_000
) -> int:
    """Replace the key lexemes (`search.keys`: popularity levels and price band) of every
    stored vector by the ones its row's stored `search_price_min` and `popularity_tier` give,
    in committed primary-key batches: what migrations 0010 and 0012 run and `search_reindex
    --keys` repeats (a full `search_reindex` recomputes them with everything else)."""

    def fields() -> dict:
        return {
            "search_vector": VectorRekeyed(
                F("search_vector"), F("search_price_min"), F("popularity_tier")
            )
        }

    return _in_id_batches(fields, progress=progress, batch_size=batch_size, after=_lexemes_add)


def search_lexemes_rebuild() -> int:
    """Add every lexeme of every stored vector (5 s at 1M products): what migration 0009
    runs, and `search_reindex --lexemes` repeats after vectors were written by code that did
    not record them. Nothing is removed: a lexeme no product carries any more only costs
    the expansion an index probe. Returns how many were added."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_searchlexeme (lexeme) "
            "SELECT word FROM ts_stat('SELECT search_vector FROM catalog_product') ORDER BY 1 "
            "ON CONFLICT DO NOTHING"
        )
        return cursor.rowcount


# --- autocomplete table ----------------------------------------------------------------------

# One row per (word, lower-cased name) over the public products (`public`: the ORM's
# `product_queryset_listed_compiled` over refreshed rows, compiled per call); the name's most
# rated product gives the link. Words are split like `search_terms` (letters and digits,
# lower-cased).
_SUGGESTIONS_SQL = """
    INSERT INTO catalog_searchsuggestion (word, phrase, label, slug, weight)
    SELECT w.word, n.phrase, n.name, n.slug, n.weight
    FROM (
        SELECT p.phrase,
               (array_agg(p.name ORDER BY p.rating_count DESC, p.id))[1] AS name,
               (array_agg(p.slug ORDER BY p.rating_count DESC, p.id))[1] AS slug,
               count(*) AS weight
        FROM ({public}) p
        GROUP BY p.phrase
    ) n
    CROSS JOIN LATERAL (
        SELECT DISTINCT left(word, 100) AS word
        FROM regexp_split_to_table(n.phrase, '[^[:alnum:]]+') AS word WHERE word <> ''
    ) w
    ON CONFLICT (word, phrase) DO UPDATE
    SET label = EXCLUDED.label, slug = EXCLUDED.slug, weight = EXCLUDED.weight
"""


def _suggestions_insert(*, phrases: list[str] | None) -> None:
    """Insert the autocomplete rows of these lower-cased names (None: of every public name)."""
    public = product_queryset_listed_compiled(refreshed=True).annotate(phrase=Lower("name"))
    if phrases is not None:
        public = public.filter(phrase__in=phrases)
    rows = public.order_by().values("phrase", "name", "slug", "rating_count", "id")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_SUGGESTIONS_SQL.format(public=sql), params)


def search_suggestions_refresh(*, product_ids: Iterable[int]) -> None:
    """Recompute the autocomplete rows of these products' names (a name that no public
    product carries any more disappears)."""
    products = Product.objects.filter(pk__in=list(product_ids))
    # the names they carry now, and the names whose rows link to them (a rename's old name)
    phrases = sorted(
        {name.lower() for name in products.values_list("name", flat=True)}
        | set(
            SearchSuggestion.objects.filter(slug__in=products.values("slug")).values_list(
                "phrase", flat=True
            )
        )
    )
    if not phrases:
        return
    with transaction.atomic():  # readers never see these names missing
        SearchSuggestion.objects.filter(phrase__in=phrases).delete()
        _suggestions_insert(phrases=phrases)


def search_suggestions_rebuild() -> None:
    """The whole autocomplete table from the public catalog, in one statement."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM catalog_searchsuggestion")
        _suggestions_insert(phrases=None)


# --- querying -----------------------------------------------------------------------------------


def listing_run(*, query: SearchQuery) -> SearchResult:
    """The one read path of product lists (category and seller pages, the product API, search):
    answered by OpenSearch when configured and reachable, else PostgreSQL (the fallback is
    logged and shown on /readyz)."""
    if opensearch.opensearch_configured():
        try:
            return opensearch.OpenSearchBackend().search(query=query)
        except SearchUnavailable as exc:
            logger.warning("OpenSearch unavailable, answering from PostgreSQL: %s", exc)
    return PostgresSearchBackend().search(query=query)


def search_suggest(*, prefix: str, limit: int = 8) -> list[Suggestion]:
    if opensearch.opensearch_configured():
        try:
            return opensearch.OpenSearchBackend().suggest(prefix=prefix, limit=limit)
        except SearchUnavailable as exc:
            logger.warning("OpenSearch unavailable for suggestions, using PostgreSQL: %s", exc)
    return PostgresSearchBackend().suggest(prefix=prefix, limit=limit)


def search_engine_name() -> str:
    return "opensearch" if settings.OPENSEARCH_URL else "postgres"
