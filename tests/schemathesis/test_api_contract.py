"""The OpenAPI schema is the mobile team's contract: schemathesis generates requests for every
operation from it (valid and invalid data), sends them through the WSGI application as a
shopper and as a shop owner, and fails on any 5xx and on any response whose status, content
type or body the schema does not describe.

Not part of `make test` (marked `schemathesis`): `.ci/run` runs it with a time bound, and
`SCHEMATHESIS_MAX_EXAMPLES` (default 25) sets the examples per operation and role.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from sellers.models import MemberRole
from tests.factories import (
    ProductFactory,
    ProductVariantFactory,
    SellerMemberFactory,
    UserFactory,
)
from tests.factories.inventory import stock_with

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema():
    """The schema the API serves (drf-spectacular), sent through the WSGI application."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from shop.wsgi import application

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = application
    return loaded


schema = _schema()


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection():
    """As Django's test client does: a request must not close the test's connection (and with
    it the transaction that holds the test's data)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def identities(db):
    """A shopper and a shop owner with tokens, and a product the shop sells and stocks."""
    owner = SellerMemberFactory(role=MemberRole.OWNER)
    variant = ProductVariantFactory(
        product=ProductFactory(seller=owner.seller), price=Decimal("9.99")
    )
    stock_with(variant=variant, on_hand=20)
    _, shopper_token = api_token_create(user=UserFactory(), name="schemathesis")
    _, owner_token = api_token_create(user=owner.user, name="schemathesis")
    return {
        "shopper": {"Authorization": f"Token {shopper_token}"},
        "owner": {"Authorization": f"Token {owner_token}", "X-Seller-Id": str(owner.seller_id)},
    }


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_the_contract_for_shoppers_and_owners(case, identities):
    role = "owner" if case.path.startswith("/api/v1/seller/") else "shopper"
    headers = dict(identities[role])
    if case.path.startswith("/api/v1/auth/logout"):
        return  # it would sign the shared identity out for the rest of the run
    if case.headers and "X-Seller-Id" in case.headers and role == "owner":
        case.headers.pop("X-Seller-Id")
    case.call_and_validate(headers=headers, checks=CHECKS)
