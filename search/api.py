"""API search: `/api/v1/search/` and `/api/v1/search/suggest/`. Same parser, same service and
same product loader as the storefront page; errors use the one API error shape."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from catalog.serializers import NULLABLE_URI, storage_url
from search.base import ProductSort
from search.pages import search_products_load
from search.query import listing_query_parse, search_pages_reachable
from search.services import listing_run, search_suggest
from shop.core.api import ErrorSerializer
from shop.core.errors import ValidationError

SUGGEST_MIN_CHARS = 2
SUGGEST_MAX_CHARS = 100


class SearchProductSerializer(serializers.Serializer):
    """The same fields, under the same names, as a product card of `/api/v1/products/`
    (`rating`, `thumbnail`), plus `price_was`."""

    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    brand = serializers.CharField()
    price_from = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    price_was = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    currency = serializers.SerializerMethodField()
    rating = serializers.DecimalField(source="rating_avg", max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()
    thumbnail = serializers.SerializerMethodField()
    seller = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()

    def get_currency(self, obj) -> str:
        return settings.SHOP_CURRENCY

    @extend_schema_field(NULLABLE_URI)
    def get_thumbnail(self, obj) -> str | None:
        images = getattr(obj, "image_list", None) or []
        if not images:
            return None
        return storage_url(self.context, (images[0].thumbnail or images[0].image).name)

    def get_seller(self, obj) -> dict[str, str]:
        return {"slug": obj.seller.slug, "name": obj.seller.name}

    def get_category(self, obj) -> dict[str, str]:
        return {"slug": obj.category.slug, "name": obj.category.name}


_facet_value = inline_serializer(
    "SearchFacetValue",
    fields={
        "value": serializers.CharField(),
        "label": serializers.CharField(),
        "count": serializers.IntegerField(),
        "selected": serializers.BooleanField(),
    },
    many=True,
)

SearchResponseSerializer = inline_serializer(
    "SearchResponse",
    fields={
        "count": serializers.IntegerField(),
        "count_is_estimate": serializers.BooleanField(
            help_text="`count` is estimated from a sample (a very broad query): show 'about'."
        ),
        "facets_sampled": serializers.BooleanField(
            help_text="Facet counts are estimated from a sample (show them as 'about')."
        ),
        "next": serializers.URLField(allow_null=True, help_text="The next page, as on lists."),
        "previous": serializers.URLField(allow_null=True),
        "page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "engine": serializers.ChoiceField(choices=["postgres", "opensearch"]),
        "did_you_mean": serializers.CharField(allow_null=True),
        "results": SearchProductSerializer(many=True),
        "facets": inline_serializer(
            "SearchFacets",
            fields={
                "categories": _facet_value,
                "prices": _facet_value,
                "sellers": _facet_value,
                "attributes": inline_serializer(
                    "SearchAttributeFacet",
                    fields={
                        "slug": serializers.CharField(),
                        "name": serializers.CharField(),
                        "values": _facet_value,
                    },
                    many=True,
                ),
            },
        ),
    },
)

SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="Words to find; the last one matches as a prefix."),
    OpenApiParameter("category", str, description="Category slug (includes its subcategories)."),
    OpenApiParameter("price_min", str, description="Lowest price the shopper pays (decimal)."),
    OpenApiParameter("price_max", str, description="Highest price the shopper pays (decimal)."),
    OpenApiParameter("seller", str, many=True, description="Seller slugs (repeat or comma)."),
    OpenApiParameter("rating", str, description="Minimum average rating, 0 to 5."),
    OpenApiParameter("in_stock", str, description="1 for products that can be bought now."),
    OpenApiParameter(
        "attr_<slug>", str, description="Attribute values; attr_<slug>_min/_max for numbers."
    ),
    OpenApiParameter(
        "sort",
        str,
        enum=[s.value for s in ProductSort],
        description="Default: relevance with `q` (refused without it), else newest.",
    ),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="1 to 100."),
]


class SearchView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="search_products",
        summary="Search products with filters and facets",
        parameters=SEARCH_PARAMETERS,
        responses={
            200: SearchResponseSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Malformed parameter: `fields` says which."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        query = listing_query_parse(
            params=request.query_params, page_size=settings.CATALOG_PAGE_SIZE
        )
        result = listing_run(query=query)
        products = search_products_load(result=result)
        pages = search_pages_reachable(total=result.total, page_size=query.page_size)
        url = request.build_absolute_uri()
        return Response(
            {
                "count": result.total,
                "count_is_estimate": result.total_is_estimate,
                "facets_sampled": result.facets.sampled,
                "next": replace_query_param(url, "page", query.page + 1)
                if query.page < pages
                else None,
                "previous": (
                    None
                    if query.page <= 1
                    else remove_query_param(url, "page")
                    if query.page == 2
                    else replace_query_param(url, "page", query.page - 1)
                ),
                "page": query.page,
                "page_size": query.page_size,
                "engine": result.engine,
                "did_you_mean": result.did_you_mean,
                "results": SearchProductSerializer(
                    products, many=True, context={"request": request}
                ).data,
                "facets": {
                    key: value for key, value in asdict(result.facets).items() if key != "sampled"
                },
            }
        )


class SuggestView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="search_suggest",
        summary="Autocomplete: products and categories for a prefix",
        parameters=[OpenApiParameter("q", str, required=True, description="2 to 100 characters.")],
        responses={
            200: inline_serializer(
                "SearchSuggestions",
                fields={
                    "suggestions": inline_serializer(
                        "SearchSuggestion",
                        fields={
                            "kind": serializers.ChoiceField(choices=["product", "category"]),
                            "label": serializers.CharField(),
                            "slug": serializers.CharField(),
                            "url": serializers.CharField(),
                        },
                        many=True,
                    )
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        prefix = request.query_params.get("q", "").strip()
        if not SUGGEST_MIN_CHARS <= len(prefix) <= SUGGEST_MAX_CHARS:
            raise ValidationError(
                "The prefix has the wrong length.",
                fields={"q": [f"Type {SUGGEST_MIN_CHARS} to {SUGGEST_MAX_CHARS} characters."]},
            )
        suggestions = search_suggest(prefix=prefix)
        return Response(
            {
                "suggestions": [
                    {
                        **asdict(s),
                        "url": reverse(
                            "catalog:product" if s.kind == "product" else "catalog:category",
                            args=[s.slug],
                        ),
                    }
                    for s in suggestions
                ]
            }
        )
