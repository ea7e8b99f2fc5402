"""The REST API, version 1. Each app contributes its routes through its `api_urls` module."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("accounts.api_urls")),
    path("", include("catalog.search.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("inventory.api_urls")),
    path("", include("cart.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("payments.api_urls")),
]
