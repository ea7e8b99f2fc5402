"""The REST API, version 1. Each app contributes its routes through its `api_urls` module."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# The interactive docs are served from this site (drf-spectacular-sidecar), but Swagger UI and
# ReDoc style themselves inline, ReDoc runs a worker from a blob and its bundle shows a logo
# from its CDN (missing offline, harmlessly): only these two pages widen the Content Security
# Policy, and only for that.
docs_csp = csp_update(
    {
        "style-src": ["'unsafe-inline'"],
        "worker-src": ["blob:"],
        "img-src": ["https://cdn.redoc.ly"],
    }
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's static files: no CDN, offline.
    path(
        "docs/",
        docs_csp(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", template_name="api/swagger_ui.html"
            )
        ),
        name="api-docs",
    ),
    path(
        "redoc/",
        docs_csp(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("", include("accounts.api_urls")),
    path("", include("search.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("inventory.api_urls")),
    path("", include("cart.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("sellers.api_urls")),
    path("", include("reviews.api_urls")),
    path("", include("fulfilment.api_urls")),
    path("", include("purchasing.api_urls")),
]
