"""The one parser of numbers that come from outside: query parameters (catalog and search
filters), form fields (`shop.core.fields`) and API fields alike.

A number is refused before it reaches PostgreSQL unless the column it is compared with or
stored in can hold it: Python's Decimal takes `sNaN`, `Infinity`, `1e-999999` and `10**20`,
and PostgreSQL answers each with an error (invalid operation, numeric overflow, integer out of
range) that would be a 500.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# PostgreSQL's `integer` (IntegerField, PositiveIntegerField, ...) and `bigint` (primary keys).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# Longest text accepted for a number: enough for any value the columns hold.
MAX_NUMBER_CHARS = 64
_WHOLE = re.compile(r"[+-]?[0-9]+")


class NumberError(ValueError):
    """Not a number the caller accepts; the message is for people, `code` says why:
    `invalid` (not a finite number), `places` (too fine a fraction) or `range`."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def decimal_parse(
    raw: object,
    *,
    max_digits: int,
    decimal_places: int,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
) -> Decimal:
    """`raw` (text, int or Decimal; never float or bool) as a finite Decimal that fits
    `numeric(max_digits, decimal_places)` and the bounds. Trailing zeros past the places are
    fine (`1.500` for 2 places); a finer fraction is refused, never rounded."""
    if isinstance(raw, bool | float) or not isinstance(raw, str | int | Decimal):
        raise NumberError("Enter a number.")
    text = str(raw).strip()
    if not text or len(text) > MAX_NUMBER_CHARS:
        raise NumberError("Enter a number.")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise NumberError("Enter a number.") from None
    if not number.is_finite():
        raise NumberError("Enter a number.")
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -decimal_places:
        raise NumberError(f"Use at most {decimal_places} decimal places.", code="places")
    limit = Decimal(10) ** (max_digits - decimal_places)
    if abs(number) >= limit:
        raise NumberError(f"Enter a number between -{limit} and {limit}.", code="range")
    if min_value is not None and number < min_value:
        raise NumberError(f"Enter {min_value} or more.", code="range")
    if max_value is not None and number > max_value:
        raise NumberError(f"Enter {max_value} or less.", code="range")
    return number


def integer_parse(
    raw: object, *, min_value: int | None = INT_MIN, max_value: int | None = INT_MAX
) -> int:
    """`raw` (text or int; never float or bool) as a whole number within the bounds, which
    default to PostgreSQL's `integer` (None: a form or API field checks its own bounds). `3.0`
    and `1e3` are not whole numbers here."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise NumberError("Enter a whole number.")
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > MAX_NUMBER_CHARS or not _WHOLE.fullmatch(text):
            raise NumberError("Enter a whole number.")
        raw = int(text)
    if min_value is not None and raw < min_value:
        raise NumberError(f"Enter {min_value} or more.", code="range")
    if max_value is not None and raw > max_value:
        raise NumberError(f"Enter {max_value} or less.", code="range")
    return raw


def id_parse(raw: object) -> int | None:
    """A primary key from outside (a path segment, a form's hidden id), or None when it cannot
    be one: the caller answers not found."""
    try:
        return integer_parse(raw, min_value=1, max_value=BIGINT_MAX)
    except NumberError:
        return None


def id_lookup(raw: object) -> int:
    """A primary key from outside for a lookup: 0 (no row has it) when it cannot be one."""
    return id_parse(raw) or 0
