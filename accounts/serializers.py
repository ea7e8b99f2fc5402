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
