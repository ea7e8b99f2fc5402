from django.urls import path

from catalog import api

urlpatterns = [
    path("categories/", api.CategoryTreeView.as_view(), name="api-categories"),
    path("categories/<slug:slug>/", api.CategoryDetailView.as_view(), name="api-category"),
    path("products/", api.ProductListView.as_view(), name="api-products"),
    path("products/<slug:slug>/", api.ProductDetailView.as_view(), name="api-product"),
    path("sellers/", api.SellerListView.as_view(), name="api-sellers"),
    path("sellers/<slug:slug>/", api.SellerDetailView.as_view(), name="api-seller"),
]
