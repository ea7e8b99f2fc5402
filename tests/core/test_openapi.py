from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS


def test_openapi_schema_validates_without_a_single_warning(tmp_path):
    """Every API view documents itself: drf-spectacular refuses (CommandError) on any warning, so
    a new endpoint without schema information fails here, not in a mobile developer's client."""
    GENERATOR_STATS.reset()  # warnings are reported once per process; count them afresh
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    assert "    Error:" in schema  # the one error shape is a shared component


def test_the_schema_says_which_urls_may_be_null_and_that_every_error_has_the_error_shape():
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    components = document["components"]["schemas"]

    assert components["Seller"]["properties"]["logo"]["nullable"] is True
    assert components["ProductList"]["properties"]["thumbnail"]["nullable"] is True
    assert components["StockMovement"]["properties"]["actor"]["nullable"] is True
    for methods in document["paths"].values():
        for operation in methods.values():
            error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}


def test_a_url_that_matches_no_api_route_is_a_404_in_the_error_shape(client):
    response = client.get(f"/api/v1/seller/stock/{10**30}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_api_docs_load_every_asset_from_this_site(client, name):
    """Swagger UI and ReDoc come from drf-spectacular-sidecar's static files: no CDN, no web
    fonts, no inline script or style (they work offline and under a strict CSP)."""
    html = client.get(reverse(name)).content.decode()
    assets = _asset_urls(html)
    assert assets
    assert not [url for url in assets if "//" in url], assets
    assert "<style" not in html
    assert not re.search(r"<script>", html)
    for url in assets:
        path = url.split("?")[0]
        if path.startswith(settings.STATIC_URL):
            assert finders.find(path.removeprefix(settings.STATIC_URL)), path


def test_swagger_ui_script_is_served_separately(client):
    response = client.get(reverse("api-docs") + "?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert reverse("api-schema") in response.content.decode()
