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
        # Every app's Celery tasks registered at start-up, before any request thread runs:
        # the outbox checks a task's name when a transaction writes it, and importing task
        # modules lazily from concurrent request threads raced (a fresh web worker's first
        # placements found no task registered).
        from django.utils.module_loading import autodiscover_modules

        from shop.core import (
            checks,  # noqa: F401 - registers the system checks
            schema,  # noqa: F401 - registers the OpenAPI extensions
        )
        from shop.core.outbox import outbox_task_signals_connect

        autodiscover_modules("tasks")
        outbox_task_signals_connect()
