from django.apps import AppConfig
from django.urls import register_converter


class IdConverter:
    """`<id:pk>` in URLs: a primary key. Django's `int` takes any run of digits, and a number
    past PostgreSQL's bigint in a lookup is an error (a 500); longer runs match no URL (404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class CoreConfig(AppConfig):
    name = "shop.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        register_converter(IdConverter, "id")
        from shop.core import schema  # noqa: F401 - registers the OpenAPI extensions
