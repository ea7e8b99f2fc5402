from __future__ import annotations

from rest_framework import serializers

from accounts.models import Address
from sellers.models import SellerMember
from shop.core.fields import max_length_of


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
    email_verified = serializers.BooleanField()
    two_factor_enabled = serializers.BooleanField()
    seller_memberships = MembershipSerializer(many=True)


# --- account and token requests (every text bounded: a 100k-character value is a 400) -----------

EMAIL_MAX = 254
PASSWORD_MAX = 4096


def _password(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=PASSWORD_MAX, trim_whitespace=False, style={"input_type": "password"}, **kwargs
    )


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=EMAIL_MAX, help_text="The email address.")
    password = _password()
    otp = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        help_text="The current code from the authenticator app, when two-factor is on.",
    )
    device = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="A name for this device."
    )


class TokenSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Identifies the token in the list (not the token).")
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown once.")
    expiry = serializers.DateTimeField(allow_null=True)


class TokenListItemSerializer(serializers.Serializer):
    id = serializers.CharField(source="token_key")
    name = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField(help_text="The token of this request.")


class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password()
    new_password = _password()


class EmailSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=EMAIL_MAX)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=100)
    new_password = _password()


class LinkTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000, help_text="The token from the emailed link.")


class EmailChangeSerializer(serializers.Serializer):
    new_email = serializers.CharField(max_length=EMAIL_MAX)
    password = _password()


class PasswordSerializer(serializers.Serializer):
    password = _password()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class SignupSerializer(serializers.Serializer):
    """Input types only; `accounts.services.user_sign_up` checks the rest."""

    email = serializers.CharField(max_length=EMAIL_MAX)
    password = _password(write_only=True)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    device = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="A name for this device."
    )


class SignupResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    email = serializers.EmailField()
    full_name = serializers.CharField()


def _address_text(name: str, **options) -> serializers.CharField:
    """A text field as long as the Address column it fills."""
    return serializers.CharField(max_length=max_length_of(Address, name), **options)


class AddressInputSerializer(serializers.Serializer):
    """Types and lengths; `accounts.services.address_clean` checks country, postal code,
    region and phone (one parser for every face)."""

    full_name = _address_text("full_name")
    line1 = _address_text("line1")
    line2 = _address_text("line2", required=False, allow_blank=True)
    city = _address_text("city")
    region = _address_text(
        "region", required=False, allow_blank=True, help_text="State (US: IL, CA, ...)."
    )
    postal_code = _address_text("postal_code", required=False, allow_blank=True)
    country = _address_text("country", help_text="ISO 3166-1 alpha-2, e.g. DE.")
    phone = _address_text("phone", required=False, allow_blank=True)


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
