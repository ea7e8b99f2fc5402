"""PostgreSQL full-text search: the default engine.

Matching uses the stored, weighted `Product.search_vector` (GIN index); visibility is the live
status and approved-seller check plus the stored `search_visible` (an active variant), which
the variant's writer clears in its own transaction when the last active variant goes, so an
archived product, a suspended seller's product or a product with no active variant disappears
from results at once, whatever the vector says. Price filters and facets use the
denormalised `search_price_min` (see `services.search_index_refresh`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.contrib.postgres.search import SearchQuery as TsQuery
from django.contrib.postgres.search import SearchRank
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    Window,
)

from catalog.models import (
    Attribute,
    AttributeChoice,
    AttributeType,
    Category,
    Product,
    SearchSuggestion,
)

# the attribute condition is shared with category pages so both filter attributes alike
from catalog.selectors import (
    AttributeFilter,
    _attribute_condition,
    category_path_in_subtree,
    facet_values_condition,
    product_listed_condition,
    product_queryset_public,
    seller_queryset_public,
)
from search.base import (
    CENT,
    PRICE_BUCKETS,
    SORT_KEYS,
    AttributeFacet,
    Facets,
    FacetValue,
    ProductSort,
    SearchQuery,
    SearchResult,
    Suggestion,
    facet_value_key,
    price_facet,
    search_terms,
    sort_order_by,
    sort_rows,
    sort_sql,
)
from search.keys import (
    POPULARITY_LEVELS,
    PRICE_BAND_LAST,
    keys_any,
    popularity_key,
    popularity_level_for,
    price_band,
)
from search.sqlcompile import match_scan, tablesample
from sellers.models import Seller
from shop.core import db
from shop.core.replicas import ReadConnection

# The hand-written SQL below reads where the router sends product reads (a replica for a
# shopper who has not written lately: shop/core/replicas.py), as the ORM's reads do.
connection = ReadConnection(Product)
logger = logging.getLogger("search")

SELLER_FACET_LIMIT = 20
# Facets and totals are exact up to EXACT_LIMIT matches; beyond, they are estimated from a
# random page sample holding about SAMPLE_ROWS products (see `_facets_and_total`). Relevance
# over more matches ranks a popularity pool of about RANK_LIMIT (ts_rank_cd reads every
# vector it ranks).
EXACT_LIMIT = 2_000
SAMPLE_ROWS = 7_000  # what 600 pages of the packed 1M-product table hold
# a sampled total below BROAD_FACTOR * EXACT_LIMIT is checked by a bounded count
BROAD_FACTOR = 4
# A list without words whose filters pass at most SPARSE_SHARE of its rows is fetched whole,
# counted and sorted (`_counted_sorted_ids`) up to COUNTED_LIMIT matches: its merged walk
# reads about 1 / share rows per row of the page in every category, and the whole of each
# category where none pass (docs/search.md, "Filtered category pages").
SPARSE_SHARE = 0.25
COUNTED_LIMIT = 32_000
# a sampled base set estimated above OVERFLOW_FACTOR * EXACT_LIMIT skips the exact attempt:
# it would overflow (a base set of EXACT_LIMIT in a million products puts 14 rows in the
# sample; an estimate of twice that needs 28 or more, 1 time in 1,600)
OVERFLOW_FACTOR = 2
RANK_LIMIT = 2_000
# a price-sorted text search first fetches the matches below the nearest price bucket edge
# the facet counts say holds this many pages' worth of them (see `_price_sorted_ids`)
PRICE_BOUND_FACTOR = 3
# how many of the lowest (highest) sampled prices the facet statement returns for that
SAMPLED_PRICES = 8
DID_YOU_MEAN_MIN_SIMILARITY = 0.3
# The word being typed is a prefix ('word':*), which GIN answers as a partial match: it
# collects the rows of every key starting with it into a bitmap first, 3-4x the time of
# the same rows as exact lexemes ('game':* 38-48 ms, 'game' 10-16 ms for 118,895 matches
# at 1M). So it is expanded into the lexemes starting with it (`SearchLexeme`, which holds
# every lexeme of every vector) when there are at most this many; past that, or for a word
# that is not one plain lexeme, the prefix stays.
PREFIX_EXPANSION_LIMIT = 32
# the stem to_tsquery makes of the prefix, and the lexemes starting with it (a range of the
# C-collated primary key)
_PREFIX_LEXEMES_SQL = r"""
    WITH s AS (
        SELECT substring(to_tsquery('english', %s)::text FROM '^''([^''\\]+)'':\*$') AS stem
    )
    SELECT s.stem, ARRAY(
        SELECT l.lexeme FROM catalog_searchlexeme l
        WHERE l.lexeme >= s.stem AND l.lexeme < s.stem || chr(1114111)
          AND starts_with(l.lexeme, s.stem)
        ORDER BY l.lexeme LIMIT %s
    ) FROM s
"""


# Relevance over more than EXACT_LIMIT matches ranks a candidate pool: the matches among the
# most popular products, from the smallest popularity level (`search.keys`) expected to hold
# RANK_LIMIT of them, so ranking reads ~RANK_LIMIT vectors however broad the word. Pages past
# the pool continue level by level (`_popularity_walk_ids`): every match is reachable.
# Relevance itself is ts_rank_cd blended with popularity (`blended_rank`).


@dataclass(frozen=True)
class _PriceHint:
    """What the sampled facet statement says about the prices of the matches, for a
    price-sorted page (`_price_bounds`)."""

    buckets: dict[int | None, int]  # estimated matches per PRICE_BUCKETS index
    cheapest: list[Decimal]  # the lowest sampled prices passing every filter, ascending
    dearest: list[Decimal]  # the highest, descending
    share: float  # the sample's share of the table: one sampled row stands for 1 / share


@dataclass(frozen=True)
class _Match:
    """A bounded count's row: its id and the values its page sorts by (the fields of
    `SORT_KEYS[sort]`; `rank` is the blended rank, when the page is sorted by relevance)."""

    id: int
    keys: dict[str, Any]


@dataclass(frozen=True)
class _Counted:
    facets: Facets
    total: int
    estimated: bool
    price_hint: _PriceHint | None
    matches: list[_Match] | None  # the bounded count's rows, when it ran
    page_ids: list[int] | None = None  # the page, when the exact facet statement ordered it


# the sorts the facet statement orders an exact text search's page by (`SORT_KEYS`' SQL)
_TOP_SORTS = (ProductSort.RELEVANCE, ProductSort.PRICE_ASC, ProductSort.PRICE_DESC)
# the sorts a text search's page walks popularity levels for (`_popularity_walk_ids`)
_WALKED_SORTS = (ProductSort.RELEVANCE, ProductSort.POPULAR)


# the sorts a page is ordered by in Python from the bounded count's rows (`sort_rows`); a name
# sort is left to PostgreSQL, whose collation orders text as Python's str comparison does not
_ROW_SORTS = tuple(sort for sort in ProductSort if sort != ProductSort.NAME)


def _matches_ordered(query: SearchQuery, matches: list[_Match]) -> list[int] | None:
    """The result order from the bounded count's rows, when they are every match (at most
    EXACT_LIMIT): sorted by the page's keys (relevance ranks them all). A filtered list
    without words (a category page's narrow price range) is ordered so rather than walked:
    a walk per category reads on until a page of its rows passes the filters, the whole
    category when none does. None: the page needs its own statement (over more matches
    relevance ranks a popularity pool, `_page_ids`)."""
    if len(matches) > EXACT_LIMIT or query.sort not in _ROW_SORTS:
        return None
    if query.sort == ProductSort.RELEVANCE and not query.terms:
        return None
    return [
        m.id for m in sort_rows(matches, query.sort, lambda m, f: m.id if f == "id" else m.keys[f])
    ]


def _facet_kinds(query: SearchQuery) -> frozenset[str]:
    """The facets a query's facet statement counts: none for the product API (`facets`
    False), no sellers on a seller's own page."""
    if not query.facets:
        return frozenset()
    return frozenset({"category", "value"} | (set() if query.seller_fixed else {"seller"}))


