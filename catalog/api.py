"""Public catalog API: thin callers of `catalog.selectors` and, for the product list, of the
one listing read path (`search.query.listing_query_parse`, `search.services.listing_run`), the
same functions the storefront uses, so both faces show the same products at the same prices
in the same order."""

from __future__ import annotations

import dataclasses

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Category, Product
from catalog.selectors import (
    category_ancestors,
    category_children,
    category_get_by_slug,
    category_tree,
    product_get_public,
    seller_get_public,
    seller_queryset_public,
)
from catalog.serializers import (
    CategoryDetailSerializer,
    CategoryTreeSerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    SellerSerializer,
)
from search.base import ProductSort
from search.pages import ListingPages
from search.query import listing_query_parse
from sellers.models import Seller
from shop.core.api import ErrorSerializer, PageNumberPagination
from shop.core.pagination import COUNT_LIMIT, BoundedCountPaginator

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Unknown or hidden (JSON error shape).")
BAD_FILTER = OpenApiResponse(ErrorSerializer, description="Malformed filter: `fields` says which.")

PRODUCT_FILTER_PARAMETERS = [
    OpenApiParameter("category", str, description="Category slug; includes its whole subtree."),
    OpenApiParameter("price_min", OpenApiTypes.DECIMAL, description="Lowest `price_from`."),
    OpenApiParameter("price_max", OpenApiTypes.DECIMAL, description="Highest `price_from`."),
    OpenApiParameter(
        "seller",
        {"type": "array", "items": {"type": "string"}},
        description="Seller slug(s): repeat the parameter or separate with commas.",
    ),
    OpenApiParameter(
        "in_stock", bool, description="Only products with a variant available to buy."
    ),
    OpenApiParameter("q", str, description="Words to find, as `/api/v1/search/` finds them."),
    OpenApiParameter("rating", OpenApiTypes.DECIMAL, description="Minimum average rating, 0-5."),
    OpenApiParameter(
        "sort",
        str,
        enum=[s.value for s in ProductSort],
        description="Order (default: relevance with `q`, else newest; relevance needs `q`).",
    ),
]

PUBLIC = [AllowAny]


class CategoryTreeView(generics.GenericAPIView):
    permission_classes = PUBLIC
    serializer_class = CategoryTreeSerializer
    pagination_class = None
    queryset = Category.objects.none()  # for the schema generator only; reads use selectors

    @extend_schema(
        tags=["catalog"],
        summary="The category tree",
        description="Root categories with their children nested to any depth (one query).",
        responses=CategoryTreeSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        roots = category_tree()
        return Response(self.get_serializer(roots, many=True).data)


class CategoryDetailView(generics.GenericAPIView):
    permission_classes = PUBLIC
    serializer_class = CategoryDetailSerializer
    pagination_class = None
    queryset = Category.objects.none()

    @extend_schema(
        tags=["catalog"],
        summary="One category with breadcrumbs and children",
        responses={200: CategoryDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        category = category_get_by_slug(slug=slug)
        # read by CategoryDetailSerializer
        category.breadcrumbs = category_ancestors(category=category)  # type: ignore[attr-defined]
        category.children_list = list(category_children(category=category))  # type: ignore[attr-defined]
        return Response(self.get_serializer(category).data)


class ProductListPagination(PageNumberPagination):
    """`count` stops at `COUNT_LIMIT` (shop.core.pagination): counting a million rows per page
    request would cost more than the page. `count_capped` says more products match (and
    pages past the limit are not served)."""

    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data: list) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.count_capped
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = [*paginated.get("required", []), "count_capped"]
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": (
                f"True when more than `count` products match: the count stops at {COUNT_LIMIT:,} "
                "and pages past it are not served (narrow the list with filters)."
            ),
        }
        return paginated


@extend_schema(
    tags=["catalog"],
    summary="Products, filtered and sorted like the storefront",
    description=(
        "Public products (active, approved seller, an active variant). Besides the listed "
        "parameters, filter by any filterable attribute: `attr_<slug>=<value>` (choice slugs, "
        "`true`/`false` for yes/no attributes, exact text; repeat or comma-separate for OR) and "
        "`attr_<slug>_min` / `attr_<slug>_max` for number attributes, e.g. "
        "`?attr_colour=black,navy&attr_screen-size_min=14`. Unknown category: 404."
    ),
    parameters=PRODUCT_FILTER_PARAMETERS,
    responses={200: ProductListSerializer(many=True), 400: BAD_FILTER, 404: NOT_FOUND},
)
class ProductListView(generics.ListAPIView):
    permission_classes = PUBLIC
    serializer_class = ProductListSerializer
    filter_backends: list = []
    pagination_class = ProductListPagination

    def get_queryset(self) -> ListingPages:  # type: ignore[override]
        query = listing_query_parse(
            params=self.request.query_params, page_size=self.paginator.page_size
        )
        # the list answers no facets: the engine counts the total alone
        return ListingPages(dataclasses.replace(query, facets=False))


class ProductDetailView(generics.GenericAPIView):
    permission_classes = PUBLIC
    serializer_class = ProductDetailSerializer
    pagination_class = None
    queryset = Product.objects.none()

    @extend_schema(
        tags=["catalog"],
        summary="One product with variants (current prices), images and attributes",
        responses={200: ProductDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        product = product_get_public(slug=slug)
        return Response(self.get_serializer(product).data)


@extend_schema(tags=["sellers"], summary="Approved sellers")
class SellerListView(generics.ListAPIView):
    permission_classes = PUBLIC
    serializer_class = SellerSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Seller]:
        return seller_queryset_public().order_by("name", "id")


class SellerDetailView(generics.GenericAPIView):
    permission_classes = PUBLIC
    serializer_class = SellerSerializer
    pagination_class = None
    queryset = Seller.objects.none()

    @extend_schema(
        tags=["sellers"],
        summary="One approved seller",
        responses={200: SellerSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(seller_get_public(slug=slug)).data)
