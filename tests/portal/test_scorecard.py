"""Seller performance scorecard: every rate hand-computed from a fixture of recorded order
events, window edges, another seller's data never counted, staff list and suspend action."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus as S
from reviews.models import Review
from sellers.models import MemberRole, SellerStatus
from sellers.scorecard import seller_scorecard, seller_scorecards
from tests.factories import ProductFactory, ProductVariantFactory, SellerMemberFactory, UserFactory
from tests.factories.orders import seller_order_event, sold_seller_order

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def shipped(seller_order, *, after: timedelta):
    placed = seller_order.order.placed_at
    seller_order_event(seller_order, S.PAID, S.PROCESSING, at=placed + after / 2)
    seller_order_event(seller_order, S.PROCESSING, S.SHIPPED, at=placed + after)
    seller_order.status = S.SHIPPED
    seller_order.save(update_fields=["status"])
    return seller_order


def closed(seller_order, status, *, at, actor=None):
    seller_order_event(seller_order, seller_order.status, status, at=at, actor=actor)
    seller_order.status = status
    seller_order.save(update_fields=["status"])
    return seller_order


class Book:
    """One seller (handling time 2 days) with a hand-made order history around `now`."""

    def __init__(self, seller, staff_user):
        now = self.now = timezone.now()
        self.seller = seller
        seller.handling_time_days = 2
        seller.save(update_fields=["handling_time_days"])
        product = ProductFactory(seller=seller)
        self.variant = ProductVariantFactory(product=product)

        def order(placed_ago, status=S.PAID, **kwargs):
            return sold_seller_order(
                seller=seller,
                placed_at=now - placed_ago,
                status=status,
                variant=self.variant,
                **kwargs,
            )

        shipped(order(10 * DAY), after=1 * DAY)  # on time
        shipped(order(10 * DAY), after=3 * DAY)  # late
        cancelled = order(5 * DAY)
        closed(cancelled, S.CANCELLED, at=now - 4 * DAY, actor=staff_user)  # seller cancel
        refunded = shipped(order(20 * DAY), after=1 * DAY)
        closed(refunded, S.REFUNDED, at=now - 10 * DAY)
        buyer = UserFactory()
        shipped(order(15 * DAY, user=buyer), after=DAY)
        Review.objects.create(product=product, user=buyer, rating=1, title="Broken")
        Review.objects.filter(user=buyer).update(created_at=now - 14 * DAY)
        customer_cancelled = order(6 * DAY)
        closed(
            customer_cancelled,
            S.CANCELLED,
            at=now - 6 * DAY,
            actor=customer_cancelled.order.user,
        )
        order(1 * DAY)  # not due yet
        order(4 * DAY)  # overdue, unshipped: late
        order(3 * DAY, status=S.PENDING_PAYMENT)  # never paid: not an order yet
        shipped(order(30 * DAY), after=DAY)  # exactly on the 30-day edge: inside
        shipped(order(30 * DAY + timedelta(seconds=1)), after=3 * DAY)  # 90 days only
        shipped(order(91 * DAY), after=5 * DAY)  # outside both windows
        happy = UserFactory()
        Review.objects.create(product=product, user=happy, rating=5)
        Review.objects.filter(user=happy).update(created_at=now - 40 * DAY)


@pytest.fixture
def book(owner):
    return Book(owner.seller, owner.user)


def _rates(card):
    return {m.key: (m.count, m.out_of, m.rate, m.passed) for m in card.metrics}


def test_rates_over_30_and_90_days_are_hand_computed(book):
    thirty, ninety = seller_scorecard(seller_id=book.seller.pk, now=book.now)
    # 30 days: 9 paid orders (7 placed in the window + the edge one + the overdue one).
    assert thirty.orders == 9
    assert _rates(thirty) == {
        "defect": (3, 9, Decimal("33.33"), False),  # seller cancel, refund, 1-star review
        "late_shipment": (2, 6, Decimal("33.33"), False),  # 5 shipped + 1 overdue are due
        "cancel": (1, 9, Decimal("11.11"), False),  # the buyer's own cancel does not count
        "valid_tracking": (0, 0, None, None),
    }
    assert thirty.metric("valid_tracking").no_data_reason
    assert (thirty.rating_average, thirty.rating_count) == (Decimal("1.00"), 1)
    assert ninety.orders == 10
    assert _rates(ninety)["defect"][:3] == (3, 10, Decimal("30.00"))
    assert _rates(ninety)["late_shipment"][:3] == (3, 7, Decimal("42.86"))
    assert _rates(ninety)["cancel"][:3] == (1, 10, Decimal("10.00"))
    assert (ninety.rating_average, ninety.rating_count) == (Decimal("3.00"), 2)


def test_a_clean_record_meets_every_measured_target(owner):
    order = sold_seller_order(seller=owner.seller, placed_at=timezone.now() - 3 * DAY)
    shipped(order, after=DAY)
    thirty, _ = seller_scorecard(seller_id=owner.seller.pk)
    assert [(m.key, m.rate, m.passed) for m in thirty.metrics] == [
        ("defect", Decimal("0.00"), True),
        ("late_shipment", Decimal("0.00"), True),
        ("cancel", Decimal("0.00"), True),
        ("valid_tracking", None, None),
    ]
    assert thirty.failing == []


def test_no_orders_means_no_rate_not_zero(owner):
    thirty, _ = seller_scorecard(seller_id=owner.seller.pk)
    assert thirty.orders == 0
    assert all(m.rate is None and m.passed is None for m in thirty.metrics)


def test_another_sellers_orders_never_count(book, other_owner):
    before = seller_scorecard(seller_id=book.seller.pk, now=book.now)
    refunded = sold_seller_order(seller=other_owner.seller, placed_at=book.now - 2 * DAY)
    closed(refunded, S.REFUNDED, at=book.now - DAY)
    other_product_buyer = UserFactory()
    Review.objects.create(
        product=ProductFactory(seller=other_owner.seller), user=other_product_buyer, rating=1
    )
    assert seller_scorecard(seller_id=book.seller.pk, now=book.now) == before
    other_thirty, _ = seller_scorecard(seller_id=other_owner.seller.pk, now=book.now)
    assert (other_thirty.orders, other_thirty.metric("defect").count) == (1, 1)


def test_all_sellers_cost_two_queries(book, django_assert_num_queries):
    others = [SellerMemberFactory().seller for _ in range(5)]
    for seller in others:
        sold_seller_order(seller=seller, placed_at=book.now - DAY)
    with django_assert_num_queries(2):
        cards = seller_scorecards(seller_ids=[book.seller.pk, *(s.pk for s in others)])
    assert len(cards) == 6


def test_portal_page_shows_the_sellers_own_figures(book, owner, other_owner, portal_client):
    refunded = sold_seller_order(seller=other_owner.seller, placed_at=book.now - DAY)
    closed(refunded, S.REFUNDED, at=book.now)
    body = portal_client(owner).get(reverse("portal:scorecard")).content.decode()
    # The page's clock runs after the fixture's, so the order exactly on the 30-day edge has
    # left that window; the 90-day column is stable.
    assert "30.00%" in body and "(3 of 10)" in body
    assert "10.00%" in body and "(1 of 10)" in body
    assert "No data: no parcels shipped with tracking in this window." in body
    assert "&lt; 1%" in body and "&gt; 95%" in body
    other = portal_client(other_owner).get(reverse("portal:scorecard")).content.decode()
    assert "100.00%" in other and "(1 of 1)" in other


@pytest.mark.parametrize("role", [MemberRole.MANAGER, MemberRole.FULFILMENT])
def test_every_role_may_read_the_scorecard(portal_client, role):
    member = SellerMemberFactory(role=role)
    assert portal_client(member).get(reverse("portal:scorecard")).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("portal:scorecard"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_scorecard_lists_every_seller_with_links(book, staff_client, other_owner):
    url = reverse("admin:sellers_seller_scorecard")
    body = staff_client.get(url).content.decode()
    assert reverse("admin:sellers_seller_change", args=[book.seller.pk]) in body
    assert reverse("admin:sellers_seller_change", args=[other_owner.seller.pk]) in body
    assert "30.00%" in body and "no data" in body
    changelist = staff_client.get(reverse("admin:sellers_seller_changelist")).content.decode()
    assert url in changelist


def test_staff_scorecard_queries_do_not_grow_with_sellers(
    book, staff_client, django_assert_max_num_queries
):
    url = reverse("admin:sellers_seller_scorecard")
    staff_client.get(url)
    with django_assert_max_num_queries(9) as few:
        staff_client.get(url)
    for _ in range(6):
        seller = SellerMemberFactory().seller
        sold_seller_order(seller=seller, placed_at=book.now - DAY)
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(url)


def test_suspend_from_the_scorecard_goes_through_the_service(book, staff_client):
    changelist = reverse("admin:sellers_seller_changelist")
    selected = {"action": "suspend", "index": "0", "_selected_action": [book.seller.pk]}
    asking = staff_client.post(changelist, selected)
    assert b"Suspend sellers" in asking.content
    staff_client.post(changelist, {**selected, "apply": "1", "reason": "Defect rate 33%"})
    book.seller.refresh_from_db()
    assert (book.seller.status, book.seller.status_reason) == (
        SellerStatus.SUSPENDED,
        "Defect rate 33%",
    )


def test_non_staff_cannot_open_the_staff_scorecard(owner, portal_client):
    response = portal_client(owner).get(reverse("admin:sellers_seller_scorecard"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
