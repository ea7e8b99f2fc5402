"""Seller money API (`/api/v1/seller/...`): balance (pending / available), the ledger with
filters and its CSV export, payouts. Owners only (the "finance" action); the seller is
resolved from the `X-Seller-Id` header (else the user's only/first seller) and every row is
that seller's."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger.models import EntryKind, LedgerEntry, Payout
from ledger.selectors import ledger_entries_for_seller, payouts_for_seller
from orders.services.payouts import seller_balance
from sellers.models import Seller
from sellers.portal.finance import ledger_csv_rows
from sellers.selectors import member_require, seller_membership_get
from shop.core.errors import NotFound
from shop.core.numbers import id_parse

SELLER_HEADER = OpenApiParameter(
    "X-Seller-Id",
    int,
    OpenApiParameter.HEADER,
    required=False,
    description="The seller to act for; defaults to your only (or first) seller account.",
)


class _FinanceMixin:
    permission_classes = [IsAuthenticated]
    request: Request

    def seller(self) -> Seller:
        raw = self.request.headers.get("X-Seller-Id")
        seller_id = None
        if raw is not None:
            seller_id = id_parse(raw)
            if seller_id is None:
                raise NotFound("No seller account found.")
        membership = seller_membership_get(user=self.request.user, seller_id=seller_id)
        member_require(membership=membership, action="finance")
        return membership.seller


class BalanceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    pending = serializers.DecimalField(max_digits=20, decimal_places=2)
    available = serializers.DecimalField(max_digits=20, decimal_places=2)
    total = serializers.DecimalField(max_digits=20, decimal_places=2)


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "created_at",
            "kind",
            "amount",
            "currency",
            "order_number",
            "seller_order_id",
            "memo",
            "journal",
        ]


class PayoutSerializer(serializers.ModelSerializer):
    test = serializers.BooleanField(source="is_test")

    class Meta:
        model = Payout
        fields = [
            "id",
            "created_at",
            "kind",
            "order_number",
            "seller_order_id",
            "amount",
            "currency",
            "status",
            "reference",
            "failure_message",
            "paid_at",
            "test",
        ]


class LedgerFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EntryKind.choices, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_to": ["The end date is before the start."]})
        return attrs


LEDGER_FILTERS = [
    OpenApiParameter("kind", str, enum=EntryKind.values),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Inclusive."),
]


def _entries(view: _FinanceMixin) -> Any:
    filters = LedgerFilterSerializer(data=view.request.query_params)
    filters.is_valid(raise_exception=True)
    data = filters.validated_data
    return ledger_entries_for_seller(
        seller=view.seller(),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        kind=data.get("kind", ""),
    )


@extend_schema(tags=["seller money"], parameters=[SELLER_HEADER], responses=BalanceSerializer)
class BalanceView(_FinanceMixin, APIView):
    """What the platform owes the seller now: available (paid out at the next run) and
    pending (return window, delivery, order check or a dispute)."""

    def get(self, request: Request) -> Response:
        balance = seller_balance(seller=self.seller())
        return Response(
            BalanceSerializer(
                {
                    "currency": balance.currency,
                    "pending": balance.pending,
                    "available": balance.available,
                    "total": balance.total,
                }
            ).data
        )


@extend_schema(tags=["seller money"], parameters=[SELLER_HEADER, *LEDGER_FILTERS])
class LedgerListView(_FinanceMixin, generics.ListAPIView):
    """The seller's ledger entries, newest first."""

    serializer_class = LedgerEntrySerializer
    queryset = LedgerEntry.objects.none()  # for schema generation; get_queryset scopes

    def get_queryset(self):
        return _entries(self)


@extend_schema(
    tags=["seller money"],
    parameters=[SELLER_HEADER, *LEDGER_FILTERS],
    responses={(200, "text/csv"): OpenApiTypes.STR},
)
class LedgerExportView(_FinanceMixin, APIView):
    """The same entries as CSV (streamed)."""

    def get(self, request: Request) -> StreamingHttpResponse:
        entries = _entries(self)
        response = StreamingHttpResponse(
            ledger_csv_rows(entries), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="ledger-{timezone.now():%Y%m%d-%H%M}.csv"'
        )
        return response


@extend_schema(tags=["seller money"], parameters=[SELLER_HEADER])
class PayoutListView(_FinanceMixin, generics.ListAPIView):
    """Transfers to the seller and their reversals, newest first."""

    serializer_class = PayoutSerializer
    queryset = Payout.objects.none()  # for schema generation; get_queryset scopes

    def get_queryset(self):
        return payouts_for_seller(seller=self.seller())
