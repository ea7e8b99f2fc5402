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


class _EventWithTags(ModelSerializerBuiltOnce):
    tags = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = OrderEvent
        fields = ["reason", "tags"]


def test_a_field_holding_a_child_field_gets_its_own_child_each_use():
    """ListField binds its `child` to itself: sharing the argument would leave every use's
    child pointing at whichever parent was built last."""
    first, second = _EventWithTags(), _EventWithTags()
    first_tags, second_tags = first.fields["tags"], second.fields["tags"]
    assert first_tags.child is not second_tags.child
    assert first_tags.child.parent is first_tags and second_tags.child.parent is second_tags
