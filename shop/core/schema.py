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
