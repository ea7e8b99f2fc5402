from django.urls import path

from catalog import api, seller_api

urlpatterns = [
    path("categories/", api.CategoryTreeView.as_view(), name="api-categories"),
    path("categories/<slug:slug>/", api.CategoryDetailView.as_view(), name="api-category"),
    path("products/", api.ProductListView.as_view(), name="api-products"),
    path("products/<slug:slug>/", api.ProductDetailView.as_view(), name="api-product"),
    path("sellers/", api.SellerListView.as_view(), name="api-sellers"),
    path("sellers/<slug:slug>/", api.SellerDetailView.as_view(), name="api-seller"),
    # the seller's own catalog (X-Seller-Id)
    path("seller/products/", seller_api.SellerProductListView.as_view(), name="seller-products"),
    path(
        "seller/products/<int:pk>/",
        seller_api.SellerProductDetailView.as_view(),
        name="seller-product",
    ),
    path(
        "seller/products/<int:pk>/publish/",
        seller_api.SellerProductStatusView.as_view(action_name="publish"),
        name="seller-product-publish",
    ),
    path(
        "seller/products/<int:pk>/archive/",
        seller_api.SellerProductStatusView.as_view(action_name="archive"),
        name="seller-product-archive",
    ),
    path(
        "seller/products/<int:pk>/variants/",
        seller_api.SellerVariantCreateView.as_view(),
        name="seller-product-variants",
    ),
    path(
        "seller/variants/<int:pk>/",
        seller_api.SellerVariantDetailView.as_view(),
        name="seller-variant",
    ),
]