def _base_narrowing(query: SearchQuery) -> frozenset[str]:
    """The filters a list without words holds in its base set rather than as flags of the
    facet statement's rows (see `PostgresSearchBackend._base`): its category, and a seller
    page's own seller. None for a text search."""
    if query.terms:
        return frozenset()
    narrowing = set()
    if query.filters.category is not None:
        narrowing.add("category")
    if query.filters.sellers and query.seller_fixed:
        narrowing.add("seller")
    return frozenset(narrowing)


def trigram_available() -> bool:
    """Whether pg_trgm is installed in this database: without it search still works, only
    typo tolerance ("did you mean") is off. Read with each search's lookups (`_Lookups`), so
    no process keeps an answer a migration could change."""
    return _lookups_load().trigram


def blended_rank(text: TsQuery) -> ExpressionWrapper:
    """Relevance: ts_rank_cd (cover density over the weighted vector) times ln(2 + popularity),
    the same blend as OpenSearch's function_score (field_value_factor, modifier ln2p,
    boost_mode multiply): a product nobody bought keeps its text rank times ln 2, a popular
    one climbs by the logarithm of its score."""
    return ExpressionWrapper(
        SearchRank(F("search_vector"), text, cover_density=True)
        * Func(Value(2.0) + F("popularity"), function="ln"),
        output_field=FloatField(),
    )


def tsquery_text(terms: list[str], *, prefix_last: bool) -> str:
    """A to_tsquery() string from already-sanitised words (letters and digits only), each
    quoted, AND-ed, the last one a prefix while the shopper is still typing."""
    parts = [f"'{t}'" for t in terms]
    if prefix_last and parts:
        parts[-1] += ":*"
    return " & ".join(parts)


def _tsquery(terms: list[str], *, prefix_last: bool = True) -> TsQuery:
    return TsQuery(
        tsquery_text(terms, prefix_last=prefix_last), search_type="raw", config="english"
    )


class _TsQueryLiteral(TsQuery):
    """A tsquery written in its own syntax and cast as it is: lexemes read from the vectors
    must not be normalised again (stemming a stem, or parsing 'a-b' into three lexemes,
    would change what they match)."""

    template = "%(expressions)s::tsquery"


def _tsquery_lexeme(lexeme: str) -> str:
    """One lexeme quoted for tsquery input (a quote doubled, a backslash escaped)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _prefix_lexemes(word: str) -> list[str] | None:
    """The lexemes that `word` as a prefix matches, or None when the prefix should stay (more
    than PREFIX_EXPANSION_LIMIT, none, or a word to_tsquery does not turn into one lexeme: a
    stop word, or a run it splits)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PREFIX_LEXEMES_SQL,
            [tsquery_text([word], prefix_last=True), PREFIX_EXPANSION_LIMIT + 1],
        )
        stem, lexemes = cursor.fetchone()
    if stem is None or not lexemes or len(lexemes) > PREFIX_EXPANSION_LIMIT:
        return None
    return lexemes


def text_tsquery(terms: list[str]) -> TsQuery:
    """The tsquery of a search's words: AND-ed, the last a prefix, which is expanded into
    the exact lexemes it matches when they are few (see PREFIX_EXPANSION_LIMIT): the same
    rows, found 3-4x faster."""
    *words, last = terms
    lexemes = _prefix_lexemes(last)
    if lexemes is None:
        return _tsquery(terms)
    alternatives = _TsQueryLiteral(
        "(" + " | ".join(_tsquery_lexeme(lexeme) for lexeme in lexemes) + ")",
        search_type="raw",
    )
    if not words:
        return alternatives
    # (an empty left side, all stop words, leaves the alternatives, as to_tsquery drops them)
    return _tsquery(words, prefix_last=False) & alternatives


