"""Accounts over the API: sign up, tokens (per device, expiring, revocable), who am I,
passwords, email verification and change, closing the account, and the address book. Thin
callers of accounts.services and accounts.selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import Address, ApiToken, User
from accounts.selectors import (
    address_get_for_user,
    address_list_for_user,
    api_tokens_for_user,
)
from accounts.serializers import (
    AddressInputSerializer,
    AddressSerializer,
    EmailChangeSerializer,
    EmailSerializer,
    LinkTokenSerializer,
    MeSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordSerializer,
    SignupResponseSerializer,
    SignupSerializer,
    TokenListItemSerializer,
    TokenObtainSerializer,
    TokenSerializer,
)
from sellers.selectors import seller_memberships_for_user
from shop.core.api import ErrorSerializer
from shop.core.clientip import client_ip
from shop.core.errors import ValidationError

SENT = "If that address has an account, we have sent it an email."
SIGN_IN_FAILED = "Unable to sign in with these credentials."
ADDRESS_EXAMPLE = {
    "full_name": "Ada Lovelace",
    "line1": "Invalidenstraße 117",
    "line2": "",
    "city": "Berlin",
    "region": "",
    "postal_code": "10115",
    "country": "DE",
    "phone": "+49 30 2093 0",
}


def _valid(serializer_class, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _token_body(instance: ApiToken, token: str) -> dict[str, Any]:
    return TokenSerializer(
        {"id": instance.token_key, "token": token, "expiry": instance.expiry}
    ).data


@extend_schema(tags=["auth"])
class TokenObtainView(APIView):
    """POST `username` (the email address) and `password` (and `otp` when two-factor is on);
    returns a new token for this device, `{"id", "token", "expiry"}`. Send it as
    `Authorization: Token <token>`. Repeated failures lock the account and the client address
    out for a while (429 `rate_limited`, `Retry-After`), whether the account exists or not."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Exchange email and password for an API token",
        request=TokenObtainSerializer,
        responses={200: TokenSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(TokenObtainSerializer, request)
        # the Django request: django-axes marks it, and its middleware answers a lockout
        user = authenticate(
            request._request, username=data["username"].strip().lower(), password=data["password"]
        )
        if user is None or not user.is_active:
            raise ValidationError(SIGN_IN_FAILED)
        if services.two_factor_device(user=user) is not None:
            if not data.get("otp"):
                raise ValidationError(
                    "Enter the code from your authenticator app.",
                    fields={"otp": ["Enter the code from your authenticator app."]},
                )
            services.two_factor_code_check(user=user, code=data["otp"])
        instance, token = services.api_token_create(user=user, name=data.get("device", ""))
        return Response(_token_body(instance, token))


@extend_schema(tags=["auth"])
class TokenListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="My API tokens", responses=TokenListItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        current = request.auth.token_key if isinstance(request.auth, ApiToken) else None
        tokens = [
            {f: getattr(t, f) for f in ("token_key", "name", "created", "expiry")}
            | {"current": t.token_key == current}
            for t in api_tokens_for_user(user=request.user)
        ]
        return Response(TokenListItemSerializer(tokens, many=True).data)


@extend_schema(tags=["auth"])
class TokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Revoke one of my tokens", responses={204: None})
    def delete(self, request: Request, token_id: str) -> Response:
        services.api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Sign this device out (revokes the token of the request)",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            services.api_token_revoke(user=request.user, token_id=request.auth.token_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class LogoutAllView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Revoke all my tokens", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.api_tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change my password (revokes every token; answers a new one for this device)",
        request=PasswordChangeSerializer,
        responses={200: TokenSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(PasswordChangeSerializer, request)
        name = request.auth.name if isinstance(request.auth, ApiToken) else "password change"
        services.password_change(
            user=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
        )
        instance, token = services.api_token_create(user=request.user, name=name)
        return Response(_token_body(instance, token))


@extend_schema(tags=["auth"])
class PasswordResetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Email a password reset link (same answer for every address; rate-limited)",
        request=EmailSerializer,
        responses={202: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(EmailSerializer, request)
        services.password_reset_request(email=data["email"], client=client_ip(request=request))
        return Response({"message": SENT}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Set a new password with the uid and token from the reset email",
        request=PasswordResetConfirmSerializer,
        responses={200: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(PasswordResetConfirmSerializer, request)
        services.password_reset_confirm(
            uid=data["uid"], token=data["token"], new_password=data["new_password"]
        )
        return Response({"message": "Your password was changed. Sign in with it."})


@extend_schema(tags=["auth"])
class EmailVerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Confirm my email address with the token from the email",
        request=LinkTokenSerializer,
        responses={200: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        services.email_verify(token=_valid(LinkTokenSerializer, request)["token"])
        return Response({"message": "Your email address is confirmed."})


@extend_schema(tags=["auth"])
class EmailVerifyResendView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Send the confirmation email again",
        request=None,
        responses={202: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        services.email_verification_resend(user=request.user, client=client_ip(request=request))
        return Response({"message": "We have sent you an email."}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["auth"])
class EmailChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Ask to change my email address (a link goes to the new address)",
        request=EmailChangeSerializer,
        responses={202: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(EmailChangeSerializer, request)
        services.email_change_request(
            user=request.user,
            new_email=data["new_email"],
            password=data["password"],
            client=client_ip(request=request),
        )
        return Response(
            {"message": "Follow the link we sent to the new address."},
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=["auth"])
class EmailChangeConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Confirm the new email address with the token from the email",
        request=LinkTokenSerializer,
        responses={200: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        services.email_change_confirm(token=_valid(LinkTokenSerializer, request)["token"])
        return Response({"message": "Your email address was changed. Sign in again."})


class SignupView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=["auth"],
        summary="Sign up: create a shopper account and get its API token",
        description=(
            "The email must be new; the password passes the same checks as the storefront's "
            "sign-up form (length, not common, not all digits, not like the email). Errors "
            "come back per field (`fields.email`, `fields.password`). The token is this "
            "device's (it expires and can be revoked like any other); a verification email "
            "goes to the address."
        ),
        request=SignupSerializer,
        responses={201: SignupResponseSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "New shopper",
                request_only=True,
                value={
                    "email": "ada@example.com",
                    "password": "correct-horse-battery",
                    "full_name": "Ada Lovelace",
                },
            ),
            OpenApiExample(
                "Created",
                response_only=True,
                status_codes=["201"],
                value={
                    "token": "2c9a1e6b0f5d4c8a9e3b7d1f6a2c4e8b0d9f7a5c3e1b6d4f8a2c0e9b7d5f3a1c",
                    "email": "ada@example.com",
                    "full_name": "Ada Lovelace",
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = services.user_sign_up(
            email=values["email"],
            password=values["password"],
            full_name=values.get("full_name", ""),
        )
        _, token = services.api_token_create(user=user, name=values.get("device", "") or "app")
        return Response(
            {"token": token, "email": user.email, "full_name": user.full_name},
            status=status.HTTP_201_CREATED,
        )


class MeView(GenericAPIView):
    """The signed-in user (token or session) and the sellers they act for."""

    permission_classes = [IsAuthenticated]
    serializer_class = MeSerializer
    pagination_class = None
    queryset = User.objects.none()  # for the schema generator only

    @extend_schema(tags=["auth"], summary="Who am I", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = seller_memberships_for_user(user=user)
        return Response(
            self.get_serializer(
                {
                    "email": user.email,
                    "full_name": user.full_name,
                    "is_staff": user.is_staff,
                    "email_verified": user.email_verified_at is not None,
                    "two_factor_enabled": services.two_factor_device(user=user) is not None,
                    "seller_memberships": memberships,
                }
            ).data
        )


@extend_schema(tags=["auth"])
class AccountDeleteView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Close my account (erases my personal data; orders stay)",
        request=PasswordSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        services.account_delete(
            user=request.user, password=_valid(PasswordSerializer, request)["password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["addresses"])
class AddressListView(generics.ListAPIView):
    """My address book, the default first."""

    permission_classes = [IsAuthenticated]
    serializer_class = AddressSerializer
    queryset = Address.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        return address_list_for_user(user=self.request.user)

    @extend_schema(
        tags=["addresses"],
        summary="Add an address (the first one becomes the default)",
        description=(
            "`country` is an ISO 3166-1 alpha-2 code; the postal code (and the state or region, "
            "where the country has a list) must match the country's format where it is known; "
            "`phone` is checked and stored as E.164 (+4930...). Errors come back per field."
        ),
        request=AddressInputSerializer,
        responses={201: AddressSerializer, 400: ErrorSerializer},
        examples=[OpenApiExample("A Berlin address", value=ADDRESS_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = AddressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.address_create(user=request.user, **data.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["addresses"], summary="One of my addresses", responses=AddressSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(AddressSerializer(address_get_for_user(user=request.user, pk=pk)).data)

    @extend_schema(
        tags=["addresses"],
        summary="Change an address (fields left out keep their value)",
        request=AddressInputSerializer,
        responses={200: AddressSerializer, 400: ErrorSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        address = address_get_for_user(user=request.user, pk=pk)
        data = AddressInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = AddressInputSerializer(address).data
        address = services.address_update(address=address, **{**current, **data.validated_data})
        return Response(AddressSerializer(address).data)

    @extend_schema(tags=["addresses"], summary="Remove an address", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.address_delete(address=address_get_for_user(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressDefaultView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["addresses"],
        summary="Make this my default address",
        request=None,
        responses=AddressSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        address = services.address_set_default(
            address=address_get_for_user(user=request.user, pk=pk)
        )
        return Response(AddressSerializer(address).data)
