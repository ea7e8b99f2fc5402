from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Product search and the listing engines (PostgreSQL, OpenSearch). It has no models of its
    own: the search columns and tables it fills belong to catalog's products. The services
    that change what search shows mark products dirty themselves (`search.services`); its
    Celery tasks are registered with every app's (`shop.core.apps`)."""

    name = "search"
    verbose_name = "Search"
