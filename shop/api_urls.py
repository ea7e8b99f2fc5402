"""The REST API, version 1. Each app contributes its routes through its `api_urls` module."""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.api import TokenObtainView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's static files: no CDN, offline.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("", include("accounts.api_urls")),
    path("", include("catalog.search.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("inventory.api_urls")),
    path("", include("cart.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("payments.api_urls")),
]
