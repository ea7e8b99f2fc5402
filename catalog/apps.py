from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # search keeps its index fresh through signals and runs Celery tasks of its own
        from catalog.search import signals, tasks  # noqa: F401

        signals.stock_signal_connect()
