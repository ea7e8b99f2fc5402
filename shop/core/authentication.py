"""API authentication. Its own module: DRF imports authentication classes while it sets up its
views, so they must not import rest_framework.views (shop.core.api does)."""

from __future__ import annotations

from hmac import compare_digest
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from rest_framework import exceptions

from shop.core.db import columns, hot_cursor, instances


class TokenAuthentication(KnoxTokenAuthentication):
    """django-rest-knox tokens (`Authorization: Token <token>`; stored as SHA-512 digests,
    expiring, revocable) with the lookup of the live tokens sharing the key's prefix and their
    users as one prepared statement (`shop.core.db`): every app request runs it. Unlike knox's
    own lookup it writes nothing per request: expired tokens are simply not found, and the
    beat task `api_tokens_delete_expired_task` deletes them."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        token_model, user_model = get_token_model(), get_user_model()
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        sql = (
            f"SELECT {columns(token_model, 't')}, {columns(user_model, 'u')} "  # noqa: S608
            f"FROM {token_model._meta.db_table} t "
            f"JOIN {user_model._meta.db_table} u ON u.id = t.user_id "
            "WHERE t.token_key = %s AND (t.expiry IS NULL OR t.expiry > now())"
        )
        with hot_cursor() as cursor:
            cursor.execute(sql, [text[: CONSTANTS.TOKEN_KEY_LENGTH]])
            rows = cursor.fetchall()
        digest = hash_token(text) if rows else ""
        width = len(token_model._meta.concrete_fields)
        for auth_token, user in zip(
            instances(token_model, rows), instances(user_model, rows, start=width), strict=True
        ):
            if compare_digest(digest, auth_token.digest):
                auth_token.user = user
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(_("Invalid token."))
