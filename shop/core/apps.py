from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shop.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Every app's Celery tasks registered at start-up, before any request thread runs:
        # the outbox checks a task's name when a transaction writes it, and importing task
        # modules lazily from concurrent request threads raced (a fresh web worker's first
        # placements found no task registered).
        from django.utils.module_loading import autodiscover_modules

        from shop.core.outbox import outbox_task_signals_connect

        autodiscover_modules("tasks")
        outbox_task_signals_connect()
