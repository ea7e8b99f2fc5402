"""The REST API, version 1. Each app contributes its routes through its `api_urls` module."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# The interactive docs load Swagger UI and Redoc from their CDN and style themselves inline;
# only these two pages widen the Content Security Policy for it (the Swagger page's own
# script is a separate file: SpectacularSwaggerSplitView).
DOCS_CDN = "https://cdn.jsdelivr.net"
docs_csp = csp_update(
    {
        "script-src": [DOCS_CDN],
        "style-src": [DOCS_CDN, "https://fonts.googleapis.com", "'unsafe-inline'"],
        "font-src": ["https://fonts.gstatic.com"],
        "img-src": [DOCS_CDN, "https://cdn.redoc.ly"],
        "worker-src": ["blob:"],
    }
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("", include("accounts.api_urls")),
    path("", include("catalog.search.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("inventory.api_urls")),
    path("", include("cart.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("payments.api_urls")),
]
