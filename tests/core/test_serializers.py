"""shop.core.api.ModelSerializerBuiltOnce: built once per class, used like DRF's own."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from orders.models import OrderEvent, OrderStatus
from orders.serializers import OrderEventSerializer
from shop.core.api import ModelSerializerBuiltOnce

pytestmark = pytest.mark.django_db


class _PlainEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = OrderEventSerializer.Meta.fields


def test_output_and_fields_are_drfs_and_each_use_has_its_own_fields():
    assert issubclass(OrderEventSerializer, ModelSerializerBuiltOnce)
    event = OrderEvent(order_id=1, from_status="", to_status=OrderStatus.PAID, reason="why")
    first, second = OrderEventSerializer(event), OrderEventSerializer(event)
    assert first.data == second.data == _PlainEventSerializer(event).data
    assert {n: type(f) for n, f in first.fields.items()} == {
        n: type(f) for n, f in _PlainEventSerializer().fields.items()
    }
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
