"""The API's one error shape and one exception handler.

Every error response body is `{"code": str, "message": str, "fields": {name: [str]}}` (fields
only when there are field errors; `details` when a service adds machine-readable details).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import exception_handler as drf_exception_handler

from shop.core.errors import ErrorCode, ServiceError
from shop.core.idempotency import idempotency_owner, idempotent_call

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: str(ErrorCode.PERMISSION_DENIED),
    exceptions.NotFound: str(ErrorCode.NOT_FOUND),
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: str(ErrorCode.INVALID),
}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, list):
        out: list[str] = []
        for item in detail:
            out.extend(_flatten(item))
        return out
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    return [str(detail)]


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        response = Response(exc.as_dict(), status=exc.http_status)
        if exc.retry_after is not None:
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {str(k): _flatten(v) for k, v in detail.items()}
            message = "Some fields are invalid."
        else:
            fields = {}
            message = " ".join(_flatten(detail)) or "Invalid input."
        response.data = error_body(code, message, fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        response.data = error_body(code, " ".join(_flatten(exc.detail)))
    return response


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class ErrorSerializer(serializers.Serializer):
    """The API's one error body (`exception_handler` above; use it in `extend_schema` responses)."""

    code = serializers.CharField(help_text="Stable machine code, e.g. `invalid`, `not_found`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field (or per-parameter) messages, when the input was invalid.",
    )
    details = serializers.JSONField(required=False, help_text="Machine-readable extras.")


class ModelSerializerBuiltOnce(serializers.ModelSerializer):
    """A ModelSerializer whose fields are built from the model once per class; each use gets
    fresh field instances made from the same arguments. DRF builds them from the model's
    metadata for every serializer instance, and deep-copies declared ones: for the order detail
    that placement answers with, that cost more CPU than serialising the data. The fields depend
    only on the class and its Meta; plain fields never change their arguments (choices,
    querysets, validators), so sharing them is safe. Fields that take another field or
    serializer as an argument (ListField's and DictField's `child` binds that instance to its
    parent) and nested serializers are deep-copied, as DRF does."""

    _fields_built: ClassVar[dict[type, dict[str, serializers.Field]]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        built = self._fields_built.get(type(self))
        if built is None:
            built = self._fields_built[type(self)] = super().get_fields()
        return {
            name: copy.deepcopy(field)
            if _holds_a_field(field)
            else type(field)(*field._args, **field._kwargs)
            for name, field in built.items()
        }


def _holds_a_field(field: serializers.Field) -> bool:
    arguments = [field, *field._args, *field._kwargs.values()]
    return any(
        isinstance(a, serializers.BaseSerializer)
        or (a is not field and isinstance(a, serializers.Field))
        for a in arguments
    )


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "A key of your choice (1-255 characters) that makes a retry safe: the same key with "
        "the same body returns the first response (header `Idempotent-Replayed: true`) "
        "without doing the work again; with another body it is refused with 409 "
        "`idempotency_conflict`. While the first request runs, a retry gets 409 `conflict` "
        "with `Retry-After`. Keys are kept for 24 hours."
    ),
)


def idempotent_response(
    *,
    request: Request,
    scope: str,
    operation: Callable[[], tuple[int, Any]],
    guest_key: str = "",
) -> Response:
    """Run an API write (`operation` returns (status, body)) under the request's
    Idempotency-Key header when it has one (`shop.core.idempotency`), else plainly. Keys are
    the signed-in user's, or a guest's told apart by `guest_key` (its cart token)."""
    key = request.headers.get("Idempotency-Key")
    owner = idempotency_owner(user=request.user, guest_key=guest_key)
    if key is None or not owner:
        code, body = operation()
        return Response(body, status=code)
    stored = idempotent_call(
        owner=owner,
        user=request.user,
        key=key,
        scope=scope,
        payload=request.data,
        operation=lambda: _json_safe(operation()),
    )
    response = Response(stored.body, status=stored.status)
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _json_safe(result: tuple[int, Any]) -> tuple[int, Any]:
    """Decimals and dates as the API renders them, so a replay is byte-for-byte the same."""
    code, body = result
    return code, json.loads(json.dumps(body, cls=JSONEncoder))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: the error shape under /api/ (a URL that matches no route), Django's page
    elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(str(ErrorCode.NOT_FOUND), "Not found."), status=404)
    return defaults.page_not_found(request, exception)
