"""The project's URLs plus uploaded media, so the browser test's live server can show product
images (Django serves media only under DEBUG, and tests run with DEBUG off)."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from shop.urls import urlpatterns as project_urlpatterns


def media(request, path):
    # MEDIA_ROOT is read per request: the test fixtures point it at a temporary directory.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    *project_urlpatterns,
    re_path(r"^media/(?P<path>.*)$", media),
]
