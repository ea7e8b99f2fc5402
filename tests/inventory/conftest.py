import pytest
from django.db.models import F, Q, Sum

from inventory.models import Allocation, Reservation, Stock, StockMovement


def counters_agree_with_rows(stocks=None) -> list[str]:
    """Every stock row (or those given): the invariant holds and the counters equal the rows
    behind them."""
    problems = []
    for s in (Stock.objects.all() if stocks is None else stocks).order_by("pk"):
        reserved = Reservation.objects.filter(stock=s).aggregate(t=Sum("quantity"))["t"] or 0
        allocated = (
            Allocation.objects.filter(stock=s).aggregate(
                t=Sum(F("quantity") - F("shipped_quantity") - F("cancelled_quantity"))
            )["t"]
            or 0
        )
        ledger = StockMovement.objects.filter(stock=s).aggregate(t=Sum("delta"))["t"] or 0
        if min(s.on_hand, s.allocated, s.reserved) < 0:
            problems.append(f"{s.pk}: negative counter")
        if not s.backorder_allowed and s.allocated + s.reserved > s.on_hand:
            problems.append(f"{s.pk}: oversold {s.allocated}+{s.reserved}>{s.on_hand}")
        if (s.reserved, s.allocated, s.on_hand) != (reserved, allocated, ledger):
            problems.append(
                f"{s.pk}: counters {(s.reserved, s.allocated, s.on_hand)} "
                f"rows {(reserved, allocated, ledger)}"
            )
    return problems


@pytest.fixture
def assert_consistent():
    def check():
        assert counters_agree_with_rows() == []
        assert not Stock.objects.filter(
            ~Q(backorder_allowed=True), on_hand__lt=F("allocated") + F("reserved")
        ).exists()

    return check
