from __future__ import annotations

from django.core.management import call_command
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
