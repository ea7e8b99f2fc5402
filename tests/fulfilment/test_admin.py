"""Staff see fulfilment records and override a seller's return decision through the services."""

from __future__ import annotations

import pytest

from fulfilment.models import ReturnStatus
from fulfilment.services import (
    ReturnLineSpec,
    ShipLine,
    return_reject,
    return_request_create,
    shipment_create,
)
from tests.factories import UserFactory
from tests.fulfilment.conftest import key

pytestmark = pytest.mark.django_db


def test_staff_override_a_rejected_return_and_see_the_records(placed, client):
    shipment = shipment_create(
        seller_order=placed.alpha_order,
        warehouse_id=placed.w_a1.pk,
        lines=[ShipLine(placed.a1_line.pk, 2)],
        carrier="sim",
        tracking_number="SIM000001",
        key=key(),
    )
    request = return_request_create(
        order=placed.order,
        seller_order_id=placed.alpha_order.pk,
        lines=[ReturnLineSpec(placed.a1_line.pk, 1)],
        reason="Broken",
        key=key(),
    )
    return_reject(return_request=request, reason="Looks fine to us")
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for url in (
        "/admin/fulfilment/shipment/",
        f"/admin/fulfilment/shipment/{shipment.pk}/change/",
        "/admin/fulfilment/returnrequest/",
        f"/admin/fulfilment/returnrequest/{request.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/fulfilment/returnrequest/",
        {"action": "approve_override", "_selected_action": [request.pk]},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ReturnStatus.APPROVED
    client.post(
        "/admin/fulfilment/returnrequest/",
        {"action": "receive_write_off", "_selected_action": [request.pk]},
    )
    request.refresh_from_db()
    assert request.status == ReturnStatus.RECEIVED
    assert request.lines.get().restocked is False
