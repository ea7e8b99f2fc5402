"""PostgreSQL full-text search: the default engine.

Matching uses the stored, weighted `Product.search_vector` (GIN index); visibility is always
the live `product_queryset_public()` condition, so an archived product or a suspended seller
disappears from results at once, whatever the vector says. Price filters and facets use the
denormalised `search_price_min` (see `services.search_index_refresh`).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery as TsQuery
from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from catalog.models import Attribute, AttributeType, Category, Product, VariantAttributeValue
from catalog.search.base import (
    PRICE_BUCKETS,
    AttributeFacet,
    Facets,
    FacetValue,
    SearchQuery,
    SearchResult,
    SearchSort,
    Suggestion,
    price_bucket_key,
    price_bucket_label,
    search_terms,
)

# the attribute condition is shared with category pages so both filter attributes alike
from catalog.selectors import _attribute_condition, product_queryset_public

logger = logging.getLogger("catalog.search")

CENT = Decimal("0.01")
SELLER_FACET_LIMIT = 20
SUGGEST_CANDIDATES = 300
DID_YOU_MEAN_MIN_SIMILARITY = 0.3

_trigram_state: dict[str, bool] = {}


def _trigram_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def trigram_available() -> bool:
    """Whether pg_trgm is installed in this database (checked once per process and database);
    without it search still works, only typo tolerance ("did you mean") is off."""
    key = connection.settings_dict["NAME"]
    if key not in _trigram_state:
        _trigram_state[key] = _trigram_installed()
        if not _trigram_state[key]:
            logger.warning(
                "pg_trgm is not installed in database %s: search runs without typo tolerance "
                "and 'did you mean'. Install postgresql-contrib and run migrate to enable it.",
                key,
            )
    return _trigram_state[key]


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


def bucket_selected(query: SearchQuery, low: Decimal | None, high: Decimal | None) -> bool:
    f = query.filters
    if f.price_min is None and f.price_max is None:
        return False
    return f.price_min == low and f.price_max == (high - CENT if high is not None else None)


class PostgresSearchBackend:
    name = "postgres"

    # --- matching ---------------------------------------------------------------------------

    def _matching(self, query: SearchQuery, *, skip: str | None = None) -> QuerySet[Product]:
        """Public products matching the text and every active filter except `skip` (a facet's
        own filter, so choosing a value does not empty that facet)."""
        qs = product_queryset_public()
        if query.terms:
            qs = qs.filter(search_vector=_tsquery(query.terms))
        f = query.filters
        if f.category is not None and skip != "category":
            qs = qs.filter(category__path__startswith=f.category.path)
        if f.sellers and skip != "seller":
            qs = qs.filter(seller__slug__in=f.sellers)
        if skip != "price":
            if f.price_min is not None:
                qs = qs.filter(search_price_min__gte=f.price_min)
            if f.price_max is not None:
                qs = qs.filter(search_price_min__lte=f.price_max)
        if query.rating_min is not None:
            qs = qs.filter(rating_avg__gte=query.rating_min)
        if f.in_stock:
            from inventory.selectors import product_in_stock_condition

            qs = qs.filter(product_in_stock_condition())
        if f.attributes:
            attrs = Attribute.objects.in_bulk(
                [spec.slug for spec in f.attributes], field_name="slug"
            )
            for spec in f.attributes:
                attribute = attrs.get(spec.slug)
                if attribute is None or skip == f"attr:{spec.slug}":
                    continue
                qs = qs.filter(_attribute_condition(attribute, spec))
        return qs

    def _ordered(self, qs: QuerySet[Product], query: SearchQuery) -> QuerySet[Product]:
        sort = query.sort
        if sort == SearchSort.RELEVANCE and query.terms:
            return qs.annotate(
                rank=SearchRank(F("search_vector"), _tsquery(query.terms), cover_density=True)
            ).order_by("-rank", "-id")
        if sort == SearchSort.PRICE_ASC:
            return qs.order_by(F("search_price_min").asc(nulls_last=True), "id")
        if sort == SearchSort.PRICE_DESC:
            return qs.order_by(F("search_price_min").desc(nulls_last=True), "-id")
        if sort == SearchSort.RATING:
            return qs.order_by("-rating_avg", "-rating_count", "-id")
        return qs.order_by(F("published_at").desc(nulls_last=True), "-id")

    def search(self, *, query: SearchQuery) -> SearchResult:
        matching = self._matching(query)
        ids = list(
            self._ordered(matching, query).values_list("id", flat=True)[
                query.offset : query.offset + query.page_size
            ]
        )
        total = matching.count()
        did_you_mean = None
        if total == 0 and query.terms:
            did_you_mean = self._did_you_mean(query)
        return SearchResult(
            product_ids=ids,
            total=total,
            facets=self._facets(query),
            engine=self.name,
            did_you_mean=did_you_mean,
        )

    # --- facets -----------------------------------------------------------------------------

    def _facets(self, query: SearchQuery) -> Facets:
        return Facets(
            categories=self._category_facet(query),
            prices=self._price_facet(query),
            sellers=self._seller_facet(query),
            attributes=self._attribute_facets(query),
        )

    def _category_facet(self, query: SearchQuery) -> tuple[FacetValue, ...]:
        counts = dict(
            self._matching(query, skip="category")
            .order_by()
            .values_list("category_id")
            .annotate(n=Count("id"))
        )
        if not counts:
            return ()
        categories = list(Category.objects.only("id", "parent_id", "path", "name", "slug"))
        path_of = {c.pk: c.path for c in categories}
        selected = query.filters.category

        def subtree_count(node: Category) -> int:
            return sum(n for cid, n in counts.items() if path_of.get(cid, "").startswith(node.path))

        if selected is None:
            shown = [c for c in categories if c.parent_id is None]
        else:
            shown = [selected] + [c for c in categories if c.parent_id == selected.pk]
        values = []
        for node in shown:
            n = subtree_count(node)
            is_selected = selected is not None and node.pk == selected.pk
            if n or is_selected:
                values.append(FacetValue(node.slug, node.name, n, is_selected))
        return tuple(values)

    def _price_facet(self, query: SearchQuery) -> tuple[FacetValue, ...]:
        aggregates = {}
        for i, (low, high) in enumerate(PRICE_BUCKETS):
            condition = Q(search_price_min__isnull=False)
            if low is not None:
                condition &= Q(search_price_min__gte=low)
            if high is not None:
                condition &= Q(search_price_min__lt=high)
            aggregates[f"b{i}"] = Count("id", filter=condition)
        counts = self._matching(query, skip="price").order_by().aggregate(**aggregates)
        return tuple(
            FacetValue(
                price_bucket_key(low, high - CENT if high is not None else None),
                price_bucket_label(low, high),
                counts[f"b{i}"],
                bucket_selected(query, low, high),
            )
            for i, (low, high) in enumerate(PRICE_BUCKETS)
            if counts[f"b{i}"] or bucket_selected(query, low, high)
        )

    def _seller_facet(self, query: SearchQuery) -> tuple[FacetValue, ...]:
        rows = (
            self._matching(query, skip="seller")
            .order_by()
            .values("seller__slug", "seller__name")
            .annotate(n=Count("id"))
            .order_by("-n", "seller__name")[:SELLER_FACET_LIMIT]
        )
        chosen = set(query.filters.sellers)
        return tuple(
            FacetValue(r["seller__slug"], r["seller__name"], r["n"], r["seller__slug"] in chosen)
            for r in rows
        )

    def _attribute_value_counts(
        self, products: QuerySet[Product], attribute_ids: list[int]
    ) -> dict[tuple[int, object], int]:
        rows = (
            VariantAttributeValue.objects.filter(
                variant__product__in=products.order_by().values("id"),
                variant__is_active=True,
                attribute_id__in=attribute_ids,
            )
            .values_list("attribute_id", "choice_id", "value_boolean")
            .annotate(n=Count("variant__product_id", distinct=True))
        )
        out: dict[tuple[int, object], int] = {}
        for attribute_id, choice_id, boolean, n in rows:
            out[(attribute_id, choice_id if choice_id is not None else boolean)] = n
        return out

    def _attribute_facets(self, query: SearchQuery) -> tuple[AttributeFacet, ...]:
        attributes = list(
            Attribute.objects.filter(
                is_filterable=True, type__in=[AttributeType.CHOICE, AttributeType.BOOLEAN]
            )
            .prefetch_related("choices")
            .order_by("name")
        )
        if not attributes:
            return ()
        chosen = {spec.slug: spec for spec in query.filters.attributes}
        selected_ids = [a.pk for a in attributes if a.slug in chosen]
        other_ids = [a.pk for a in attributes if a.slug not in chosen]
        counts = self._attribute_value_counts(self._matching(query), other_ids) if other_ids else {}
        for attribute in attributes:
            if attribute.pk in selected_ids:
                counts.update(
                    self._attribute_value_counts(
                        self._matching(query, skip=f"attr:{attribute.slug}"), [attribute.pk]
                    )
                )
        facets = []
        for attribute in attributes:
            spec = chosen.get(attribute.slug)
            picked = set(spec.values) if spec else set()
            if attribute.type == AttributeType.CHOICE:
                options = [
                    (c.slug, c.value, counts.get((attribute.pk, c.pk), 0))
                    for c in attribute.choices.all()
                ]
            else:
                options = [
                    ("true", "Yes", counts.get((attribute.pk, True), 0)),
                    ("false", "No", counts.get((attribute.pk, False), 0)),
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
        if not trigram_available():
            return None
        corrected = []
        with connection.cursor() as cursor:
            # `<%` uses the trigram index; its default threshold (0.6) misses most typos
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                [str(DID_YOU_MEAN_MIN_SIMILARITY)],
            )
            for term in query.terms:
                cursor.execute(
                    """
                    SELECT word, similarity(word, %s) AS score FROM (
                        SELECT regexp_split_to_table(lower(name), '[^[:alnum:]]+') AS word
                        FROM (
                            SELECT name FROM catalog_product
                            WHERE status = 'active' AND %s <%% lower(name)
                            ORDER BY word_similarity(%s, lower(name)) DESC LIMIT 50
                        ) candidates
                    ) words
                    WHERE word <> '' ORDER BY score DESC, word LIMIT 1
                    """,
                    [term, term, term],
                )
                row = cursor.fetchone()
                good = row is not None and row[1] >= DID_YOU_MEAN_MIN_SIMILARITY
                corrected.append(row[0] if good else term)
        if corrected == query.terms:
            return None
        suggestion = SearchQuery(text=" ".join(corrected), filters=query.filters)
        if not self._matching(suggestion).exists():
            return None
        return suggestion.text

    def suggest(self, *, prefix: str, limit: int) -> list[Suggestion]:
        terms = search_terms(prefix)
        if not terms:
            return []
        candidates = (
            product_queryset_public()
            .filter(search_vector=_tsquery(terms))
            .values("id")[:SUGGEST_CANDIDATES]
        )
        products = (
            Product.objects.filter(id__in=candidates)
            .annotate(rank=SearchRank(F("search_vector"), _tsquery(terms)))
            .order_by("-rank", "-rating_count", "-id")
            .values_list("name", "slug")[: limit * 3]
        )
        seen: set[str] = set()
        out: list[Suggestion] = []
        for name, slug in products:
            if name.lower() not in seen and len(out) < limit:
                seen.add(name.lower())
                out.append(Suggestion("product", name, slug))
        phrase = " ".join(terms)
        categories = Category.objects.filter(name__icontains=phrase).order_by("depth", "name")
        out.extend(Suggestion("category", c.name, c.slug) for c in categories[: max(2, limit // 2)])
        return out
