"""API authentication. Its own module: DRF imports authentication classes while it sets up its
views, so they must not import rest_framework.views (shop.core.api does)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from shop.core.db import columns, hot_cursor, instances


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (same header, same answers) with the lookup of the token and
    its user as one prepared statement (`shop.core.db`): every app request runs it, and the ORM
    spent more CPU building the query than PostgreSQL spent answering it."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user_model = get_user_model()
        sql = (
            f"SELECT {columns(Token, 't')}, {columns(user_model, 'u')} "  # noqa: S608 - model names
            f"FROM {Token._meta.db_table} t "
            f"JOIN {user_model._meta.db_table} u ON u.id = t.user_id WHERE t.key = %s"
        )
        with hot_cursor() as cursor:
            cursor.execute(sql, [key])
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        (token,) = instances(Token, rows)
        (user,) = instances(user_model, rows, start=len(Token._meta.concrete_fields))
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
