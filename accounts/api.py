"""Accounts over the API: sign up, tokens, who am I, and the address book. Thin callers of
accounts.services and accounts.selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Address, User
from accounts.selectors import address_get_for_user, address_list_for_user
from accounts.serializers import (
    AddressInputSerializer,
    AddressSerializer,
    MeSerializer,
    SignupResponseSerializer,
    SignupSerializer,
)
from accounts.services import (
    address_create,
    address_delete,
    address_set_default,
    address_update,
    user_signup,
)
from sellers.selectors import seller_memberships_for_user
from shop.core.api import ErrorSerializer

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


@extend_schema(tags=["auth"], summary="Exchange email and password for an API token")
class TokenObtainView(ObtainAuthToken):
    """POST `username` (the email address) and `password`; returns `{"token": ...}`.
    Send it as `Authorization: Token <token>` on later requests."""


class SignupView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=["auth"],
        summary="Sign up: create a shopper account and get its API token",
        description=(
            "The email must be new; the password passes the same checks as the storefront's "
            "sign-up form (length, not common, not all digits, not like the email). Errors "
            "come back per field (`fields.email`, `fields.password`)."
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
                    "token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
                    "email": "ada@example.com",
                    "full_name": "Ada Lovelace",
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_signup(**data.validated_data)
        token, _ = Token.objects.get_or_create(user=user)
        return Response(
            {"token": token.key, "email": user.email, "full_name": user.full_name},
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
                    "seller_memberships": memberships,
                }
            ).data
        )


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
        address = address_create(user=request.user, **data.validated_data)
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
        address = address_update(address=address, **{**current, **data.validated_data})
        return Response(AddressSerializer(address).data)

    @extend_schema(tags=["addresses"], summary="Remove an address", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        address_delete(address=address_get_for_user(user=request.user, pk=pk))
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
        address = address_set_default(address=address_get_for_user(user=request.user, pk=pk))
        return Response(AddressSerializer(address).data)
