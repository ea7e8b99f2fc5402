from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo catalogue, shoppers and orders (`manage.py seed_demo`); no models."""

    name = "demo"
    verbose_name = "Demo data"
