"""OpenAPI (drf-spectacular) extensions, loaded by CoreConfig.ready."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class TokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Token <token>` (shop.core.authentication, django-rest-knox tokens)."""

    target_class = "shop.core.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 - the header scheme, not a secret
        )


ERROR_SCHEMA = {
    "type": "object",
    "description": "The API's one error body (shop.core.api.exception_handler).",
    "properties": {
        "code": {"type": "string", "description": "Stable machine code, e.g. `invalid`."},
        "message": {"type": "string", "description": "What went wrong, for people."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Per-field (or per-parameter) messages, when the input was invalid.",
        },
        "details": {"description": "Machine-readable extras."},
    },
    "required": ["code", "message"],
}
ERROR_RESPONSE = {
    "description": (
        "An error, in the one error shape: 400 invalid input, 401 not signed in, 403 not "
        "allowed, 404 not found (or not yours), 405, 409 conflict, 415, 429 rate-limited "
        "(with Retry-After)."
    ),
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def error_responses(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS: every operation may answer a 4XX in the error shape, and the schema
    says so (an app must be able to read any refusal)."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = ERROR_SCHEMA
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                operation.setdefault("responses", {}).setdefault("4XX", ERROR_RESPONSE)
    return result
