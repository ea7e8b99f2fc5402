"""The one API error shape: {"code", "message", "fields"?, "details"?} for every kind of error."""

from __future__ import annotations

import pytest

from accounts.services import api_token_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api_urls")]

SHAPE_KEYS = {"code", "message", "fields", "details"}


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) <= SHAPE_KEYS
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_service_error_keeps_its_code_status_fields_and_details(api_client):
    body = _error(api_client.get("/service/stock/"), 400)
    assert body == {
        "code": "insufficient_stock",
        "message": "Only 2 left of SKU-1.",
        "fields": {"quantity": ["At most 2."]},
        "details": {"sku": "SKU-1", "available": 2},
    }


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("conflict", 409, "conflict", "The order was already paid."),
        ("missing", 404, "not_found", "No such order."),
    ],
)
def test_service_error_subclasses_map_to_their_status(api_client, kind, status, code, message):
    assert _error(api_client.get(f"/service/{kind}/"), status) == {"code": code, "message": message}


def test_serializer_errors_are_400_with_every_field_listed(api_client):
    response = api_client.post(
        "/validate/",
        {"email": "not-an-email", "lines": [{"sku": "A", "quantity": 0}, {"quantity": 1}]},
        format="json",
    )
    body = _error(response, 400)
    assert body["code"] == "invalid"
    assert body["message"] == "Some fields are invalid."
    assert body["fields"]["email"] == ["Enter a valid email address."]
    # Nested errors are flattened to readable strings under the top-level field, prefixed with
    # the line's index and the nested field, so a client can point at the exact input.
    assert body["fields"]["lines"] == [
        "0: quantity: Ensure this value is greater than or equal to 1.",
        "1: sku: This field is required.",
    ]
    assert "details" not in body


def test_object_level_validation_error_is_reported_under_non_field_errors(api_client):
    response = api_client.post(
        "/validate/",
        {"email": "x@blocked.example", "lines": [{"sku": "A", "quantity": 1}]},
        format="json",
    )
    body = _error(response, 400)
    assert body["fields"] == {"non_field_errors": ["This customer may not order."]}


def test_malformed_json_is_a_400_parse_error(api_client):
    response = api_client.generic(
        "POST", "/validate/", "{not json", content_type="application/json"
    )
    body = _error(response, 400)
    assert body["code"] == "parse_error"
    assert "fields" not in body


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [("/django/404/", 404, "not_found"), ("/django/denied/", 403, "permission_denied")],
)
def test_django_exceptions_are_translated(api_client, path, status, code):
    assert _error(api_client.get(path), status)["code"] == code


def test_anonymous_request_is_401_not_authenticated(api_client):
    response = api_client.get("/private/")
    assert _error(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_bad_token_is_401_authentication_failed(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert _error(api_client.get("/private/"), 401)["code"] == "authentication_failed"


def test_signed_in_but_not_allowed_is_403_permission_denied(api_client):
    _, token = api_token_create(user=UserFactory())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/private/").status_code == 200
    assert _error(api_client.get("/staff/"), 403)["code"] == "permission_denied"


def test_token_authenticates_its_own_user_and_not_an_inactive_one(api_client):
    """The token lookup is one prepared statement (shop.core.authentication): the
    request is the token's user, and a deactivated user's token is refused."""
    user = UserFactory()
    _, token = api_token_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/private/").json()["user"] == user.email
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _error(api_client.get("/private/"), 401)["code"] == "authentication_failed"


def test_wrong_method_is_405_method_not_allowed(api_client):
    assert _error(api_client.delete("/validate/"), 405)["code"] == "method_not_allowed"
