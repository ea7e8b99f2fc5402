"""The request guard: NUL characters and deep JSON are a 400 on every face, before any view."""

from __future__ import annotations

import pytest

from shop.core.guard import JSON_MAX_DEPTH, json_depth

pytestmark = pytest.mark.django_db


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[", "b": [1, {"c": "\\"]]"}]}') == 3
    assert json_depth(b"7") == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/?q=a%00b",
        "/api/v1/products/?a%00b=1",
        "/api/v1/products/a%00b/",
        "/search/?q=a%00b",
        "/c/a%00b/",
        "/p/a%00b/",
    ],
)
def test_nul_in_the_path_or_query_is_a_400(client, path):
    response = client.get(path)

    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json()["code"] == "invalid"


def test_nul_in_a_form_field_is_a_400(client):
    response = client.post("/accounts/login/", {"username": "a\x00@example.com", "password": "x"})

    assert response.status_code == 400


def test_escaped_nul_in_json_is_a_400_but_an_escaped_backslash_is_text(api_client):
    refused = api_client.post(
        "/api/v1/auth/token/",
        b'{"username": "a\\u0000b", "password": "x"}',
        content_type="application/json",
    )
    allowed = api_client.post(
        "/api/v1/auth/token/",
        b'{"username": "a\\\\u0000b", "password": "x"}',
        content_type="application/json",
    )

    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    assert "NUL" in refused.json()["message"]
    assert allowed.status_code == 400 and "NUL" not in allowed.json()["message"]


@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_a_400_even_unauthenticated(api_client, depth):
    body = b"[" * depth + b"]" * depth

    response = api_client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_json_within_the_depth_limit_passes_the_guard(api_client):
    nested = b'{"username": ' + b"[" * (JSON_MAX_DEPTH - 1) + b"]" * (JSON_MAX_DEPTH - 1) + b"}"

    response = api_client.post("/api/v1/auth/token/", nested, content_type="application/json")

    assert response.status_code == 400
    assert "nests" not in response.json()["message"]


def test_a_nul_in_a_header_is_a_400(client):
    response = client.get("/", HTTP_X_SELLER_ID="1\x00")

    assert response.status_code == 400


def test_a_body_past_the_request_limit_is_a_413_before_any_view(api_client, settings):
    settings.MAX_REQUEST_BYTES = 1000

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "x" * 2000, "password": "y"}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "invalid"