def _sample_share() -> float:
    """The share of the product table that holds about SAMPLE_ROWS rows (planner statistics:
    no scan). Counted in rows, not pages, so the estimates are as good in a table with much
    free space (after a full-table UPDATE) as in a packed one; such a table has more pages
    to read for the same rows. 1.0 (no sample) before the table's first ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'catalog_product'::regclass")
        rows = cursor.fetchone()[0] or 0
    return min(1.0, SAMPLE_ROWS / rows) if rows > 0 else 1.0


@dataclass(frozen=True)
class _FacetChoice:
    pk: int
    slug: str
    value: str


@dataclass(frozen=True)
class _FacetAttribute:
    """A filterable choice or yes/no attribute, with its choices in display order."""

    pk: int
    slug: str
    name: str
    type: str
    choices: tuple[_FacetChoice, ...]


@dataclass(frozen=True)
class _FacetCategory:
    pk: int
    parent_id: int | None
    path: str
    name: str
    slug: str


@dataclass(frozen=True)
class _Lookups:
    """The small tables every search reads: approved sellers (the visibility filter and the
    seller facet), the category tree (subtree filters and the category facet) and the facet
    attributes with their choices. Read once per search, never cached across searches: a
    suspended seller or a renamed category shows on the next search."""

    sellers: dict[int, tuple[str, str]]  # approved: id -> (slug, name), by name
    categories: list[_FacetCategory]  # by path
    attributes: list[_FacetAttribute]  # by name
    trigram: bool  # pg_trgm is installed (`trigram_available`)


@cache
def _lookups_statement() -> tuple[str, dict[str, Any]]:
    """`_lookups_load`' statement and its constant parameters. The lookups come in one
    prepared statement: they were five queries per search (sellers, categories, attributes,
    their choices, the seller facet's names), each costing more to build with the ORM than to
    run. The approved sellers are `seller_queryset_public`'s condition compiled by the ORM
    (once per process), not retyped."""
    sellers = Seller._meta.db_table
    public, constants = db.named_parameters(
        *db.compiled_part(seller_queryset_public()), names={}, prefix="seller"
    )
    sql = f"""
SELECT
    (SELECT json_agg(json_build_array({sellers}.id, {sellers}.slug, {sellers}.name)
                     ORDER BY {sellers}.name, {sellers}.id)
     FROM {sellers} WHERE {public})::text,
    (SELECT json_agg(json_build_array(c.id, c.parent_id, c.path, c.name, c.slug) ORDER BY c.path)
     FROM {Category._meta.db_table} c)::text,
    (SELECT json_agg(json_build_array(a.id, a.slug, a.name, a.type, (
            SELECT json_agg(json_build_array(ch.id, ch.slug, ch.value)
                            ORDER BY ch.position, ch.value, ch.id)
            FROM {AttributeChoice._meta.db_table} ch WHERE ch.attribute_id = a.id
        )) ORDER BY a.name, a.id)
     FROM {Attribute._meta.db_table} a
     WHERE a.is_filterable AND a.type = ANY(%(types)s::text[]))::text,
    EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')
"""  # noqa: S608 - model names and ORM-compiled SQL; values are parameters
    return sql, constants


def _lookups_load() -> _Lookups:
    sql, constants = _lookups_statement()
    with db.hot_cursor() as cursor:
        cursor.execute(sql, {**constants, "types": [AttributeType.CHOICE, AttributeType.BOOLEAN]})
        *tables, trigram = cursor.fetchone()
        sellers, categories, attributes = (json.loads(v or "[]") for v in tables)
    return _Lookups(
        sellers={pk: (slug, name) for pk, slug, name in sellers},
        categories=[_FacetCategory(*row) for row in categories],
        attributes=[
            _FacetAttribute(pk, slug, name, type_, tuple(_FacetChoice(*c) for c in choices or ()))
            for pk, slug, name, type_, choices in attributes
        ],
        trigram=trigram,
    )


def _attribute_keys(attribute: _FacetAttribute) -> list[int]:
    """Every `search_facet_values` key of a choice or yes/no attribute."""
    if attribute.type == AttributeType.CHOICE:
        return [
            facet_value_key(attribute_id=attribute.pk, choice_id=c.pk) for c in attribute.choices
        ]
    return [facet_value_key(attribute_id=attribute.pk, flag=flag) for flag in (True, False)]


def _attribute_filter(attribute: Attribute | _FacetAttribute, spec: AttributeFilter) -> Q:
    """Choice and yes/no filters test the product's facet values (GIN `&&`); number and text
    attributes keep the catalog's live condition. A facet attribute's choices are loaded
    already (`_Lookups`); another attribute's are read."""
    if attribute.type in (AttributeType.CHOICE, AttributeType.BOOLEAN):
        choice_ids: list[int] = []
        if attribute.type == AttributeType.CHOICE:
            if isinstance(attribute, _FacetAttribute):
                choice_ids = [c.pk for c in attribute.choices if c.slug in spec.values]
            else:
                chosen = AttributeChoice.objects.filter(attribute=attribute, slug__in=spec.values)
                choice_ids = list(chosen.values_list("pk", flat=True))
        return facet_values_condition(
            attribute_id=attribute.pk,
            attribute_type=attribute.type,
            values=spec.values,
            choice_ids=choice_ids,
        )
    if not isinstance(attribute, Attribute):
        raise TypeError(f"Facet attribute {attribute.slug} is neither a choice nor yes/no.")
    return _attribute_condition(attribute, spec)


def _price_bucket_sql(column: str) -> str:
    """A CASE giving the PRICE_BUCKETS index of `column` (constant SQL, no user input)."""
    whens = [
        f"WHEN {column} < {high} THEN {i}"
        for i, (_, high) in enumerate(PRICE_BUCKETS)
        if high is not None
    ]
    return (
        f"CASE WHEN {column} IS NULL THEN NULL {' '.join(whens)} ELSE {len(PRICE_BUCKETS) - 1} END"
    )


class PostgresSearchBackend:
    name = "postgres"

    # --- matching ---------------------------------------------------------------------------

    def __init__(self) -> None:
        # per-search lookups (sellers, category subtrees, attribute choices): an instance
        # answers one request, so they are fetched once, not once per facet pass
        self._memo: dict[object, object] = {}

    def _text_query(self, terms: list[str]) -> TsQuery:
        key = ("text", tuple(terms))
        if key not in self._memo:
            self._memo[key] = text_tsquery(terms)
        return self._memo[key]  # type: ignore[return-value]

    def _rank(self, query: SearchQuery) -> ExpressionWrapper:
        return blended_rank(self._text_query(query.terms))

    def _lookups(self) -> _Lookups:
        if "lookups" not in self._memo:
            self._memo["lookups"] = _lookups_load()
        return self._memo["lookups"]  # type: ignore[return-value]

    def _approved_seller_ids(self) -> list[int]:
        return list(self._lookups().sellers)

    def _category_ids(self, category: Category) -> list[int]:
        """The ids of `category`'s subtree, from the tree the lookups hold (the catalog's
        subtree rule on loaded paths), as a literal list: PostgreSQL estimates a literal
        list from the column statistics (it guessed a subquery at one row and scanned 912k
        products) and walks a leaf's (category, status, ...) index in order."""
        return [
            c.pk
            for c in self._lookups().categories
            if category_path_in_subtree(path=c.path, root_path=category.path)
        ]

    def _conditions(self, query: SearchQuery) -> dict[str, Q]:
        """One condition per active filter of the facet statement's rows (a facet lifts its
        own: it counts the rows passing every other): all read the product row (denormalised
        columns), none joins. A list without words has its category and a seller page's own
        seller in its base set instead (`_base`)."""
        if query not in self._memo:
            self._memo[query] = self._conditions_build(query)
        return self._memo[query]  # type: ignore[return-value]

    def _conditions_build(self, query: SearchQuery) -> dict[str, Q]:
        f = query.filters
        out: dict[str, Q] = {}
        narrowing = _base_narrowing(query)
        if f.category is not None and "category" not in narrowing:
            out["category"] = self._category_condition(f.category)
        if f.sellers and "seller" not in narrowing:
            out["seller"] = self._seller_condition(query)
        price = Q()
        if f.price_min is not None:
            price &= Q(search_price_min__gte=f.price_min)
        if f.price_max is not None:
            price &= Q(search_price_min__lte=f.price_max)
        if price:
            out["price"] = price
        if f.attributes:
            attrs: dict[str, Attribute | _FacetAttribute] = {
                a.slug: a for a in self._lookups().attributes
            }
            # the others (number, text, not filterable): none when every filter is a facet's
            attrs |= Attribute.objects.in_bulk(
                [spec.slug for spec in f.attributes if spec.slug not in attrs], field_name="slug"
            )
            for spec in f.attributes:
                attribute = attrs.get(spec.slug)
                if attribute is not None:
                    out[f"attr:{spec.slug}"] = _attribute_filter(attribute, spec)
        return out

    def _category_condition(self, category: Category) -> Q:
        # literal id lists, not subqueries: the planner then estimates them from the column
        # statistics (a subquery it guessed at one row and scanned 912k products)
        return Q(category_id__in=self._category_ids(category))

    def _seller_condition(self, query: SearchQuery) -> Q:
        key = ("sellers", query.filters.sellers)
        if key not in self._memo:
            chosen = Seller.objects.filter(slug__in=query.filters.sellers)
            self._memo[key] = list(chosen.values_list("id", flat=True))
        chosen_ids: list[int] = self._memo[key]  # type: ignore[assignment]
        # no such seller: nothing matches (an empty IN list compiles to no boolean at all,
        # which the facet statement's flag column cannot be)
        if not chosen_ids:
            return Q(Value(False, output_field=BooleanField()))
        return Q(seller_id__in=chosen_ids)

    def _base(
        self, query: SearchQuery, *, keys: str | None = None, category: bool = True
    ) -> QuerySet[Product]:
        """Public products matching the text and the filters no facet lifts. A list without
        words is narrowed by its category (the category facet shows the chosen category and
        its children, whose counts the category does not change; `category` False leaves it
        out, for the walk per category) and a seller page's seller (no facet shows it): the
        facet statement then holds that category's or seller's rows, not the catalogue's. A
        text search keeps them as filters on its words' matches (`_conditions`), whose exact
        attempt stops at EXACT_LIMIT + 1 rows: ANDed into its base set, a category with no
        match made PostgreSQL intersect three bitmaps of 100,000-900,000 rows. Visibility
        is the maintained `search_visible` AND the live status and seller checks (cheap: the
        product row and eight sellers), so archiving or suspending hides at once. `keys` (key
        lexemes in tsquery syntax, with text only) narrows the text match inside its index
        scan. Built once per search, keys and category (each caller chains onto a copy)."""
        key = ("base", query, keys, category)
        if key not in self._memo:
            self._memo[key] = self._base_build(query, keys=keys, category=category)
        return self._memo[key].all()  # type: ignore[attr-defined]

    def _base_build(
        self, query: SearchQuery, *, keys: str | None, category: bool
    ) -> QuerySet[Product]:
        qs = Product.objects.filter(
            product_listed_condition(), seller_id__in=self._approved_seller_ids()
        )
        narrowing = _base_narrowing(query)
        if category and query.filters.category is not None and "category" in narrowing:
            qs = qs.filter(self._category_condition(query.filters.category))
        if "seller" in narrowing:
            qs = qs.filter(self._seller_condition(query))
        if query.terms:
            text = self._text_query(query.terms)
            if keys is not None:
                text = text & _TsQueryLiteral(keys, search_type="raw")
            qs = qs.filter(search_vector=text)
        if query.rating_min is not None:
            qs = qs.filter(rating_avg__gte=query.rating_min)
        if query.filters.in_stock:
            from inventory.selectors import product_in_stock_condition

            qs = qs.filter(product_in_stock_condition())
        return qs

    def _matching(
        self, query: SearchQuery, *, keys: str | None = None, category: bool = True
    ) -> QuerySet[Product]:
        """Public products matching the text and every active filter (see `_base`)."""
        qs = self._base(query, keys=keys, category=category)
        for condition in self._conditions(query).values():
            qs = qs.filter(condition)
        return qs

    def _page_ids(
        self,
        query: SearchQuery,
        *,
        price_hint: _PriceHint | None = None,
        matches: list[_Match] | None = None,
        estimate: int | None = None,
    ) -> list[int]:
        """The page's ids in result order. `price_hint` (None when the facet counts were
        exact) lets a price-sorted text search bound its fetch; `matches`, the bounded count's
        rows when it ran, spare a second pass over the same matches; `estimate`, the total
        (sampled or exact), picks the popularity level a text search starts from."""
        matching = self._matching(query).order_by()
        window = slice(query.offset, query.offset + query.page_size)
        sort = query.sort
        if matches is not None:
            ordered_ids = _matches_ordered(query, matches)
            if ordered_ids is not None:
                return ordered_ids[window]
        if query.terms and sort in _WALKED_SORTS:
            relevance = sort == ProductSort.RELEVANCE
            # relevance: the pool, ~RANK_LIMIT of the most popular matches ranked together
            # (the level nearest that: every page read costs); best selling: popularity order
            # is level order, so start at the level expected to hold the page
            needed = RANK_LIMIT if relevance else query.offset + query.page_size
            level = (
                popularity_level_for(share=needed / estimate, nearest=relevance)
                if estimate
                else None
            )
            return self._popularity_walk_ids(query, first_level=level)[0]
        if query.terms and sort in (ProductSort.PRICE_ASC, ProductSort.PRICE_DESC):
            return self._price_sorted_ids(query, matching, price_hint)
        if not query.terms:
            return self._walked_ids(query)
        ordered = matching.order_by(*sort_order_by(sort))
        return list(ordered.values_list("id", flat=True)[window])

    def _popularity_walk_ids(
        self, query: SearchQuery, *, first_level: int | None
    ) -> tuple[list[int], int]:
        """A text search's page in popularity-level order: first the matches of levels up to
        `first_level` (None: every match), sorted by the blended rank (relevance) or the
        popularity (best selling) DESC, id DESC; then the matches of each next level, sorted
        alike, until the page is full or the levels end. Each group is one GIN scan of the
        words AND its level's key lexeme (the last level has no key: the less popular half).
        Every match is in exactly one group, so every page up to the total answers; a page
        past the first group counts the groups before it. Returns the page's ids and the
        size of the first group (with `first_level` None: how many match)."""
        score = self._rank(query) if query.sort == ProductSort.RELEVANCE else F("popularity")
        level = POPULARITY_LEVELS if first_level is None else first_level
        first_size: int | None = None
        skip = query.offset  # matches of this and later groups still before the page
        ids: list[int] = []
        below: int | None = None  # the levels up to here were earlier groups
        with match_scan(connection), connection.cursor() as cursor:
            while level <= POPULARITY_LEVELS and len(ids) < query.page_size:
                group = self._matching(query, keys=popularity_key(level)).order_by()
                if below is not None:
                    group = group.filter(popularity_tier__gt=below)
                sql, params = (
                    group.annotate(score=score).values("id", "score").query.sql_with_params()
                )
                # the page's rows of this group, then one row with the group's size (so a
                # group the page starts after costs one pass, not a second count)
                cursor.execute(
                    f"WITH c AS MATERIALIZED ({sql}) "  # noqa: S608 - constant SQL, values are parameters
                    "SELECT id, NULL FROM (SELECT id FROM c ORDER BY score DESC, id DESC "
                    "LIMIT %s OFFSET %s) p UNION ALL SELECT NULL, count(*) FROM c",
                    [*params, query.page_size - len(ids), skip],
                )
                rows = cursor.fetchall()
                page = [pk for pk, _ in rows if pk is not None]
                (size,) = [n for pk, n in rows if pk is None]
                ids += page
                skip = 0 if page else max(0, skip - size)
                below, level = level, level + 1
                first_size = size if first_size is None else first_size
        return ids, first_size or 0

    def _walked_ids(self, query: SearchQuery) -> list[int]:
        """A listing without words (a category, a seller, the whole catalog) in any sort: one
        ordered walk of a (category, status, ...) index per category of the subtree (one walk
        of the whole catalog without a category), merged (Merge Append reads only as far as
        the page needs), instead of walking the whole catalog's order and skipping the other
        categories' rows (page 50 of a top category: ~7,000 rows). A nullable first key
        (published_at, the price) sorts its NULLs last in either direction, which an index
        walked backwards does not (price high to low): there its non-NULL rows and its NULL
        rows are walked apart (`SortKey.walk_nulls_last`); walked forwards, once.
        Each walk's SQL is compiled once and repeated per category with its id (compiling a
        walk per category cost more than running it)."""
        keys = SORT_KEYS[query.sort]
        first = keys[0]
        keep = query.offset + query.page_size
        category = query.filters.category
        # each walk in its index's order (for the NULL rows too: the planner then walks the
        # same index rather than the primary key)
        matching = self._matching(query, category=False).order_by(*(key.walk() for key in keys))
        walks = [matching]
        if not first.walk_nulls_last:
            walks = [matching.filter(**{f"{first.field}__isnull": null}) for null in (False, True)]
        columns = list(dict.fromkeys(["id", *(key.field for key in keys)]))
        parts, params = [], []
        for walk in walks:
            if category is None:
                sql, walk_params = walk.values(*columns)[:keep].query.sql_with_params()
                sql, walk_params = f"({sql})", list(walk_params)
            else:
                stand_in = db.placeholder()  # the category id, filled in per walk
                one = walk.filter(category_id=stand_in).values(*columns)[:keep]
                one_sql, one_params = one.query.sql_with_params()
                sql, walk_params = db.union_all_per_value(
                    one_sql, one_params, stand_in, self._category_ids(category)
                )
            parts.append(sql)
            params += walk_params
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM ({' UNION ALL '.join(parts)}) u "  # noqa: S608 - constant SQL, values are parameters
                f"ORDER BY {sort_sql(query.sort)} LIMIT %s OFFSET %s",
                [*params, query.page_size, query.offset],
            )
            return [row[0] for row in cursor.fetchall()]

    def _price_bounds(self, query: SearchQuery, hint: _PriceHint | None) -> list[Decimal | None]:
        """Price bounds to try for a price-sorted text search, nearest first, ending with None
        (no bound). The first is the price of the sampled match that stands for
        PRICE_BOUND_FACTOR pages' worth of matches below it (above it, sorting down), else
        the nearest price bucket edge the facet counts say holds that many; then the bucket
        edges beyond it."""
        if hint is None:
            return [None]  # at most EXACT_LIMIT matches: one bitmap over all of them
        need = (query.offset + query.page_size) * PRICE_BOUND_FACTOR
        descending = query.sort == ProductSort.PRICE_DESC
        sampled = hint.dearest if descending else hint.cheapest
        # two sampled rows at least: below the first one, ~1 / share matches are expected,
        # but fewer than a page in one case out of ten
        k = max(2, math.ceil(need * hint.share))
        if len(sampled) >= k:
            first = sampled[k - 1] if descending else sampled[k - 1] + CENT
            bucket_edges = [low if descending else high for low, high in PRICE_BUCKETS]
            beyond = [
                e
                for e in bucket_edges
                if e is not None and (e < first if descending else e > first)
            ]
            return [first, *(sorted(beyond, reverse=descending)), None]
        edges = [
            (i, low if descending else high)
            for i, (low, high) in enumerate(PRICE_BUCKETS)
            if (low if descending else high) is not None
        ]
        if descending:
            edges.reverse()
        f = query.filters
        bounds: list[Decimal | None] = []
        seen = 0
        for i, edge in edges:
            low, high = PRICE_BUCKETS[i]
            in_filter = (high is None or f.price_min is None or high > f.price_min) and (
                low is None or f.price_max is None or low <= f.price_max
            )
            seen += hint.buckets.get(i, 0) if in_filter else 0
            if seen >= need or bounds:
                bounds.append(edge)
        return [*bounds, None]

    def _price_sorted_ids(
        self,
        query: SearchQuery,
        matching: QuerySet[Product],
        price_hint: _PriceHint | None,
    ) -> list[int]:
        """A text search sorted by price. Walking the price index and testing the text row by
        row is fast for a word common among cheap products and takes seconds for one that only
        expensive products carry; fetching every match to sort them takes ~100 ms for a broad
        word. So the matches are fetched below the nearest price bound expected to hold
        enough of them (above, sorting down), widened until the page is full: every match past
        a bound sorts after every match within it. The bound's price bands (key lexemes) are
        ANDed with the text inside its GIN scan; a price-index bitmap of every cheaper product
        cost 3-7x more."""
        descending = query.sort == ProductSort.PRICE_DESC
        order = sort_sql(query.sort)
        bounds = self._price_bounds(query, price_hint)
        if bounds != [None]:
            # the bands' statement is compiled once, with a stand-in for the bands each try
            # fills in (compiling it per try cost more than running it); drawn per search, so
            # no text filter value can be taken for it
            stand_in = f"('{db.placeholder(str)}')"
            bounded = self._matching(query, keys=stand_in).order_by()
            bounded_sql, bounded_params = bounded.values(
                "id", "search_price_min"
            ).query.sql_with_params()
            keys_slot = db.placeholder_slot(bounded_params, stand_in)
        # The bound itself is checked on the bands' rows after the CTE: inside it the planner
        # ANDed a bitmap of every cheaper product from the price index into the bands' scan
        # ('nordhus' below 97: 34 of 43 ms building 377,391 entries for the 796 rows the
        # bands found).
        within = "WHERE search_price_min >= %s" if descending else "WHERE search_price_min < %s"
        ids: list[int] = []
        # one transaction with the scan settings for every try
        with match_scan(connection), connection.cursor() as cursor:
            for bound in bounds:
                params: list[Any]
                if bound is None:
                    sql, unbounded_params = matching.values(
                        "id", "search_price_min"
                    ).query.sql_with_params()
                    params, where = list(unbounded_params), ""
                else:
                    # the price bands that can hold a price within the bound, ANDed with the
                    # text inside its index scan; the exact bound is then checked on each row
                    # (no band to spare for rounding: each costs the scan, and Python and
                    # PostgreSQL agree on the band of every cent, tested at and around powers
                    # of two)
                    band = price_band(bound)
                    bands = range(band, PRICE_BAND_LAST + 1) if descending else range(0, band + 1)
                    sql, params, where = bounded_sql, list(bounded_params), within
                    params[keys_slot] = keys_any("p", bands)
                    params.append(bound)
                # MATERIALIZED: the planner may not turn this back into the ordered index walk
                cursor.execute(
                    f"WITH c AS MATERIALIZED ({sql}) SELECT id FROM c {where} "  # noqa: S608 - constant SQL, values are parameters
                    f"ORDER BY {order} LIMIT %s OFFSET %s",
                    [*params, query.page_size, query.offset],
                )
                ids = [row[0] for row in cursor.fetchall()]
                if len(ids) == query.page_size:
                    break
        return ids

    def search(self, *, query: SearchQuery) -> SearchResult:
        if not self._approved_seller_ids():
            # nothing is public (no seller approved yet): an empty IN list compiles to no SQL
            return SearchResult(product_ids=[], total=0, facets=Facets(), engine=self.name)
        counted = self._facets_and_total(query)
        facets, total, total_is_estimate = counted.facets, counted.total, counted.estimated
        if not total:
            ids = []
        elif counted.page_ids is not None:
            ids = counted.page_ids
        else:
            ids = self._page_ids(
                query,
                price_hint=counted.price_hint,
                matches=counted.matches,
                estimate=total,
            )
        did_you_mean = None
        if total == 0 and query.terms:
            did_you_mean = self._did_you_mean(query)
        return SearchResult(
            product_ids=ids,
            total=total,
            facets=facets,
            engine=self.name,
            did_you_mean=did_you_mean,
            total_is_estimate=total_is_estimate,
        )

    # --- facets -----------------------------------------------------------------------------

    def _facets_and_total(self, query: SearchQuery) -> _Counted:
        """All facet counts and the total in one statement over the base set (text and the
        filters no facet lifts): each row carries one boolean per active filter, and each
        facet counts the rows passing every filter but its own.

        Exact up to EXACT_LIMIT base matches. Past that (a broad word matches 5% of a
        million products) counting every match means fetching every matching row, so the
        same statement runs over a random sample of the table's pages holding about
        SAMPLE_ROWS products (TABLESAMPLE SYSTEM, fixed seed so a page reload shows the same
        numbers) and counts are scaled up (it runs first: a base set it puts past
        OVERFLOW_FACTOR * EXACT_LIMIT skips the exact attempt, which would overflow): facets
        flagged `sampled`, the total flagged as an estimate unless a bounded count of the
        fully filtered set, or a popularity walk over every match, finds it exactly. Also
        returns what the sample says about the matches' prices (None when counts are exact)
        for price sorting, and the page when a statement here has ordered it."""
        conditions = self._conditions(query)
        flags = {f"ok_{i}": key for i, key in enumerate(conditions)}
        top_order = sort_sql(query.sort) if query.terms and query.sort in _TOP_SORTS else None
        ranked = query.sort == ProductSort.RELEVANCE and query.terms
        # no rank here: ts_rank_cd reads every vector it ranks, and only the exact attempt's
        # page (`top`) orders by it
        base = (
            self._base(query)
            .order_by()
            .annotate(
                **{
                    name: ExpressionWrapper(conditions[key], output_field=BooleanField())
                    for name, key in flags.items()
                }
            )
            .values(
                "id", "category_id", "seller_id", "search_price_min", "search_facet_values", *flags
            )
        )
        attributes = self._lookups().attributes
        chosen_attrs = [a for a in attributes if f"attr:{a.slug}" in conditions]
        if not query.facets:
            chosen_attrs = []
        share = _sample_share()
        counts: dict[str, dict[int | None, int]] | None = None
        sample = None
        # the base set holds more than EXACT_LIMIT rows (the exact attempt overflowed, or
        # the sample puts it well past that)
        base_overflows = False
        page_ids: list[int] | None = None
        matched: int | None = None  # how many match, when a statement over all of them counted
        # a relevance or best-selling page without filters is a popularity walk of the base set
        walked_whole = bool(query.terms) and not conditions and query.sort in _WALKED_SORTS
        if share < 1.0:
            # a page sample first (no index, no full bitmap): is the base set broad?
            sample = self._facet_counts(
                base, flags, chosen_attrs, sample_percent=share * 100, kinds=_facet_kinds(query)
            )
            estimate = sample["rows"][None] / share
            if estimate > OVERFLOW_FACTOR * EXACT_LIMIT:
                # broad, or an exact attempt would overflow: the sample's counts stand
                counts, base_overflows = sample, True
            elif estimate > EXACT_LIMIT and walked_whole:
                # likely just past the limit: the walk over every match orders the page
                # and counts the matches; only if they are few after all does the exact
                # attempt below count the facets
                page_ids, matched = self._popularity_walk_ids(query, first_level=None)
                if matched > EXACT_LIMIT:
                    counts, base_overflows = sample, True
        if counts is None:
            # it orders the page too, unless the walk above has
            page_order = top_order if page_ids is None else None
            exact_base = base.annotate(rank=self._rank(query)) if ranked and page_order else base
            exact = self._facet_counts(
                exact_base[: EXACT_LIMIT + 1],
                flags,
                chosen_attrs,
                top=(page_order, query.offset + query.page_size) if page_order else None,
                kinds=_facet_kinds(query),
            )
            top = exact.pop("top", {})
            top_ids = [top[p] for p in sorted(p for p in top if p is not None)][query.offset :]
            if exact["rows"][None] <= EXACT_LIMIT:
                counts, share = exact, 1.0
                # every match is in this statement: it has ordered the page too
                if page_order:
                    page_ids = top_ids
            else:
                base_overflows = True
                # the same sample statement as above: its answer is reused, not re-run
                counts = sample or self._facet_counts(
                    base, flags, chosen_attrs, sample_percent=share * 100, kinds=_facet_kinds(query)
                )
        sampled = share < 1.0
        matches: list[_Match] | None = None
        cheapest = [Decimal(c) / 100 for _, c in sorted(counts.pop("cheapest", {}).items())]
        dearest = [Decimal(c) / 100 for _, c in sorted(counts.pop("dearest", {}).items())]
        if sampled:
            counts = {
                kind: {key: round(n / share) for key, n in values.items()}
                for kind, values in counts.items()
            }
        total = counts["total"][None]
        estimated = sampled
        sparse = (
            not query.terms
            and total < COUNTED_LIMIT
            and total <= SPARSE_SHARE * counts["rows"][None]
        )
        if sampled and (total < BROAD_FACTOR * EXACT_LIMIT or sparse):
            # too few sampled rows pass every filter to trust the estimate (or, a sparse
            # list without words, its walk would read far): count, bounded (with no filter to
            # apply, a text search's total is the base set's, over EXACT_LIMIT)
            if not query.terms:
                # a list without words: few enough to fetch them all, so one statement
                # counts them and orders the page
                page_ids, matched = self._counted_sorted_ids(query)
                exact_total = matched
            elif base_overflows and not conditions:
                exact_total = matched if matched is not None else EXACT_LIMIT + 1
            elif total > OVERFLOW_FACTOR * EXACT_LIMIT:
                # the sample puts the matches well past the limit, as for the exact attempt
                # above: a bounded count would overflow, and the page has its own statement
                exact_total = EXACT_LIMIT + 1
            else:
                matches = self._bounded_matches(query, likely_all=total <= EXACT_LIMIT)
                exact_total = len(matches)
            if exact_total <= EXACT_LIMIT or exact_total == matched:
                total, estimated = exact_total, False
            else:
                total = max(total, exact_total)
        chosen_ids = {a.pk for a in chosen_attrs}
        facets = Facets(sampled=sampled)
        if query.facets:
            facets = Facets(
                categories=self._category_facet(query, counts.get("category", {})),
                prices=price_facet(query, counts.get("price", {})),
                sellers=self._seller_facet(query, counts.get("seller", {})),
                attributes=self._attribute_facets(
                    query, attributes, counts.get("value", {}), chosen_ids
                ),
                sampled=sampled,
            )
        hint = _PriceHint(counts.get("price", {}), cheapest, dearest, share) if sampled else None
        return _Counted(facets, total, estimated, hint, matches, page_ids)

    def _counted_sorted_ids(self, query: SearchQuery) -> tuple[list[int], int]:
        """The page of a list without words and how many match, in one statement over every
        match (fetched through the indexes' bitmaps, `match_scan`): for filtered lists the
        sample puts under BROAD_FACTOR * EXACT_LIMIT, or under COUNTED_LIMIT when their
        filters pass at most SPARSE_SHARE of the rows. The merged walk per category
        (`_walked_ids`) reads on until a page of its rows passes the filters, the whole
        category when none does (docs/search.md, "Filtered category pages")."""
        ordered = (
            self._matching(query)
            .order_by(*sort_order_by(query.sort))
            .annotate(matched=Window(Count("id")))
            .values_list("id", "matched")
        )
        window = ordered[query.offset : query.offset + query.page_size]
        with match_scan(connection):
            rows = list(window)
            if not rows:  # a page past the last: the count alone
                return [], self._matching(query).count()
        return [pk for pk, _ in rows], rows[0][1]

    def _bounded_matches(self, query: SearchQuery, *, likely_all: bool) -> list[_Match]:
        """Up to EXACT_LIMIT + 1 fully filtered matches, in scan order, with what the page
        sorts them by: the bounded count, and (`_matches_ordered`) the page. A relevance
        page's rank (ts_rank_cd reads every vector it ranks) is read with them when the
        sample says they are `likely_all` the matches (at most EXACT_LIMIT); otherwise only
        once they turn out to be (a second statement, by id): over EXACT_LIMIT the page ranks
        a popularity pool instead, and ranking the count's rows would be wasted."""
        relevance = query.sort == ProductSort.RELEVANCE and bool(query.terms)
        inline = relevance and likely_all
        fields = [k.field for k in SORT_KEYS[query.sort] if k.field not in ("id", "rank")]
        matching = self._matching(query).order_by()
        if inline:
            matching = matching.annotate(rank=self._rank(query))
            fields.append("rank")
        with match_scan(connection):
            rows = list(matching.values("id", *fields)[: EXACT_LIMIT + 1])
        if relevance and not inline and len(rows) <= EXACT_LIMIT:
            ranked = Product.objects.filter(pk__in=[row["id"] for row in rows])
            rank = dict(ranked.annotate(rank=self._rank(query)).values_list("id", "rank"))
            for row in rows:
                row["rank"] = rank[row["id"]]
        return [_Match(row.pop("id"), row) for row in rows]

    def _facet_counts(
        self,
        base: QuerySet,
        flags: dict[str, str],
        chosen_attrs: list[_FacetAttribute],
        *,
        sample_percent: float | None = None,
        top: tuple[str, int] | None = None,
        kinds: frozenset[str] = frozenset(),
    ) -> dict[str, dict[int | None, int]]:
        """The facet statement over `base` (or a sample of it). `top` (an ORDER BY over the
        rows of `m`, and how many) adds the first ids passing every filter in that order, as
        kind 'top' keyed by position. `kinds`: the facets it counts (`_facet_kinds`); besides
        them it counts the rows, the total and the price buckets (a price sort's hint)."""
        base_sql, params = base.query.sql_with_params()
        if sample_percent is not None:
            # the percentage is computed from pg_class (`_sample_share`), never from the request
            base_sql = tablesample(base_sql, percent=sample_percent)

        def passing(lifted: str | None = None) -> str:
            kept = [name for name, key in flags.items() if key != lifted]
            return " AND ".join(kept) if kept else "TRUE"

        parts = [
            "SELECT 'rows', NULL::bigint, count(*) FROM m",
            f"SELECT 'total', NULL, count(*) FROM m WHERE {passing()}",  # noqa: S608 - constant SQL, values are parameters
            f"SELECT 'price', {_price_bucket_sql('search_price_min')}, count(*) FROM m "  # noqa: S608 - constant SQL, values are parameters
            f"WHERE {passing('price')} AND search_price_min IS NOT NULL GROUP BY 2",
        ]
        facet_parts = {
            "category": f"SELECT 'category', category_id, count(*) FROM m "  # noqa: S608 - constant SQL, values are parameters
            f"WHERE {passing()} GROUP BY category_id",
            "seller": f"SELECT 'seller', seller_id, count(*) FROM m WHERE {passing('seller')} "  # noqa: S608 - constant SQL, values are parameters
            "GROUP BY seller_id",
            "value": f"SELECT 'value', v, count(*) FROM m, unnest(search_facet_values) v "  # noqa: S608 - constant SQL, values are parameters
            f"WHERE {passing()} GROUP BY v",
        }
        parts += [sql for kind, sql in facet_parts.items() if kind in kinds]
        if top is not None:
            # used only when `m` holds every match (at most EXACT_LIMIT)
            order, limit = top
            parts.append(
                f"(SELECT 'top', row_number() OVER (ORDER BY {order}), id FROM m "  # noqa: S608 - constant SQL, values are parameters
                f"WHERE {passing()} ORDER BY {order} LIMIT {int(limit)})"
            )
        # the lowest and highest prices passing every filter (in cents), for price sorting
        for kind, direction in (("cheapest", "ASC"), ("dearest", "DESC")):
            parts.append(
                f"(SELECT '{kind}', row_number() OVER (ORDER BY search_price_min {direction}), "  # noqa: S608 - constant SQL, values are parameters
                f"(search_price_min * 100)::bigint FROM m WHERE {passing()} "
                f"AND search_price_min IS NOT NULL ORDER BY search_price_min {direction} "
                f"LIMIT {SAMPLED_PRICES})"
            )
        for attribute in chosen_attrs:
            parts.append(
                f"SELECT 'lifted', v, count(*) FROM m, unnest(search_facet_values) v "  # noqa: S608 - constant SQL, values are parameters
                f"WHERE {passing(f'attr:{attribute.slug}')} AND v = ANY(%s) GROUP BY v"
            )
            params = (*params, _attribute_keys(attribute))
        sql = f"WITH m AS MATERIALIZED ({base_sql}) " + " UNION ALL ".join(parts)
        counts: dict[str, dict[int | None, int]] = {"rows": {None: 0}, "total": {None: 0}}
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for kind, key, n in cursor.fetchall():
                counts.setdefault(kind, {})[key] = n
        # a chosen attribute's values are counted with its own filter lifted (choosing one does
        # not empty its facet): those counts replace the general pass's for the same keys
        counts.setdefault("value", {}).update(counts.pop("lifted", {}))
        return counts

    def _category_facet(
        self, query: SearchQuery, counts: dict[int | None, int]
    ) -> tuple[FacetValue, ...]:
        if not counts:
            return ()
        categories = self._lookups().categories
        path_of = {c.pk: c.path for c in categories}
        selected = query.filters.category

        def subtree_count(node: Category | _FacetCategory) -> int:
            return sum(
                n
                for cid, n in counts.items()
                if cid in path_of
                and category_path_in_subtree(path=path_of[cid], root_path=node.path)
            )

        shown: list[Category | _FacetCategory]
        if selected is None:
            shown = [c for c in categories if c.parent_id is None]
        else:
            shown = [selected, *(c for c in categories if c.parent_id == selected.pk)]
        values = []
        for node in shown:
            n = subtree_count(node)
            is_selected = selected is not None and node.pk == selected.pk
            if n or is_selected:
                values.append(FacetValue(node.slug, node.name, n, is_selected))
        return tuple(values)

    def _seller_facet(
        self, query: SearchQuery, counts: dict[int | None, int]
    ) -> tuple[FacetValue, ...]:
        # every counted seller is approved: the base set filters by the same lookup
        sellers = self._lookups().sellers
        counted = [pk for pk in sellers if pk in counts]
        ranked = sorted(counted, key=lambda pk: (-counts[pk], sellers[pk][1]))
        ranked = ranked[:SELLER_FACET_LIMIT]
        chosen = set(query.filters.sellers)
        return tuple(
            FacetValue(sellers[pk][0], sellers[pk][1], counts[pk], sellers[pk][0] in chosen)
            for pk in ranked
        )

    def _attribute_facets(
        self,
        query: SearchQuery,
        attributes: list[_FacetAttribute],
        counts: dict[int | None, int],
        chosen_ids: set[int],
    ) -> tuple[AttributeFacet, ...]:
        chosen = {spec.slug: spec for spec in query.filters.attributes}
        facets = []
        for attribute in attributes:
            spec = chosen.get(attribute.slug)
            picked = set(spec.values) if spec else set()
            if attribute.type == AttributeType.CHOICE:
                options = [
                    (
                        c.slug,
                        c.value,
                        counts.get(facet_value_key(attribute_id=attribute.pk, choice_id=c.pk), 0),
                    )
                    for c in attribute.choices
                ]
            else:
                options = [
                    (
                        slug,
                        label,
                        counts.get(facet_value_key(attribute_id=attribute.pk, flag=flag), 0),
                    )
                    for slug, label, flag in (("true", "Yes", True), ("false", "No", False))
                ]
            values = tuple(
                FacetValue(slug, label, n, slug in picked)
                for slug, label, n in options
                if n or slug in picked
            )
            if values:
                facets.append(AttributeFacet(attribute.slug, attribute.name, values))
        return tuple(facets)

    # --- typo tolerance and autocomplete ----------------------------------------------------

    def _did_you_mean(self, query: SearchQuery) -> str | None:
        if not self._lookups().trigram:
            logger.info(
                "pg_trgm is not installed: search runs without typo tolerance and 'did you "
                "mean'. Install postgresql-contrib and run migrate to enable it."
            )
            return None
        # A word some public product's name carries is its own best correction (similarity 1):
        # a correctly spelled word the filters emptied needs no search at all. Other words are
        # compared with the words of public product names, which the autocomplete table holds
        # (a trigram search of a million names took 0.3-2 s per word).
        known = set(
            SearchSuggestion.objects.filter(word__in=query.terms).values_list("word", flat=True)
        )
        if known >= set(query.terms):
            return None
        unknown = [term for term in query.terms if term not in known]
        with connection.cursor() as cursor:
            # the closest word of all public names' words (the autocomplete table's few hundred
            # distinct words, read by a skip scan of its index), per unknown term
            cursor.execute(
                """
                WITH RECURSIVE words AS (
                    SELECT min(word) AS word FROM catalog_searchsuggestion
                    UNION ALL
                    SELECT (SELECT min(s.word) FROM catalog_searchsuggestion s
                            WHERE s.word > words.word)
                    FROM words WHERE words.word IS NOT NULL
                )
                SELECT t.term, best.word
                FROM unnest(%s::text[]) AS t(term)
                CROSS JOIN LATERAL (
                    SELECT word FROM words
                    WHERE word IS NOT NULL AND similarity(word, t.term) >= %s
                    ORDER BY similarity(word, t.term) DESC, word LIMIT 1
                ) best
                """,
                [unknown, DID_YOU_MEAN_MIN_SIMILARITY],
            )
            closest = dict(cursor.fetchall())
        corrected = [closest.get(term, term) for term in query.terms]
        if corrected == query.terms:
            return None
        suggestion = SearchQuery(text=" ".join(corrected), filters=query.filters)
        if not self._matching(suggestion).exists():
            return None
        return suggestion.text

    def suggest(self, *, prefix: str, limit: int) -> list[Suggestion]:
        """Product names from the small autocomplete table (one prefix index scan on the
        last word, earlier words must be whole words of the name), most common names first;
        then categories by name."""
        terms = search_terms(prefix)
        if not terms:
            return []
        *words, last = terms
        rows = SearchSuggestion.objects.filter(word__startswith=last)
        for word in words:
            rows = rows.filter(
                phrase__in=SearchSuggestion.objects.filter(word=word).values("phrase")
            )
        candidates = list(
            rows.order_by("-weight", "phrase").values_list("phrase", "label", "slug")[: limit * 3]
        )
        # The table lags behind archiving and seller suspension until the next refresh; the
        # products it links to are checked live (one query), so a hidden one is never offered.
        public = set(
            product_queryset_public()
            .filter(slug__in={slug for _, _, slug in candidates})
            .values_list("slug", flat=True)
        )
        seen: set[str] = set()
        out: list[Suggestion] = []
        for phrase, label, slug in candidates:
            if slug in public and phrase not in seen and len(out) < limit:
                seen.add(phrase)
                out.append(Suggestion("product", label, slug))
        phrase = " ".join(terms)
        categories = Category.objects.filter(name__icontains=phrase).order_by("depth", "name")
        out.extend(Suggestion("category", c.name, c.slug) for c in categories[: max(2, limit // 2)])
        return out
