"""Throwaway API views that raise each kind of error, for the exception handler's tests."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.core.errors import Conflict, ErrorCode, NotFound, ServiceError


class LineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField(min_value=1)


class OrderSerializer(serializers.Serializer):
    email = serializers.EmailField()
    lines = LineSerializer(many=True)

    def validate(self, attrs):
        if attrs["email"].endswith("@blocked.example"):
            raise serializers.ValidationError("This customer may not order.")
        return attrs


class ValidateView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"ok": True})


class ServiceErrorView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "stock":
            raise ServiceError(
                "Only 2 left of SKU-1.",
                code=ErrorCode.INSUFFICIENT_STOCK,
                fields={"quantity": ["At most 2."]},
                details={"sku": "SKU-1", "available": 2},
            )
        if kind == "conflict":
            raise Conflict("The order was already paid.")
        raise NotFound("No such order.")


class DjangoErrorView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "404":
            raise Http404("No Product matches the given query.")
        raise DjangoPermissionDenied


class PrivateView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True, "user": request.user.email})


class StaffOnlyView(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("validate/", ValidateView.as_view()),
    path("service/<str:kind>/", ServiceErrorView.as_view()),
    path("django/<str:kind>/", DjangoErrorView.as_view()),
    path("private/", PrivateView.as_view()),
    path("staff/", StaffOnlyView.as_view()),
]
