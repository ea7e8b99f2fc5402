"""A request-level guard against input no view should have to think about.

- NUL characters anywhere a value can come from: the path, query parameters, form fields,
  JSON bodies (raw or escaped as \\u0000), cookies and headers. PostgreSQL cannot store or
  compare a NUL in text, so each of them was a 500 (DataError) wherever it reached a query.
- JSON nested deeper than JSON_MAX_DEPTH: Python's parser recurses per level, and a body of a
  few hundred kilobytes of `[` ran it out of stack (RecursionError, a 500), before any
  authentication, on every JSON endpoint.

- A body larger than MAX_REQUEST_BYTES (Content-Length): uploads stream to disk before any
  view could look at their size.

Refused requests get a 400 (413 for the size) before any view runs: the API's error shape under
/api/, a plain page elsewhere. Uploaded files are not inspected (images contain NUL bytes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

JSON_MAX_DEPTH = 32
TOO_LARGE = "The request body is too large."
API_PREFIX = "/api/"

# A JSON string literal, so brackets inside strings are not counted as nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")
# \u0000 as an escape: an odd number of backslashes before `u0000` (`\\u0000` is text).
_JSON_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_FORM_NUL = re.compile(rb"%00|\x00")


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (0 for a scalar)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b'""', body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _has_nul(values: Iterable[str]) -> bool:
    return any("\x00" in value for value in values)


def request_problem(request: HttpRequest) -> str | None:
    """Why the request is refused, or None (`too_large` for a body past MAX_REQUEST_BYTES)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "The Content-Length header is not a number."
    if length > settings.MAX_REQUEST_BYTES:
        return TOO_LARGE
    if "\x00" in request.path:
        return "The address contains a NUL character."
    if _has_nul(request.GET.keys()) or any(_has_nul(v) for _, v in request.GET.lists()):
        return "A query parameter contains a NUL character."
    if _has_nul(request.COOKIES.values()) or _has_nul(
        str(value) for key, value in request.META.items() if key.startswith("HTTP_")
    ):
        return "A header contains a NUL character."
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # Django reads form fields (not files) of a POST; other methods leave them to DRF,
        # whose text fields refuse NUL themselves.
        if request.method == "POST" and (
            _has_nul(request.POST.keys()) or any(_has_nul(v) for _, v in request.POST.lists())
        ):
            return "A form field contains a NUL character."
        return None
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    body = request.body
    if not body:
        return None
    if content_type == "application/json" or content_type.endswith("+json"):
        if b"\x00" in body or _JSON_ESCAPED_NUL.search(body):
            return "The JSON body contains a NUL character."
        if json_depth(body) > JSON_MAX_DEPTH:
            return f"The JSON body nests deeper than {JSON_MAX_DEPTH} levels."
    elif _FORM_NUL.search(body):
        return "The request body contains a NUL character."
    return None


class RequestGuardMiddleware:
    """Refuses (400) requests carrying NUL characters or deeply nested JSON; see the module."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_problem(request)
        if problem is None:
            return self.get_response(request)
        status = 413 if problem == TOO_LARGE else 400
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"code": "invalid", "message": problem}, status=status)
        return HttpResponse(
            render_to_string("400.html", {"message": problem}, request=None), status=status
        )
