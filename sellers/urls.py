from django.urls import path

from sellers import views

app_name = "sellers"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/done/", views.apply_done, name="apply_done"),
]
