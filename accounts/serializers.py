from __future__ import annotations

from rest_framework import serializers

from accounts.models import Address
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


class SignupSerializer(serializers.Serializer):
    """Input types only; `accounts.services.user_signup` checks the rest."""

    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SignupResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    email = serializers.EmailField()
    full_name = serializers.CharField()


class AddressInputSerializer(serializers.Serializer):
    """Types and lengths; `accounts.services.address_clean` checks country, postal code,
    region and phone (one parser for every face)."""

    full_name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="State (US: IL, CA, ...)."
    )
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. DE.")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "full_name",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "is_default",
            "latitude",
            "longitude",
        ]
