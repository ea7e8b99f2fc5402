from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from shop.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("shop.api_urls")),
    path("accounts/", include("accounts.urls")),
    path("seller/", include("sellers.portal.urls")),
    path("sellers/", include("sellers.urls")),
    path("cart/", include("cart.urls")),
    path("payments/", include("payments.urls")),
    path("reviews/", include("reviews.urls")),
    path("", include("fulfilment.urls")),
    path("", include("orders.urls")),
    path("search/", include("search.urls")),
    path("", include("catalog.urls")),
]

handler404 = "shop.core.api.not_found"
# an outage is a 503 with Retry-After, any other 500 the error shape under /api/
handler500 = "shop.core.outage.server_error"

if settings.DEBUG and not settings.AWS_STORAGE_BUCKET_NAME:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
