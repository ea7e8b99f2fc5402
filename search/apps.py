from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Product search and the listing engines (PostgreSQL, OpenSearch). It has no models of its
    own: the search columns and tables it fills belong to catalog's products."""

    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        # search keeps its index fresh through signals and runs Celery tasks of its own
        from search import signals, tasks  # noqa: F401

        signals.stock_signal_connect()
