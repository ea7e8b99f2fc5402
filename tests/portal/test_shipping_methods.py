"""Shipping methods in the portal: created and edited through the service (errors beside the
field), deactivated and reordered as checkout sees them, owner/manager only, scoped, CSRF."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from orders.selectors import shipping_options
from orders.services import shipping_method_update
from pricing.models import SHIPPING_NAME_TAKEN, ShippingKind, ShippingMethod
from sellers.models import MemberRole
from tests.factories import SellerMemberFactory
from tests.factories.orders import ShippingMethodFactory

pytestmark = pytest.mark.django_db


def _data(**overrides):
    data = {
        "name": "Express",
        "kind": ShippingKind.FLAT,
        "price": "9.90",
        "price_per_kg": "0",
        "free_above": "",
    }
    data.update(overrides)
    return data


def _offered(seller):
    return [m.name for m in shipping_options(seller_ids=[seller.pk])[seller.pk]]


def test_owner_adds_a_method_checkout_then_offers_last(owner, portal_client):
    ShippingMethodFactory(seller=owner.seller, name="Standard")
    response = portal_client(owner).post(reverse("portal:shipping_new"), _data(free_above="50.00"))
    assert response.status_code == 302
    created = ShippingMethod.objects.get(seller=owner.seller, name="Express")
    assert (created.price, created.free_above, created.is_active) == (
        Decimal("9.90"),
        Decimal("50.00"),
        True,
    )
    assert _offered(owner.seller) == ["Standard", "Express"]


def test_manager_adds_a_by_weight_method(portal_client):
    manager = SellerMemberFactory(role=MemberRole.MANAGER)
    response = portal_client(manager).post(
        reverse("portal:shipping_new"),
        _data(kind=ShippingKind.WEIGHT, price="3.00", price_per_kg="1.50"),
    )
    assert response.status_code == 302
    method = ShippingMethod.objects.get(seller=manager.seller)
    assert (method.kind, method.price_per_kg) == (ShippingKind.WEIGHT, Decimal("1.50"))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": "weight", "price_per_kg": "0"}, "price_per_kg", "price per started kilogram"),
        ({"price_per_kg": "2.00"}, "price_per_kg", "A flat rate has no price per kilogram"),
        ({"price": "-1"}, "price", "Enter zero or more."),
        ({"free_above": "0"}, "free_above", "Enter an amount above 0"),
        ({"name": "standard"}, "name", "already have a shipping method with this name"),
    ],
)
def test_invalid_input_is_shown_beside_the_field_and_saves_nothing(
    owner, portal_client, overrides, field, message
):
    ShippingMethodFactory(seller=owner.seller, name="Standard")
    response = portal_client(owner).post(reverse("portal:shipping_new"), _data(**overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert b"has-error" in response.content
    assert ShippingMethod.objects.filter(seller=owner.seller).count() == 1


def test_owner_edits_a_method(owner, portal_client):
    method = ShippingMethodFactory(seller=owner.seller, name="Standard")
    url = reverse("portal:shipping_edit", args=[method.pk])
    assert b'value="Standard"' in portal_client(owner).get(url).content
    response = portal_client(owner).post(url, _data(name="Standard", price="3.50"))
    assert response.status_code == 302
    method.refresh_from_db()
    assert method.price == Decimal("3.50")


def test_deactivated_method_leaves_checkout_and_comes_back(owner, portal_client):
    method = ShippingMethodFactory(seller=owner.seller, name="Standard")
    url = reverse("portal:shipping_active", args=[method.pk])
    portal_client(owner).post(url, {"active": "0"})
    assert _offered(owner.seller) == []
    assert b"Inactive" in portal_client(owner).get(reverse("portal:shipping")).content
    portal_client(owner).post(url, {"active": "1"})
    assert _offered(owner.seller) == ["Standard"]
    for malformed in ({}, {"active": "no"}):  # changes nothing
        portal_client(owner).post(url, malformed)
        assert _offered(owner.seller) == ["Standard"]


def test_reorder_moves_one_place_and_stops_at_the_ends(owner, portal_client):
    a, _, c = (ShippingMethodFactory(seller=owner.seller, name=name, position=0) for name in "ABC")
    client = portal_client(owner)
    client.post(reverse("portal:shipping_move", args=[c.pk]), {"direction": "up"})
    assert _offered(owner.seller) == ["A", "C", "B"]
    client.post(reverse("portal:shipping_move", args=[a.pk]), {"direction": "up"})
    assert _offered(owner.seller) == ["A", "C", "B"]
    client.post(reverse("portal:shipping_move", args=[a.pk]), {"direction": "down"})
    assert _offered(owner.seller) == ["C", "A", "B"]
    assert list(
        ShippingMethod.objects.filter(seller=owner.seller).values_list("name", "position")
    ) == [("C", 0), ("A", 1), ("B", 2)]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("portal:shipping_edit", _data(name="Stolen")),
        ("portal:shipping_active", {"active": "0"}),
        ("portal:shipping_move", {"direction": "up"}),
    ],
)
def test_another_sellers_method_is_not_found_and_unchanged(
    owner, other_owner, portal_client, name, data
):
    ShippingMethodFactory(seller=other_owner.seller, name="First")
    theirs = ShippingMethodFactory(seller=other_owner.seller, name="Theirs", position=5)
    client = portal_client(owner)
    assert client.get(reverse("portal:shipping_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse(name, args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.is_active, theirs.position) == ("Theirs", True, 5)
    assert b"Theirs" not in client.get(reverse("portal:shipping")).content


def test_fulfilment_staff_are_refused(portal_client):
    member = SellerMemberFactory(role=MemberRole.FULFILMENT)
    method = ShippingMethodFactory(seller=member.seller)
    client = portal_client(member)
    assert client.get(reverse("portal:shipping")).status_code == 403
    assert client.post(reverse("portal:shipping_new"), _data()).status_code == 403
    response = client.post(reverse("portal:shipping_active", args=[method.pk]), {"active": "0"})
    assert response.status_code == 403
    assert ShippingMethod.objects.filter(seller=member.seller, is_active=True).count() == 1


def test_forms_enforce_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    response = client.post(reverse("portal:shipping_new"), _data())
    assert response.status_code == 403
    assert not ShippingMethod.objects.filter(seller=owner.seller).exists()


def test_list_queries_do_not_grow_with_methods(owner, portal_client, django_assert_num_queries):
    client = portal_client(owner)
    ShippingMethodFactory(seller=owner.seller, name="One")
    client.get(reverse("portal:shipping"))
    with django_assert_num_queries(4) as one:
        client.get(reverse("portal:shipping"))
    for index in range(8):
        ShippingMethodFactory(seller=owner.seller, name=f"More {index}")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("portal:shipping"))
    assert response.content.count(b"Deactivate") == 9


def _wait_for_a_blocked_query(timeout: float = 10.0) -> None:
    """Until some connection to this test database waits on a lock (the other side's INSERT)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)


def _rename_standard_to_express(seller) -> None:
    shipping_method_update(
        method=ShippingMethod.objects.get(seller=seller, name="Standard"),
        name="Express",
        kind=ShippingKind.FLAT,
        price=Decimal("4.99"),
    )


def _insert_express(seller) -> None:  # a writer that skips the service, e.g. the admin
    ShippingMethodFactory(seller=seller, name="Express")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("other_writer", [_rename_standard_to_express, _insert_express])
def test_a_name_taken_by_a_concurrent_write_is_the_same_form_error(
    owner, portal_client, other_writer
):
    """The other writer's row is not committed when this request checks the name, so only the
    database constraint can refuse it; the seller sees the usual error, nothing is saved twice."""
    ShippingMethodFactory(seller=owner.seller, name="Standard")
    written = threading.Event()

    def concurrent_write() -> None:
        try:
            with transaction.atomic():
                other_writer(owner.seller)
                written.set()
                _wait_for_a_blocked_query()
        finally:
            connection.close()

    other = threading.Thread(target=concurrent_write)
    other.start()
    assert written.wait(10)
    response = portal_client(owner).post(reverse("portal:shipping_new"), _data(name="express"))
    other.join()

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [SHIPPING_NAME_TAKEN]
    names = ShippingMethod.objects.filter(seller=owner.seller, name__iexact="express")
    assert list(names.values_list("name", flat=True)) == ["Express"]


def test_a_rename_onto_a_taken_name_is_refused_by_the_database_too(owner):
    """The constraint holds for any writer that skips the service's check (case-insensitive)."""
    ShippingMethodFactory(seller=owner.seller, name="Express")
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingMethodFactory(seller=owner.seller, name="EXPRESS")
    ShippingMethodFactory(name="Express")  # another seller may use the name
