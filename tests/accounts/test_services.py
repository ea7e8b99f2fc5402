"""The address book: one parser for every face (country, postal code, region, phone), offline
geocoding, defaults; signing up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Address
from accounts.services import (
    address_clean,
    address_create,
    address_delete,
    address_set_default,
    address_update,
    user_sign_up,
)
from shop.core.errors import ValidationError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BERLIN = {
    "full_name": "Ada Lovelace",
    "line1": "Invalidenstr. 1",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def _errors(values: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        address_clean(values=values)
    return caught.value.fields


@pytest.mark.parametrize("country", ["XX", "ZZ", "D", "Germany", "12"])
def test_a_country_must_be_one_django_countries_knows(country):
    assert "country" in _errors({**BERLIN, "country": country})


def test_country_codes_in_any_case_are_accepted():
    assert address_clean(values={**BERLIN, "country": " de "})["country"] == "DE"


def test_postal_codes_follow_the_countrys_format():
    assert "postal_code" in _errors({**BERLIN, "postal_code": "1011"})
    assert "postal_code" in _errors({**BERLIN, "country": "GB", "postal_code": "12345"})
    london = {"country": "GB", "city": "London", "postal_code": "e1 6an"}
    uk = address_clean(values={**BERLIN, **london})
    assert uk["postal_code"] == "E1 6AN"
    # a country whose format the data does not describe passes as typed
    assert address_clean(values={**BERLIN, "country": "AQ", "postal_code": "x-1"})["country"]


def test_us_addresses_need_a_state_whose_zip_codes_match():
    chicago = {**BERLIN, "country": "US", "city": "Chicago", "postal_code": "60601"}
    assert "region" in _errors(chicago)
    assert address_clean(values={**chicago, "region": "Illinois"})["region"] == "IL"
    assert "postal_code" in _errors({**chicago, "region": "CA"})


def test_phone_numbers_are_checked_and_stored_as_e164():
    assert "phone" in _errors({**BERLIN, "phone": "12"})
    assert address_clean(values={**BERLIN, "phone": "030 1234567"})["phone"] == "+49301234567"
    assert address_clean(values={**BERLIN, "phone": "+1 312 555 0101"})["phone"] == ("+13125550101")


def test_required_fields_are_named():
    errors = _errors({"country": "DE"})
    assert set(errors) >= {"full_name", "line1", "city"}


def test_addresses_are_geocoded_from_shipped_data():
    user = UserFactory()
    berlin = address_create(user=user, **BERLIN)
    assert berlin.geocoded_by == "geonames:city"
    assert abs(berlin.latitude - Decimal("52.52")) < 1
    chicago = address_create(
        user=user,
        **{**BERLIN, "country": "US", "region": "IL", "city": "Chicago", "postal_code": "60601"},
    )
    assert chicago.geocoded_by == "zipcodes"
    assert abs(chicago.longitude - Decimal("-87.62")) < 1
    unknown_town = address_create(user=user, **{**BERLIN, "city": "Kleinkleckersdorf"})
    assert unknown_town.geocoded_by == "geonames:capital"  # Berlin, the capital


def test_moving_an_address_geocodes_it_again():
    address = address_create(user=UserFactory(), **BERLIN)
    address_update(address=address, **{**BERLIN, "city": "München", "postal_code": "80331"})
    address.refresh_from_db()
    assert abs(address.latitude - Decimal("48.14")) < Decimal("0.2")


def test_the_first_address_is_the_default_and_the_default_moves():
    user = UserFactory()
    first = address_create(user=user, **BERLIN)
    second = address_create(user=user, **{**BERLIN, "line1": "Other street 2"})
    assert first.is_default and not second.is_default
    address_set_default(address=second)
    assert list(Address.objects.filter(user=user, is_default=True)) == [second]
    address_delete(address=second)
    first.refresh_from_db()
    assert first.is_default


class FixedGeocoder:
    """A geopy-shaped geocoder for the test (the real ones need the network)."""

    def __init__(self, **options):
        self.options = options

    def geocode(self, query, timeout=None):
        from geopy.location import Location

        assert "Berlin" in query
        return Location(query, (52.5, 13.25), {})


def test_an_online_geocoder_refines_the_point_after_commit(
    settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.SHOP_GEOCODER = "tests.accounts.test_services.FixedGeocoder"
    settings.SHOP_GEOCODER_OPTIONS = {"user_agent": "test"}
    with django_capture_on_commit_callbacks(execute=True):
        address = address_create(user=UserFactory(), **BERLIN)
    address.refresh_from_db()
    assert address.geocoded_by == "geopy:FixedGeocoder"
    assert address.longitude == Decimal("13.250000")


def test_signup_checks_email_uniqueness_and_password_strength():
    user = user_sign_up(email="New@Example.com", password="a-long-passphrase-42")
    assert user.email == "new@example.com"
    assert user.check_password("a-long-passphrase-42")
    with pytest.raises(ValidationError) as caught:
        user_sign_up(email="NEW@example.com", password="a-long-passphrase-42")
    assert set(caught.value.fields) == {"email"}
    with pytest.raises(ValidationError) as caught:
        user_sign_up(email="other@example.com", password="password")
    assert set(caught.value.fields) == {"password"}
