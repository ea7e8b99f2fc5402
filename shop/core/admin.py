"""Admin pieces shared by the apps."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from shop.core.errors import ServiceError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services (ledgers, derived tables): staff may look, not edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceRefusalAsMessage:
    """For admins whose saves call services: the form checks what it can, but a service may
    still refuse at save time (a rule the form cannot see, or state that changed since the
    check). The refusal rolls the admin's whole save back (it runs in one transaction) and
    comes back as an error message on the same page, not a server error."""

    def changeform_view(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]
        except ServiceError as exc:
            details = " ".join(
                f"{name.replace('_', ' ').capitalize()}: {' '.join(errors)}"
                for name, errors in exc.fields.items()
            )
            messages.error(request, f"Nothing was saved: {exc.message} {details}".strip())
            return HttpResponseRedirect(request.get_full_path())


class RecordAdmin(admin.ModelAdmin):
    """Records of what happened (orders, their events, checkouts): staff look and act through
    the services' actions; nothing is added or deleted here, and no field is edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
