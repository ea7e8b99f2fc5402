from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts.admin import TwoFactorAdminSite

        admin.site.__class__ = TwoFactorAdminSite
