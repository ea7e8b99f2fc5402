from __future__ import annotations

from rest_framework import serializers

from sellers.models import SellerMember


class MembershipSerializer(serializers.ModelSerializer):
    seller_slug = serializers.CharField(source="seller.slug")
    seller_name = serializers.CharField(source="seller.name")
    seller_status = serializers.CharField(source="seller.status")

    class Meta:
        model = SellerMember
        fields = ["seller_slug", "seller_name", "seller_status", "role"]


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    is_staff = serializers.BooleanField()
    seller_memberships = MembershipSerializer(many=True)
